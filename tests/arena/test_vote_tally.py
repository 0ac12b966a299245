"""The per-answer-pair vote tally (VoteTally, kept by triggers) against the votes it counts:
after random votes, exclusions, unexclusions and deletions it equals a from-scratch
aggregation, and the leaderboard computed from it equals the one computed from raw votes."""

import random

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from apps.arena.models import Battle, Exclusion, LeaderboardSnapshot, Vote, VoteTally
from apps.arena.services import leaderboard
from apps.arena.services.votes import exclusion_create, vote_cast
from apps.challenges.models import Category
from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ResponseFactory,
    battle_between,
)

SESSIONS = [f"session-{i}" for i in range(6)]
IPS = [f"ip-{i}" for i in range(4)]
OUTCOMES = ["a", "b", "tie", "both_bad"]


def tally_from_votes() -> dict[tuple, tuple]:
    """What the tally must hold, aggregated from scratch over the votes, reading the answers
    from each vote's battle (not the copies the tally reads)."""
    rows = (
        Vote.objects.values_list(
            "battle__response_a_id",
            "battle__response_b_id",
            "category_id",
            "is_verified",
            "is_counted",
            "battle__challenge_id",
            "model_a_id",
            "model_b_id",
        )
        .annotate(
            **{
                name: Count("pk", filter=Q(outcome=outcome))
                for name, outcome in zip(
                    ("wins_a", "wins_b", "ties", "both_bad"), OUTCOMES, strict=True
                )
            }
        )
        .order_by()
    )
    return {(a, b, c or 0, v, k): tuple(rest) for a, b, c, v, k, *rest in rows}


def tally_rows() -> dict[tuple, tuple]:
    rows = VoteTally.objects.exclude(wins_a=0, wins_b=0, ties=0, both_bad=0).values_list(
        "response_a_id",
        "response_b_id",
        "category_id",
        "is_verified",
        "is_counted",
        "challenge_id",
        "model_a_id",
        "model_b_id",
        "wins_a",
        "wins_b",
        "ties",
        "both_bad",
    )
    assert not VoteTally.objects.filter(
        Q(wins_a__lt=0) | Q(wins_b__lt=0) | Q(ties__lt=0) | Q(both_bad__lt=0)
    ).exists()
    return {tuple(row[:5]): tuple(row[5:]) for row in rows}


def aggregate_from_votes() -> leaderboard.AggregatedVotes:
    """The recompute's input built from raw votes and their battles, as before the tally."""
    rows = (
        Vote.objects.filter(is_counted=True)
        .values_list(
            "category_id",
            "battle__challenge_id",
            "model_a_id",
            "model_b_id",
            "battle__response_a_id",
            "battle__response_b_id",
            "is_verified",
        )
        .annotate(
            wins_a=Count("pk", filter=Q(outcome="a")),
            wins_b=Count("pk", filter=Q(outcome="b")),
            ties=Count("pk", filter=Q(outcome__in=["tie", "both_bad"])),
        )
        .order_by()
    )
    table = np.array([(c or 0, *rest) for c, *rest in rows], dtype=np.int64).reshape(-1, 10)
    return leaderboard.AggregatedVotes.from_table(table)


@pytest.fixture
def arena(db):
    """Two categories and a challenge without one; four models answering each challenge."""
    categories = [CategoryFactory(slug=s, name=s) for s in ("coding", "writing")]
    challenges = [ChallengeFactory(category=c) for c in categories for _ in range(2)]
    challenges.append(ChallengeFactory(category=None))
    models = [AIModelFactory() for _ in range(4)]
    return {
        challenge: [ResponseFactory(blind=True, challenge=challenge, model=m) for m in models]
        for challenge in challenges
    }


def cast_random_votes(arena, rng: random.Random, n: int) -> None:
    user = get_user_model().objects.get_or_create(username="verified", email="v@example.org")[0]
    for _ in range(n):
        responses = arena[rng.choice(list(arena))]
        a, b = rng.sample(responses, 2)
        voter = rng.choice(SESSIONS)
        battle = battle_between(a, b, voter=voter)
        vote_cast(
            token=battle.token,
            voter=voter,
            outcome=rng.choice(OUTCOMES),
            ip_hash=rng.choice(IPS),
            user=user if rng.random() < 0.3 else None,
        )


def test_tally_equals_a_from_scratch_aggregation_through_votes_exclusions_and_deletions(arena):
    rng = random.Random(16)
    cast_random_votes(arena, rng, 120)
    assert tally_rows() == tally_from_votes()

    exclusion_create(kind=Exclusion.Kind.SESSION, value=SESSIONS[0], reason="test")
    exclusion_create(kind=Exclusion.Kind.IP, value=IPS[1], reason="test")
    assert Vote.objects.filter(is_counted=False).exists()
    assert tally_rows() == tally_from_votes()

    cast_random_votes(arena, rng, 60)  # the excluded visitors' new votes are stored uncounted
    # A curator lifts one exclusion: a queryset update, which skips signals.
    Vote.objects.filter(session_key=SESSIONS[0]).update(
        is_counted=True, exclusion=None, excluded_rule="", excluded_reason=""
    )
    Exclusion.objects.filter(value=SESSIONS[0]).delete()
    assert tally_rows() == tally_from_votes()

    votes = list(Vote.objects.order_by("pk"))
    votes[0].delete()
    Vote.objects.filter(pk__in=[v.pk for v in votes[1:10]]).delete()
    Battle.objects.filter(pk__in=[v.battle_id for v in votes[10:15]]).delete()  # cascades
    list(arena.values())[0][0].delete()  # an answer: its battles and votes go with it
    list(arena)[1].delete()  # a whole challenge
    assert tally_rows() == tally_from_votes()
    assert sum(sum(counts[3:]) for counts in tally_rows().values()) == Vote.objects.count()


