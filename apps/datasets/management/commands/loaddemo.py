import hashlib
import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from apps.catalog.models import AIModel, Gateway
from apps.catalog.services import model_upsert, provider_ensure
from apps.challenges.models import Challenge, OutputType
from apps.challenges.services import category_ensure, challenge_upsert
from apps.datasets.demo_catalog import demo_catalog
from apps.datasets.importer import dataset_read, dataset_write
from apps.gateways.calls import completion_request_for
from apps.gateways.demo import DemoClient
from apps.responses.models import Response
from apps.responses.services import responses_create_bulk, responses_release_due

ADMIN_USERNAME = "admin"
# Real responses and images shipped with the project (MIT; see its README for attribution).
RIVAL_EARLY = Path(__file__).resolve().parents[2] / "data" / "rival-early"
CURATION_FIELDS = ("status", "retired_on", "retirement_reason", "featured")
# With --real-data, how many demo models answer the real challenges for the blind pool.
REAL_DATA_ARENA_MODELS = 6


class Command(BaseCommand):
    help = (
        "Load the demo catalog and generate one response per (model, challenge) with the "
        "offline demo gateway. Idempotent: a second run adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--admin",
            action="store_true",
            help=f"Create the superuser {ADMIN_USERNAME!r} with a new random password; print it.",
        )
        parser.add_argument(
            "--real-data",
            action="store_true",
            help=(
                "Import the bundled rival-early dataset (real responses and images) and load "
                "only the demo catalog's models, for the Lab: no generated challenges or "
                "responses."
            ),
        )
        parser.add_argument(
            "--no-votes",
            action="store_true",
            help="Remove the simulated arena votes instead of seeding them.",
        )

    def handle(self, *args, admin: bool, real_data: bool, no_votes: bool, **options):
        with transaction.atomic():
            if real_data:
                self.stdout.write(rival_early_import())
            models, challenges = load_catalog(with_challenges=not real_data)
            spread_days = 14
            if real_data:
                # A few demo models answer the real challenges too (text, code, HTML, SVG),
                # all within the last day: those answers stay in the arena's blind pool, so
                # it has battles, and never show as filler on the public pages.
                spread_days = 1
                models = [m for m in models if m.status == AIModel.Status.ACTIVE][
                    :REAL_DATA_ARENA_MODELS
                ]
                challenges = list(
                    Challenge.objects.published().filter(
                        output_type__in=[
                            OutputType.TEXT,
                            OutputType.CODE,
                            OutputType.HTML,
                            OutputType.SVG,
                        ]
                    )
                )
            created = demo_responses_generate(
                models=models, challenges=challenges, spread_days=spread_days
            )
            # Demo answers are dated over the last two weeks: the older ones go public now,
            # the newer ones stay in the blind pool the arena draws from (docs/arena.md).
            released = responses_release_due()
        self.stdout.write(
            f"Demo data: {len(models)} models, {len(challenges)} challenges, "
            f"{created} new responses ({released} released to the public pages)."
        )
        # Votes belong to the arena, a layer above this app: seeded or removed through its
        # own command, by name, so nothing here imports the arena.
        call_command("demo_votes", remove=no_votes, stdout=self.stdout)
        if admin:
            password = admin_reset()
            self.stdout.write(f"Admin login: {ADMIN_USERNAME} / {password}")


def rival_early_import() -> str:
    """Import the bundled rival-early dataset once, skipping its few invalid records, and
    return a summary line. Once imported responses exist it does nothing (a re-import costs
    seconds on every start of `make run`); `import_dataset` re-imports on purpose."""
    if Response.objects.filter(source=Response.Source.IMPORT).exists():
        return "rival-early: already imported."
    dataset = dataset_read(RIVAL_EARLY)
    result = dataset_write(dataset)
    return (
        f"rival-early: {result.models} models, {result.challenges} challenges, "
        f"{result.responses} responses ({result.images} new image files, "
        f"{len(dataset.problems)} invalid records skipped)."
    )


