from django.core.management.base import BaseCommand

from apps.arena.services.demo_votes import demo_votes_remove, demo_votes_seed


class Command(BaseCommand):
    help = (
        "Seed the clearly labelled simulated arena votes a fresh site shows (idempotent), or "
        "remove them with --remove. Either way the leaderboard is recomputed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--remove", action="store_true", help="Delete every simulated vote and its battle."
        )

    def handle(self, *args, remove: bool, **options):
        if remove:
            self.stdout.write(f"Demo votes: {demo_votes_remove()} simulated votes removed.")
            return
        cast = demo_votes_seed()
        self.stdout.write(
            f"Demo votes: {cast} simulated votes cast (labelled on the arena and leaderboard)."
            if cast
            else "Demo votes: already seeded, none added."
        )