def test_a_vote_moved_between_outcomes_and_voters_moves_in_the_tally(arena):
    cast_random_votes(arena, random.Random(3), 20)
    vote = Vote.objects.first()
    vote.outcome = "b" if vote.outcome == "a" else "a"
    vote.is_verified = not vote.is_verified
    vote.save()
    assert tally_rows() == tally_from_votes()


def test_leaderboard_from_the_tally_equals_the_one_from_raw_votes(arena, settings):
    settings.ARENA_MIN_VOTES = 10  # so ranks, tiers and flip counts are compared too
    rng = random.Random(7)
    cast_random_votes(arena, rng, 150)
    exclusion_create(kind=Exclusion.Kind.IP, value=IPS[2], reason="test")
    Vote.objects.filter(pk__in=Vote.objects.order_by("pk").values("pk")[:5]).delete()

    from_tally = leaderboard.leaderboard_recompute(rounds=50, seed=5)
    excluded = leaderboard.excluded_votes()
    from_votes = leaderboard.snapshots_write(aggregate_from_votes(), *excluded, rounds=50, seed=5)

    assert (
        excluded[0] and sum(excluded[0].values()) == Vote.objects.filter(is_counted=False).count()
    )
    assert len(from_tally) == len(from_votes) == 2 + Category.objects.count()
    fields = [
        "model_id",
        "rank",
        "rating",
        "lower",
        "upper",
        "votes",
        "win_rate",
        "style_rating",
        "style_lower",
        "style_upper",
        "rival_score",
        "consistency",
        "flip_votes",
    ]
    for mine, theirs in zip(from_tally, from_votes, strict=True):
        assert (mine.category_id, mine.voters, mine.votes_used, mine.excluded_votes) == (
            theirs.category_id,
            theirs.voters,
            theirs.votes_used,
            theirs.excluded_votes,
        )
        assert mine.votes_used > 0
        rows_mine = list(mine.rows.order_by("model_id").values_list(*fields))
        rows_theirs = list(theirs.rows.order_by("model_id").values_list(*fields))
        assert rows_mine and len(rows_mine) == len(rows_theirs)
        for a, b in zip(rows_mine, rows_theirs, strict=True):
            assert [x is None for x in a] == [y is None for y in b]
            assert [x for x in a if x is not None] == pytest.approx(
                [y for y in b if y is not None], rel=1e-9, abs=1e-6
            )
    ranked = from_tally[0].rows.filter(rank__isnull=False)
    assert ranked.exists() and ranked.filter(flip_votes__isnull=False).exists()
    assert LeaderboardSnapshot.objects.filter(voters="verified").count() == 2


def test_a_recompute_without_any_vote_writes_empty_snapshots(arena):
    snapshots = leaderboard.leaderboard_recompute(rounds=10)

    assert [s.votes_used for s in snapshots] == [0] * len(snapshots)
    assert not any(s.rows.exists() for s in snapshots)


def _sorted_rows(votes: leaderboard.AggregatedVotes) -> np.ndarray:
    table = np.stack([getattr(votes, name) for name in leaderboard.AggregatedVotes.__annotations__])
    return table[:, np.lexsort(table[::-1])]


@pytest.mark.parametrize("largest_id", [2**31 - 1, 2**31, 2**40])
def test_the_packed_postgresql_read_returns_what_the_orm_reads(db, largest_id):
    # Tally rows written straight (plain integers, no foreign keys), one with ids at the
    # edge of what two-to-a-bigint packing can hold or beyond it.
    rng = np.random.default_rng(3)
    rows = [
        VoteTally(
            response_a_id=int(rng.integers(1, 10**6)),
            response_b_id=int(rng.integers(1, 10**6)),
            category_id=int(rng.integers(0, 5)),
            is_verified=bool(rng.integers(0, 2)),
            is_counted=bool(rng.integers(0, 2)),
            challenge_id=int(rng.integers(1, 50)),
            model_a_id=int(rng.integers(1, 300)),
            model_b_id=int(rng.integers(1, 300)),
            wins_a=int(rng.integers(0, 3)),
            wins_b=int(rng.integers(0, 3)),
            ties=int(rng.integers(0, 2)),
            both_bad=int(rng.integers(0, 2)),
        )
        for _ in range(500)
    ]
    rows.append(
        VoteTally(
            response_a_id=largest_id,
            response_b_id=largest_id - 2,
            category_id=largest_id,
            is_verified=True,
            is_counted=True,
            challenge_id=largest_id,
            model_a_id=largest_id,
            model_b_id=largest_id - 1,
            wins_a=2**31 - 1,
            wins_b=7,
            ties=2**30,
            both_bad=2**30 - 1,
        )
    )
    VoteTally.objects.bulk_create(rows)
    counted = [r for r in rows if r.is_counted and (r.wins_a or r.wins_b or r.ties or r.both_bad)]

    read = leaderboard.votes_aggregate()

    assert read.wins_a.size == len(counted)
    # What the SQLite default reads through the ORM: the reference here.
    reference = leaderboard._aggregate_orm()
    assert np.array_equal(_sorted_rows(read), _sorted_rows(reference))
    assert read.ties.max() == 2**31 - 1 and read.wins_a.max() == 2**31 - 1


def test_the_postgresql_read_of_an_empty_tally_is_empty(db):
    VoteTally.objects.create(
        response_a_id=1,
        response_b_id=2,
        category_id=0,
        is_verified=False,
        is_counted=True,
        challenge_id=1,
        model_a_id=1,
        model_b_id=2,
    )
    read = leaderboard.votes_aggregate()
    assert all(
        getattr(read, name).size == 0 for name in leaderboard.AggregatedVotes.__annotations__
    )