def load_catalog(*, with_challenges: bool = True) -> tuple[list[AIModel], list[Challenge]]:
    """Upsert the demo catalog (its models only, without `with_challenges`). Idempotent.

    Model facts (names, dates, prices…) are refreshed from the catalog on every run; what a
    curator decides — a model's status and retirement, featuring, a challenge's text and
    publication — is only set when the row is first created.
    """
    catalog = demo_catalog()
    gateway = Gateway.objects.get_or_create(name="demo", defaults={"kind": Gateway.Kind.DEMO})[0]
    providers = {row["slug"]: provider_ensure(**row, update=True) for row in catalog["providers"]}
    categories = {
        row["slug"]: category_ensure(slug=row["slug"], name=row["name"], position=position)
        for position, row in enumerate(catalog["categories"])
    }
    models = []
    for row in catalog["models"]:
        facts = {
            key: value
            for key, value in row.items()
            if key not in {"slug", "provider", "capabilities", "modalities", *CURATION_FIELDS}
        }
        facts["release_date"] = date.fromisoformat(row["release_date"])
        for price in ("price_input_per_mtok", "price_output_per_mtok"):
            if price in facts:
                facts[price] = Decimal(facts[price])
        # Demo answers cost nothing, so the demo models start out offered in the Lab and in
        # live battles.
        initial = {
            "lab_enabled": True,
            "live_battle_enabled": True,
            **{key: row[key] for key in CURATION_FIELDS if key in row},
        }
        if "retired_on" in initial:
            initial["retired_on"] = date.fromisoformat(initial["retired_on"])
        model, _ = model_upsert(
            slug=row["slug"],
            provider=providers[row["provider"]],
            facts={**facts, "gateway": gateway},
            capabilities=row.get("capabilities", []),
            modalities=row.get("modalities", []),
            initial=initial,
        )
        models.append(model)
    loaded = []
    for row in catalog["challenges"] if with_challenges else ():
        fields = {k: v for k, v in row.items() if k not in {"slug", "featured"}}
        fields["category"] = categories[row["category"]]
        challenge, _ = challenge_upsert(
            slug=row["slug"],
            fields=fields,
            initial={"is_published": True, "featured": row.get("featured", False)},
            update=False,
        )
        loaded.append(challenge)
    return models, loaded


def demo_responses_generate(
    *, models: list[AIModel], challenges: list[Challenge], spread_days: int = 14
) -> int:
    """Store a demo-gateway response for every (model, challenge) pair that has no published
    response yet; returns how many were stored. Idempotent.

    Retired models get answers too, dated before their retirement: the graveyard shows a
    model's last responses.
    """
    existing = set(
        Response.objects.filter(
            is_published=True, model__in=models, challenge__in=challenges
        ).values_list("model_id", "challenge_id")
    )
    # The demo generator runs in-process and reaches no provider, so it is called directly
    # rather than through gateways.calls: its limits would only slow hundreds of answers down.
    client = DemoClient()
    now = timezone.now()
    new = []
    for model in models:
        for challenge in challenges:
            if (model.pk, challenge.pk) in existing:
                continue
            request = completion_request_for(model, challenge)
            completion = client.complete(request)
            new.append(
                Response(
                    model=model,
                    challenge=challenge,
                    prompt=request.prompt,
                    settings={**request.sent_settings(), "gateway": "demo"},
                    output_type=challenge.output_type,
                    source=Response.Source.DEMO,
                    collected_at=_collected_at(model, challenge, now, spread_days),
                    cost_usd=completion.cost_usd,
                    **completion.response_fields(),
                    is_published=True,
                )
            )
    # Hundreds of rows in one statement; a concurrent run's duplicates are no-ops.
    return responses_create_bulk(new)


def _collected_at(
    model: AIModel, challenge: Challenge, now: datetime, spread_days: int
) -> datetime:
    """A stable, spread-out collection time: the last `spread_days` days, or the weeks
    before a retired model's retirement."""
    digest = hashlib.sha256(f"{model.slug}\0{challenge.slug}".encode()).digest()
    minutes_ago = int.from_bytes(digest[:4], "big") % (spread_days * 24 * 60)
    if model.status == AIModel.Status.RETIRED and model.retired_on:
        end = datetime.combine(model.retired_on, time(12), tzinfo=UTC)
        return end - timedelta(days=2, minutes=minutes_ago)
    return now - timedelta(minutes=minutes_ago)


def admin_reset() -> str:
    """Create or reset the demo superuser with a fresh random password, returned once."""
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username=ADMIN_USERNAME)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return password
