from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.datasets.importer import dataset_read, dataset_write


class Command(BaseCommand):
    help = (
        "Import a dataset folder in the rival-early JSON Lines format (models.jsonl, "
        "challenges.jsonl, responses.jsonl and images). Idempotent. Any invalid record stops "
        "the import with nothing written, unless --skip-invalid is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="The dataset folder.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid records and report the invalid ones instead of stopping.",
        )

    def handle(self, *args, directory: Path, skip_invalid: bool, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        dataset = dataset_read(directory)
        report = "\n".join(str(problem) for problem in dataset.problems)
        if dataset.problems and not skip_invalid:
            raise CommandError(
                f"{len(dataset.problems)} invalid record(s); nothing was imported "
                f"(use --skip-invalid to import the valid ones):\n{report}"
            )
        if dataset.problems:
            self.stderr.write(f"Skipped {len(dataset.problems)} invalid record(s):\n{report}")
        result = dataset_write(dataset)
        for note in result.notes:
            self.stderr.write(note)
        self.stdout.write(
            f"Imported {result.models} models, {result.challenges} challenges, "
            f"{result.responses} responses ({result.images} new image files) from {directory}."
        )
