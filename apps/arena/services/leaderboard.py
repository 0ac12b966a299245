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
from apps.arena.models import Battle, LeaderboardRow, LeaderboardSnapshot, ResponseStyle, Vote
from apps.challenges.models import Category
from apps.responses.models import Response

logger = logging.getLogger(__name__)

SNAPSHOTS_KEPT_PER_CATEGORY = 20
WIN_MATRIX_SIZE = 20
# Adjacent pairs at the top of a board whose flip count is checked by refitting.
FLIP_EXACT_TOP = 10


@dataclass(frozen=True)
class AggregatedVotes:
    """Counted votes per (category, challenge, model A, model B, response A, response B) as
    numpy columns: per pair of answers, so style features and per-challenge results can be
    derived from the same rows."""

    category: np.ndarray
    challenge: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    response_a: np.ndarray
    response_b: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray


COLUMNS = 9


def votes_aggregate() -> AggregatedVotes:
    """One GROUP BY over the counted votes joined to their battles; ties and both-bad are
    both ties.

    On PostgreSQL the grouped rows come back packed in one bytea and are read straight into
    numpy; elsewhere (the SQLite default) through the ORM."""
    if connection.vendor == "postgresql":
        return _aggregate_postgresql()
    rows = list(
        Vote.objects.filter(is_counted=True)
        .values_list(
            "category_id",
            "battle__challenge_id",
            "model_a_id",
            "model_b_id",
            "battle__response_a_id",
            "battle__response_b_id",
        )
        .annotate(
            wins_a=Count("pk", filter=Q(outcome=Vote.Outcome.A)),
            wins_b=Count("pk", filter=Q(outcome=Vote.Outcome.B)),
            ties=Count("pk", filter=Q(outcome__in=[Vote.Outcome.TIE, Vote.Outcome.BOTH_BAD])),
        )
        .order_by()
    )
    table = np.array(
        [(c if c is not None else -1, *rest) for c, *rest in rows], dtype=np.int64
    ).reshape(-1, COLUMNS)
    return AggregatedVotes(*(table[:, i] for i in range(COLUMNS)))


def _aggregate_postgresql() -> AggregatedVotes:
    # The grouped rows are packed into one bytea (nine big-endian int8 per group) and read
    # into numpy at once: a result set or COPY of hundreds of thousands of rows costs more
    # in per-row client overhead than the aggregation itself.
    votes, battles = Vote._meta.db_table, Battle._meta.db_table
    packed_columns = " || ".join(
        f"int8send({c})"
        for c in (
            "category",
            "challenge",
            "model_a",
            "model_b",
            "response_a",
            "response_b",
            "wins_a",
            "wins_b",
            "ties",
        )
    )
    query = (
        f"SELECT string_agg({packed_columns}, ''::bytea) FROM ("
        " SELECT COALESCE(v.category_id, -1)::bigint AS category,"
        " b.challenge_id::bigint AS challenge,"
        " v.model_a_id::bigint AS model_a, v.model_b_id::bigint AS model_b,"
        " b.response_a_id::bigint AS response_a, b.response_b_id::bigint AS response_b,"
        " count(*) FILTER (WHERE v.outcome = 'a') AS wins_a,"
        " count(*) FILTER (WHERE v.outcome = 'b') AS wins_b,"
        " count(*) FILTER (WHERE v.outcome IN ('tie', 'both_bad')) AS ties"
        f" FROM {votes} v JOIN {battles} b ON b.id = v.battle_id WHERE v.is_counted"
        " GROUP BY 1, 2, 3, 4, 5, 6"
        ") AS grouped"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Room in work_mem for the hash join and aggregate, and no JIT, which costs more
        # than it saves here.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(query)
        packed = cursor.fetchone()[0] or b""
    columns = np.frombuffer(bytes(packed), dtype=">i8").astype(np.int64).reshape(-1, COLUMNS)
    return AggregatedVotes(*(columns[:, i] for i in range(COLUMNS)))


def response_styles_fill(batch: int = 2000) -> int:
    """Measure and store the style counts of every response that has none yet; returns how
    many were added. Idempotent: a response measured concurrently is skipped on insert."""
    missing = (
        Response.objects.exclude(pk__in=ResponseStyle.objects.values("response_id"))
        .only("pk", "content")
        .order_by()
    )
    added = 0
    pending: list[ResponseStyle] = []
    for response in missing.iterator(chunk_size=batch):
        words, headers, list_items, bold = ratings.style_counts(response.content)
        pending.append(
            ResponseStyle(
                response_id=response.pk,
                words=words,
                headers=headers,
                list_items=list_items,
                bold=bold,
            )
        )
        if len(pending) >= batch:
            added += len(ResponseStyle.objects.bulk_create(pending, ignore_conflicts=True))
            pending = []
    if pending:
        added += len(ResponseStyle.objects.bulk_create(pending, ignore_conflicts=True))
    return added


def _style_table(response_ids: np.ndarray) -> np.ndarray:
    """Style counts (responses × features) in the order of `response_ids`; zeros for a
    response without a stored style (deleted since, or added after the fill)."""
    table = np.zeros((response_ids.size, len(ratings.STYLE_FEATURES)))
    rows = np.array(
        list(
            ResponseStyle.objects.filter(response_id__in=response_ids.tolist()).values_list(
                "response_id", "words", "headers", "list_items", "bold"
            )
        ),
        dtype=np.int64,
    ).reshape(-1, 5)
    table[np.searchsorted(response_ids, rows[:, 0])] = rows[:, 1:]
    return table


@dataclass(frozen=True)
class _Board:
    """Everything a snapshot of one category is computed from, as model-index arrays."""

    n_models: int
    index_a: np.ndarray
    index_b: np.ndarray
    challenge: np.ndarray
    style_a: np.ndarray
    style_b: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray

    def counts(self) -> ratings.PairCounts:
        return ratings.PairCounts.from_rows(
            self.n_models, self.index_a, self.index_b, self.wins_a, self.wins_b, self.ties
        )

    def style_votes(self) -> ratings.StyleVotes:
        return ratings.StyleVotes(
            self.n_models,
            self.index_a,
            self.index_b,
            ratings.style_differences(self.style_a, self.style_b),
            self.wins_a,
            self.wins_b,
            self.ties,
        )

    def rival_score(self) -> ratings.RivalScore:
        return ratings.rival_score(
            self.n_models,
            self.index_a,
            self.index_b,
            self.challenge,
            self.wins_a,
            self.wins_b,
            self.ties,
        )


def _nullable(value, cast=float):
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else cast(value)
    )


