"""Synthetic catalog data in bulk, for query-count tests and benchmarks.

    manage.py generate_dataset --models 300 --challenges 200 --coverage 0.67

Everything it creates has slugs starting with `gen-`, so `--clear` removes exactly that.
Rows are written with bulk_create in a few statements per table; responses through
responses_create_bulk, which stores each one's rendering (computed once per distinct content).
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from apps.catalog.models import AIModel, Capability, Modality, Provider
from apps.challenges.models import Category, Challenge, OutputType
from apps.responses.models import Response
from apps.responses.services import responses_create_bulk
from rival.cacheversion import content_version_bump

PREFIX = "gen-"
BATCH = 2000

CAPABILITIES = ["conversation", "reasoning", "code-generation", "analysis", "tool-use"]
MODALITIES = ["text", "code", "vision", "multimodal"]
CATEGORIES = ["writing", "reasoning", "coding", "web-design", "svg-art"]
OUTPUT_BY_CATEGORY = {
    "writing": OutputType.TEXT,
    "reasoning": OutputType.TEXT,
    "coding": OutputType.CODE,
    "web-design": OutputType.HTML,
    "svg-art": OutputType.SVG,
}
CONTENT = {
    OutputType.TEXT: [
        "## Answer\n\nA **short** answer with a list:\n\n- one\n- two\n\nAnd a [link](https://example.com).",
        "Here is my reasoning, step by step.\n\n1. First.\n2. Second.\n\n> A quoted conclusion.",
    ],
    OutputType.CODE: [
        "```python\ndef add(a, b):\n    return a + b\n```",
        "```javascript\nconst add = (a, b) => a + b;\n```",
    ],
    OutputType.HTML: [
        "<!doctype html><title>t</title><h1>Hello</h1><script>document.title='x'</script>",
    ],
    OutputType.SVG: [
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        '<circle cx="5" cy="5" r="4"/></svg>',
    ],
}


class Command(BaseCommand):
    help = "Create a synthetic dataset (gen-* slugs) with bulk inserts."

    def add_arguments(self, parser):
        parser.add_argument("--models", type=int, default=30)
        parser.add_argument("--challenges", type=int, default=20)
        parser.add_argument(
            "--coverage", type=float, default=1.0, help="Share of model×challenge pairs answered."
        )
        parser.add_argument("--providers", type=int, default=0, help="Default: models / 8.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--clear", action="store_true", help="Delete gen-* rows first.")

    def handle(self, *args, **options):
        if options["models"] < 0 or options["challenges"] < 0:
            raise CommandError("--models and --challenges must be zero or more.")
        if not 0 <= options["coverage"] <= 1:
            raise CommandError("--coverage must be between 0 and 1.")
        rng = random.Random(options["seed"])
        with transaction.atomic():
            if options["clear"]:
                clear()
            counts = generate(
                rng,
                models=options["models"],
                challenges=options["challenges"],
                coverage=options["coverage"],
                providers=options["providers"] or max(1, options["models"] // 8),
            )
            content_version_bump()  # bulk_create sends no signals
        self.stdout.write(
            "Generated {providers} creators, {models} models, {challenges} challenges, "
            "{responses} responses.".format(**counts)
        )


def clear() -> None:
    Response.objects.filter(model__slug__startswith=PREFIX).delete()
    Response.objects.filter(challenge__slug__startswith=PREFIX).delete()
    AIModel.objects.filter(slug__startswith=PREFIX).delete()
    Challenge.objects.filter(slug__startswith=PREFIX).delete()
    Provider.objects.filter(slug__startswith=PREFIX).delete()


def _lookup(model, slugs):
    existing = {obj.slug: obj for obj in model.objects.filter(slug__in=slugs)}
    missing = [model(slug=s, name=s.replace("-", " ").title()) for s in slugs if s not in existing]
    model.objects.bulk_create(missing)
    return list(model.objects.filter(slug__in=slugs).order_by("slug"))


def _status(rng) -> dict:
    """About one model in twenty is retired, so the graveyard has residents."""
    if rng.random() < 0.05:
        return {
            "status": AIModel.Status.RETIRED,
            "retired_on": date(2025, 1, 1) + timedelta(days=rng.randrange(300)),
            "retirement_reason": "Replaced by a newer version.",
        }
    return {"status": AIModel.Status.ACTIVE}


def generate(rng, *, models: int, challenges: int, coverage: float, providers: int) -> dict:
    start = Provider.objects.filter(slug__startswith=PREFIX).count()
    provider_rows = Provider.objects.bulk_create(
        Provider(slug=f"{PREFIX}creator-{start + i}", name=f"Gen Creator {start + i}")
        for i in range(providers)
    )
    capabilities = _lookup(Capability, CAPABILITIES)
    modalities = _lookup(Modality, MODALITIES)
    categories = _lookup(Category, CATEGORIES)

    first = AIModel.objects.filter(slug__startswith=PREFIX).count()
    sizes = [choice for choice, _ in AIModel.Size.choices]
    model_rows = AIModel.objects.bulk_create(
        [
            AIModel(
                slug=f"{PREFIX}model-{first + i}",
                name=f"Gen Creator: Model {first + i}",
                provider=rng.choice(provider_rows),
                release_date=date(2023, 1, 1) + timedelta(days=rng.randrange(1000)),
                size_class=rng.choice(sizes),
                parameters_total=rng.choice([7, 70, 235, 400]) * 10**9,
                context_length=rng.choice([8192, 32768, 131072, 1_000_000]),
                price_input_per_mtok=Decimal(rng.randrange(1, 1500)) / 100,
                price_output_per_mtok=Decimal(rng.randrange(1, 6000)) / 100,
                gateway_model_id=f"gen/model-{first + i}",
                **_status(rng),
            )
            for i in range(models)
        ],
        batch_size=BATCH,
    )
    Through = AIModel.capabilities.through
    Through.objects.bulk_create(
        [
            Through(aimodel_id=m.pk, capability_id=c.pk)
            for m in model_rows
            for c in rng.sample(capabilities, 3)
        ],
        batch_size=BATCH,
    )
    ModThrough = AIModel.modalities.through
    ModThrough.objects.bulk_create(
        [
            ModThrough(aimodel_id=m.pk, modality_id=c.pk)
            for m in model_rows
            for c in rng.sample(modalities, 2)
        ],
        batch_size=BATCH,
    )

    first_challenge = Challenge.objects.filter(slug__startswith=PREFIX).count()
    challenge_rows = []
    for i in range(challenges):
        category = categories[i % len(categories)]
        challenge_rows.append(
            Challenge(
                slug=f"{PREFIX}challenge-{first_challenge + i}",
                title=f"Generated challenge {first_challenge + i}",
                prompt=f"Generated prompt number {first_challenge + i}.",
                category=category,
                output_type=OUTPUT_BY_CATEGORY[category.slug],
                is_published=True,
            )
        )
    Challenge.objects.bulk_create(challenge_rows, batch_size=BATCH)

    now = timezone.now()
    responses = []
    for challenge in challenge_rows:
        for model in model_rows:
            if coverage < 1 and rng.random() >= coverage:
                continue
            content = rng.choice(CONTENT[challenge.output_type])
            responses.append(
                Response(
                    model=model,
                    challenge=challenge,
                    prompt=challenge.prompt,
                    output_type=challenge.output_type,
                    content=content,
                    source=Response.Source.DEMO,
                    collected_at=(collected := now - timedelta(minutes=rng.randrange(100_000))),
                    public_from=collected,
                    tokens_in=rng.randrange(20, 200),
                    tokens_out=rng.randrange(50, 4000),
                    latency_ms=rng.randrange(200, 30_000),
                    finish_reason="stop",
                    settings={"model_id": model.gateway_model_id, "temperature": 0.7},
                )
            )
    responses_create_bulk(responses, batch_size=BATCH)
    return {
        "providers": len(provider_rows),
        "models": len(model_rows),
        "challenges": len(challenge_rows),
        "responses": len(responses),
    }
