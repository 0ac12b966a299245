"""Plain factories for the core models; each test builds exactly what it needs."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.db import transaction
from django.utils import timezone

from apps.arena.models import Battle, LeaderboardRow, LeaderboardSnapshot, Vote
from apps.catalog.models import AIModel, Capability, Gateway, Modality, Provider
from apps.challenges.models import Category, Challenge
from apps.responses.models import Response
from rival.web import visitors


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"creator-{n}")
    name = factory.Sequence(lambda n: f"Creator {n}")


class CapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Capability
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"capability-{n}")
    name = factory.Sequence(lambda n: f"Capability {n}")


class ModalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Modality
        django_get_or_create = ["slug"]

    slug = "text"
    name = "Text"


def demo_gateway() -> Gateway:
    # Created by a data migration; tests that flush the database get it back here.
    gateway, _ = Gateway.objects.get_or_create(name="demo", defaults={"kind": Gateway.Kind.DEMO})
    return gateway


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel

    slug = factory.Sequence(lambda n: f"model-{n}")
    name = factory.LazyAttribute(lambda o: f"{o.provider.name}: Model {o.slug}")
    provider = factory.SubFactory(ProviderFactory)
    release_date = factory.Faker("date_between", start_date="-2y", end_date="today")
    size_class = AIModel.Size.LARGE
    context_length = 128_000
    price_input_per_mtok = Decimal("1.00")
    price_output_per_mtok = Decimal("4.00")
    gateway = factory.LazyFunction(demo_gateway)
    gateway_model_id = factory.LazyAttribute(lambda o: o.slug)
    # On the free demo gateway, offered in the Lab (the model's own default is off).
    lab_enabled = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class ChallengeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Challenge

    slug = factory.Sequence(lambda n: f"challenge-{n}")
    title = factory.Sequence(lambda n: f"Challenge {n}")
    prompt = factory.Faker("paragraph")
    category = factory.SubFactory(CategoryFactory)
    output_type = "text"
    difficulty = Challenge.Difficulty.MEDIUM
    is_published = True


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    model = factory.SubFactory(AIModelFactory)
    challenge = factory.SubFactory(ChallengeFactory)
    prompt = factory.LazyAttribute(lambda o: o.challenge.prompt)
    output_type = factory.LazyAttribute(lambda o: o.challenge.output_type)
    content = factory.Faker("paragraph")
    source = Response.Source.DEMO
    collected_at = factory.LazyFunction(timezone.now)
    # Public by default; `ResponseFactory(blind=True)` makes one only the arena may show.
    public_from = factory.LazyAttribute(lambda o: o.collected_at)
    tokens_in = 40
    tokens_out = 300
    latency_ms = 1200
    cost_usd = Decimal("0.001200")
    finish_reason = "stop"
    is_published = True

    class Params:
        blind = factory.Trait(public_from=None)


# Arena: votes stored directly, as if cast, for tests that need a voting history.


def battle_between(response_a, response_b, *, voter: str = "voter-x", **extra) -> Battle:
    return Battle.objects.create(
        session_key=voter,
        challenge=response_a.challenge,
        response_a=response_a,
        response_b=response_b,
        expires_at=extra.pop("expires_at", timezone.now() + timedelta(hours=1)),
    )


def votes_between(response_a, response_b, outcomes: str, **vote_fields) -> list[Vote]:
    """Stored votes for a string of outcomes: a, b, t (tie), x (both bad)."""
    names = {"a": "a", "b": "b", "t": "tie", "x": "both_bad"}
    votes = []
    for letter in outcomes:
        battle = battle_between(response_a, response_b)
        votes.append(
            Vote.objects.create(
                battle=battle,
                outcome=names[letter],
                model_a=response_a.model,
                model_b=response_b.model,
                category=response_a.challenge.category,
                challenge=response_a.challenge,
                response_a=response_a,
                response_b=response_b,
                session_key=vote_fields.get("session_key", "s"),
                ip_hash=vote_fields.get("ip_hash", visitors.ip_hash("10.0.0.1", purpose="arena")),
            )
        )
    return votes


def snapshot_rating(
    *rated, category=None, pk=None, half_width: float = 20.0, votes: int = 100
) -> LeaderboardSnapshot:
    """A leaderboard snapshot of the given (model, rating) pairs, ranked in that order, written
    as the recompute writes one: with its rows, in one transaction."""
    with transaction.atomic():
        snapshot = LeaderboardSnapshot.objects.create(
            pk=pk,
            category=category,
            computed_at=timezone.now(),
            votes_used=100,
            excluded_votes=0,
            rounds=10,
            seed=1,
            min_votes=1,
        )
        LeaderboardRow.objects.bulk_create(
            LeaderboardRow(
                snapshot=snapshot,
                model=model,
                rank=rank,
                rating=rating,
                lower=rating - half_width,
                upper=rating + half_width,
                votes=votes,
                win_rate=0.5,
                is_provisional=False,
            )
            for rank, (model, rating) in enumerate(rated, start=1)
        )
    return snapshot
