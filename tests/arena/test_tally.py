"""The pair tally stays equal to a from-scratch count of the votes, whatever writes them."""

import random
import threading

import pytest
from django.db import connection

from apps.arena.models import Battle, Vote
from apps.arena.services import tally
from apps.arena.services.votes import exclusion_create
from apps.responses.models import Response
from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ResponseFactory,
    battle_between,
)

OUTCOMES = [Vote.Outcome.A, Vote.Outcome.B, Vote.Outcome.TIE, Vote.Outcome.BOTH_BAD]


def as_dict(t: tally.Tally) -> tuple[dict, dict]:
    counted = {
        (c, a, b): (wa, wb, ti)
        for c, a, b, wa, wb, ti in zip(
            *(col.tolist() for col in (t.category, t.model_a, t.model_b)),
            t.wins_a.tolist(),
            t.wins_b.tolist(),
            t.ties.tolist(),
            strict=True,
        )
    }
    return counted, t.uncounted


def from_scratch() -> tuple[dict, dict]:
    return as_dict(tally._tally_from_votes())


def kept() -> tuple[dict, dict]:
    assert connection.vendor == "postgresql"
    return as_dict(tally.tally_read())


@pytest.fixture
def arena_responses(db):
    models = AIModelFactory.create_batch(5)
    challenges = [
        ChallengeFactory(category=category)
        for category in CategoryFactory.create_batch(2)
        for _ in range(2)
    ]
    challenges.append(ChallengeFactory(category=None))
    return [ResponseFactory(model=m, challenge=c) for m in models for c in challenges]


def random_votes(responses, rng: random.Random, n: int) -> list[Vote]:
    votes = []
    for _ in range(n):
        challenge = rng.choice(responses).challenge
        a, b = rng.sample([r for r in responses if r.challenge_id == challenge.pk], 2)
        votes.append(
            Vote.objects.create(
                battle=battle_between(a, b),
                outcome=rng.choice(OUTCOMES),
                model_a=a.model,
                model_b=b.model,
                category=challenge.category,
                session_key=f"s{rng.randrange(6)}",
                ip_hash=f"h{rng.randrange(4)}",
            )
        )
    return votes


def test_the_tally_equals_a_count_from_scratch_after_votes_exclusions_and_deletions(
    arena_responses,
):
    rng = random.Random(16)
    votes = random_votes(arena_responses, rng, 300)
    assert kept() == from_scratch()
    assert sum(sum(v) for v in kept()[0].values()) == 300

    exclusion_create(kind="session", value="s1", reason="stuffing")
    exclusion_create(kind="ip", value="h2", reason="stuffing")
    assert kept()[1], "excluded votes are tallied as uncounted"
    assert kept() == from_scratch()

    for vote in rng.sample(votes, 40):
        vote.battle.delete()  # cascades to the vote
    Vote.objects.filter(pk__in=[v.pk for v in rng.sample(votes, 80)]).delete()
    assert kept() == from_scratch()

    # A response deleted for good cascades to its battles and votes; bulk updates move votes
    # between categories and outcomes.
    Response.objects.filter(pk=rng.choice(arena_responses).pk).delete()
    Vote.objects.filter(pk__in=[v.pk for v in votes[:60]]).update(category=None)
    Vote.objects.filter(outcome=Vote.Outcome.TIE).update(outcome=Vote.Outcome.A)
    random_votes(list(Response.objects.select_related("challenge", "model")), rng, 100)
    assert kept() == from_scratch()


def test_bulk_inserts_are_tallied_in_one_statement(arena_responses):
    a, b = arena_responses[0], arena_responses[5]
    battles = Battle.objects.bulk_create(
        Battle(
            session_key="v",
            challenge=a.challenge,
            response_a=a,
            response_b=b,
            expires_at=a.collected_at,
        )
        for _ in range(50)
    )
    Vote.objects.bulk_create(
        Vote(
            battle=battle,
            outcome=OUTCOMES[i % 4],
            model_a=a.model,
            model_b=b.model,
            category=a.challenge.category,
            session_key="v",
            ip_hash="h",
        )
        for i, battle in enumerate(battles)
    )
    counted, _ = kept()
    assert counted == {(a.challenge.category_id, a.model_id, b.model_id): (13, 13, 24)}


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_on_one_pair_are_all_counted():
    a = ResponseFactory()
    b = ResponseFactory(challenge=a.challenge)
    battles = [battle_between(a, b) for _ in range(40)]
    barrier = threading.Barrier(4)

    def cast(mine):
        barrier.wait()
        try:
            for battle in mine:
                Vote.objects.create(
                    battle=battle,
                    outcome=Vote.Outcome.A,
                    model_a=a.model,
                    model_b=b.model,
                    category=a.challenge.category,
                    session_key="v",
                    ip_hash="h",
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=cast, args=(battles[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted, _ = kept()
    assert counted == {(a.challenge.category_id, a.model_id, b.model_id): (40, 0, 0)}
    assert kept() == from_scratch()