def _snapshot_build(
    *,
    category: Category | None,
    board: _Board,
    model_ids: np.ndarray,
    excluded: int,
    rounds: int,
    seed: int,
    now,
) -> LeaderboardSnapshot:
    started = time.perf_counter()
    min_votes = settings.ARENA_MIN_VOTES
    counts = board.counts()
    result = ratings.rate(counts, rounds=rounds, seed=seed, min_votes=min_votes)
    ranked = result.rank > 0
    style = ratings.style_fit(board.style_votes(), initial=result.theta)
    style_rank = np.zeros(counts.n_models, dtype=np.int64)
    if ranked.any():
        style_rank[ranked] = ratings.ranks_from_intervals(style.lower[ranked], style.upper[ranked])
    tier = ratings.tiers(result.rating, result.lower, result.upper, ranked)
    style_tier = ratings.tiers(style.rating, style.lower, style.upper, ranked)
    score = board.rival_score()
    order = ratings.board_order(result.rating, ranked)
    flips, exact = ratings.flip_votes(
        counts, result.theta, np.stack([order[:-1], order[1:]], axis=1), exact=FLIP_EXACT_TOP
    )
    flip_of = dict(
        zip(order[:-1].tolist(), zip(flips.tolist(), exact.tolist(), strict=True), strict=True)
    )
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
        min_votes=min_votes,
        duration_ms=0,
        win_matrix={
            "models": [int(model_ids[i]) for i in top],
            "rates": [
                [None if math.isnan(x) else round(float(x), 4) for x in row] for row in matrix
            ],
        },
        style_coefficients=[
            {
                "feature": name,
                "estimate": _nullable(style.coefficient[k]),
                "lower": _nullable(style.coefficient_lower[k]),
                "upper": _nullable(style.coefficient_upper[k]),
            }
            for k, name in enumerate(ratings.STYLE_FEATURES)
        ],
    )
    LeaderboardRow.objects.bulk_create(
        LeaderboardRow(
            snapshot=snapshot,
            model_id=int(model_ids[i]),
            rank=int(result.rank[i]) or None,
            rating=float(result.rating[i]),
            lower=float(result.lower[i]),
            upper=float(result.upper[i]),
            votes=int(result.votes[i]),
            win_rate=float(result.win_rate[i]),
            is_provisional=not ranked[i],
            tier=int(tier[i]) or None,
            style_rating=_nullable(style.rating[i]),
            style_lower=_nullable(style.lower[i]),
            style_upper=_nullable(style.upper[i]),
            style_rank=int(style_rank[i]) or None,
            style_tier=int(style_tier[i]) or None,
            rival_score=_nullable(score.score[i]),
            consistency=_nullable(score.consistency[i]),
            flip_votes=_nullable(flip_of.get(i, (None, False))[0], int),
            flip_exact=bool(flip_of.get(i, (None, False))[1]),
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
    response_styles_fill()
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
    response_ids = np.unique(np.concatenate([votes.response_a, votes.response_b]))
    styles = _style_table(response_ids)
    style_a = styles[np.searchsorted(response_ids, votes.response_a)]
    style_b = styles[np.searchsorted(response_ids, votes.response_b)]

    def board_where(mask) -> _Board:
        return _Board(
            model_ids.size,
            index_a[mask],
            index_b[mask],
            votes.challenge[mask],
            style_a[mask],
            style_b[mask],
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
                board=board_where(everything),
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
                    board=board_where(votes.category == category.pk),
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
