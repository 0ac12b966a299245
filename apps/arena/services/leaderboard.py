"""Recomputing the leaderboard: counted votes aggregated, rated, written as snapshots."""

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.arena import ratings
from apps.arena.models import LeaderboardRow, LeaderboardSnapshot, Vote
from apps.challenges.models import Category

logger = logging.getLogger(__name__)

SNAPSHOTS_KEPT_PER_CATEGORY = 20
WIN_MATRIX_SIZE = 20


@dataclass(frozen=True)
class AggregatedVotes:
    """Counted votes per (category, model A, model B) as numpy columns."""

    category: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray


def votes_aggregate() -> AggregatedVotes:
    """One GROUP BY over the counted votes; ties and both-bad are both ties.

    On PostgreSQL the grouped rows come back as binary COPY and are read straight into numpy;
    elsewhere (the SQLite default) through the ORM."""
    if connection.vendor == "postgresql":
        return _aggregate_postgresql()
    rows = list(
        Vote.objects.filter(is_counted=True)
        .values_list("category_id", "model_a_id", "model_b_id")
        .annotate(
            wins_a=Count("pk", filter=Q(outcome=Vote.Outcome.A)),
            wins_b=Count("pk", filter=Q(outcome=Vote.Outcome.B)),
            ties=Count("pk", filter=Q(outcome__in=[Vote.Outcome.TIE, Vote.Outcome.BOTH_BAD])),
        )
        .order_by()
    )
    table = np.array(
        [(c if c is not None else -1, a, b, wa, wb, t) for c, a, b, wa, wb, t in rows],
        dtype=np.int64,
    ).reshape(-1, 6)
    return AggregatedVotes(*(table[:, i] for i in range(6)))


def _aggregate_postgresql() -> AggregatedVotes:
    # The grouped rows are packed into one bytea (six big-endian int8 per group) and read
    # into numpy at once: a result set or COPY of hundreds of thousands of rows costs more
    # in per-row client overhead than the aggregation itself.
    table = Vote._meta.db_table
    query = (
        "SELECT string_agg(int8send(category) || int8send(model_a) || int8send(model_b)"
        " || int8send(wins_a) || int8send(wins_b) || int8send(ties), ''::bytea) FROM ("
        " SELECT COALESCE(category_id, -1)::bigint AS category, model_a_id::bigint AS model_a,"
        " model_b_id::bigint AS model_b, count(*) FILTER (WHERE outcome = 'a') AS wins_a,"
        " count(*) FILTER (WHERE outcome = 'b') AS wins_b,"
        " count(*) FILTER (WHERE outcome IN ('tie', 'both_bad')) AS ties"
        f" FROM {table} WHERE is_counted GROUP BY category_id, model_a_id, model_b_id"
        ") AS grouped"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Read the groups in order from the vote_tally index (several times faster than
        # hashing every vote, which the planner would choose), with room in work_mem should
        # it hash anyway, and without JIT, which costs more than it saves here.
        cursor.execute("SET LOCAL enable_hashagg = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(query)
        packed = cursor.fetchone()[0] or b""
    columns = np.frombuffer(bytes(packed), dtype=">i8").astype(np.int64).reshape(-1, 6)
    return AggregatedVotes(*(columns[:, i] for i in range(6)))


def _snapshot_build(
    *,
    category: Category | None,
    counts: ratings.PairCounts,
    model_ids: np.ndarray,
    excluded: int,
    rounds: int,
    seed: int,
    now,
) -> LeaderboardSnapshot:
    started = time.perf_counter()
    result = ratings.rate(counts, rounds=rounds, seed=seed)
    rated = np.flatnonzero(result.rated)
    top = rated[np.argsort(-result.rating[rated], kind="stable")][:WIN_MATRIX_SIZE]
    matrix = ratings.win_rate_matrix(counts, top)
    snapshot = LeaderboardSnapshot.objects.create(
        category=category,
        computed_at=now,
        votes_used=counts.n_votes,
        excluded_votes=excluded,
        rounds=rounds,
        seed=seed,
        duration_ms=0,
        win_matrix={
            "models": [int(model_ids[i]) for i in top],
            "rates": [
                [None if math.isnan(x) else round(float(x), 4) for x in row] for row in matrix
            ],
        },
    )
    LeaderboardRow.objects.bulk_create(
        LeaderboardRow(
            snapshot=snapshot,
            model_id=int(model_ids[i]),
            rank=int(result.rank[i]),
            rating=float(result.rating[i]),
            lower=float(result.lower[i]),
            upper=float(result.upper[i]),
            votes=int(result.votes[i]),
            win_rate=float(result.win_rate[i]),
            is_provisional=bool(result.votes[i] < settings.ARENA_PROVISIONAL_VOTES),
        )
        for i in rated
    )
    snapshot.duration_ms = int((time.perf_counter() - started) * 1000)
    snapshot.save(update_fields=["duration_ms"])
    return snapshot


def leaderboard_recompute(
    *, rounds: int | None = None, seed: int = ratings.DEFAULT_SEED
) -> list[LeaderboardSnapshot]:
    """Write a snapshot overall and for every category from the counted votes.

    Safe to run twice: each run adds snapshots (pages read the newest) and prunes old ones.
    """
    rounds = settings.ARENA_BOOTSTRAP_ROUNDS if rounds is None else rounds
    votes = votes_aggregate()
    excluded = dict(
        Vote.objects.filter(is_counted=False)
        .values_list("category_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    model_ids = np.unique(np.concatenate([votes.model_a, votes.model_b]))
    index_a = np.searchsorted(model_ids, votes.model_a)
    index_b = np.searchsorted(model_ids, votes.model_b)

    def counts_where(mask) -> ratings.PairCounts:
        return ratings.PairCounts.from_rows(
            model_ids.size,
            index_a[mask],
            index_b[mask],
            votes.wins_a[mask],
            votes.wins_b[mask],
            votes.ties[mask],
        )

    now = timezone.now()
    snapshots = []
    with transaction.atomic():
        everything = np.ones(votes.category.size, dtype=bool)
        snapshots.append(
            _snapshot_build(
                category=None,
                counts=counts_where(everything),
                model_ids=model_ids,
                excluded=sum(excluded.values()),
                rounds=rounds,
                seed=seed,
                now=now,
            )
        )
        for category in Category.objects.all():
            snapshots.append(
                _snapshot_build(
                    category=category,
                    counts=counts_where(votes.category == category.pk),
                    model_ids=model_ids,
                    excluded=excluded.get(category.pk, 0),
                    rounds=rounds,
                    seed=seed,
                    now=now,
                )
            )
        _snapshots_prune()
    logger.info(
        "leaderboard recomputed: %d snapshots, %d votes", len(snapshots), snapshots[0].votes_used
    )
    return snapshots


def _snapshots_prune() -> None:
    for category_id in LeaderboardSnapshot.objects.values_list("category_id", flat=True).distinct():
        keep = LeaderboardSnapshot.objects.filter(category_id=category_id).values_list(
            "pk", flat=True
        )[:SNAPSHOTS_KEPT_PER_CATEGORY]
        LeaderboardSnapshot.objects.filter(category_id=category_id).exclude(
            pk__in=list(keep)
        ).delete()
