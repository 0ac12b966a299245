import secrets
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.catalog.models import AIModel, Capability, Gateway, Modality, Provider
from apps.challenges.models import Category, Challenge
from apps.collection import demo_catalog
from apps.collection.services import response_collect

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Load the demo catalog and generate its responses with the offline demo gateway."

    def add_arguments(self, parser):
        parser.add_argument(
            "--admin",
            action="store_true",
            help=f"Create the superuser {ADMIN_USERNAME!r} with a new random password; print it.",
        )

    def handle(self, *args, admin: bool, **options):
        with transaction.atomic():
            models, challenges = load_catalog()
        created = 0
        for model in models:
            for challenge in challenges:
                _, was_created = response_collect(model=model, challenge=challenge)
                created += was_created
        self.stdout.write(
            f"Demo data: {len(models)} models, {len(challenges)} challenges, "
            f"{created} new responses."
        )
        if admin:
            password = admin_reset()
            self.stdout.write(f"Admin login: {ADMIN_USERNAME} / {password}")


def load_catalog() -> tuple[list[AIModel], list[Challenge]]:
    """Upsert the demo catalog. Idempotent: running it twice changes nothing."""
    gateway = Gateway.objects.get_or_create(name="demo", defaults={"kind": Gateway.Kind.DEMO})[0]
    providers = {
        row["slug"]: Provider.objects.update_or_create(slug=row["slug"], defaults=row)[0]
        for row in demo_catalog.PROVIDERS
    }
    capabilities = {
        slug: Capability.objects.update_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in demo_catalog.CAPABILITIES
    }
    modalities = {
        slug: Modality.objects.update_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in demo_catalog.MODALITIES
    }
    categories = {
        slug: Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )[0]
        for position, (slug, name) in enumerate(demo_catalog.CATEGORIES)
    }
    models = []
    for row in demo_catalog.MODELS:
        row = dict(row)
        caps = row.pop("capabilities", [])
        mods = row.pop("modalities", [])
        row["provider"] = providers[row["provider"]]
        row["release_date"] = date.fromisoformat(row["release_date"])
        for price in ("price_input_per_mtok", "price_output_per_mtok"):
            if price in row:
                row[price] = Decimal(row[price])
        model, _ = AIModel.objects.update_or_create(
            slug=row["slug"], defaults={**row, "gateway": gateway}
        )
        model.capabilities.set([capabilities[c] for c in caps])
        model.modalities.set([modalities[m] for m in mods])
        models.append(model)
    challenges = []
    for row in demo_catalog.CHALLENGES:
        row = {**row, "category": categories[row["category"]], "is_published": True}
        challenges.append(Challenge.objects.update_or_create(slug=row["slug"], defaults=row)[0])
    return models, challenges


def admin_reset() -> str:
    """Create or reset the demo superuser with a fresh random password, returned once."""
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username=ADMIN_USERNAME)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return password
