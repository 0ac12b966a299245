import pytest

from apps.arena import services
from apps.arena.models import Battle, Vote
from tests.factories import AIModelFactory, CategoryFactory, ChallengeFactory, ResponseFactory


def battle_between(response_a, response_b, *, voter: str = "voter-x", **extra) -> Battle:
    from datetime import timedelta

    from django.utils import timezone

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
                session_key=vote_fields.get("session_key", "s"),
                ip_hash=vote_fields.get("ip_hash", services.ip_hash("10.0.0.1")),
            )
        )
    return votes


@pytest.fixture
def challenge_pair(db):
    """One published challenge answered by two models of different creators."""
    challenge = ChallengeFactory(category=CategoryFactory(slug="coding", name="Coding"))
    return (
        ResponseFactory(challenge=challenge, model=AIModelFactory()),
        ResponseFactory(challenge=challenge, model=AIModelFactory()),
    )
