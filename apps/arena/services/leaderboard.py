"""Recomputing the leaderboard: counted votes aggregated, rated, written as snapshots."""

import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from apps.arena import ratings
from apps.arena.models import LeaderboardRow, LeaderboardSnapshot, ResponseStyle, VoteTally
from apps.challenges.models import Category
from apps.responses.models import Response

logger = logging.getLogger(__name__)

SNAPSHOTS_KEPT_PER_CATEGORY = 20
WIN_MATRIX_SIZE = 20
# Adjacent pairs at the top of a board whose flip count is checked by refitting.
FLIP_EXACT_TOP = 10
# Boards computed at once (threads); each bootstrap also uses two.
BOARD_THREADS = 2


@dataclass(frozen=True)
class AggregatedVotes:
    """Counted votes per (category, challenge, model A, model B, response A, response B,
    verified) as numpy columns: per pair of answers, so style features and per-challenge
    results can be derived from the same rows. Category 0: votes without one."""

    category: np.ndarray
    challenge: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    response_a: np.ndarray
    response_b: np.ndarray
    verified: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray

    @classmethod
    def from_table(cls, table: np.ndarray) -> "AggregatedVotes":
        return cls(*(table[:, i] for i in range(COLUMNS)))


COLUMNS = 10
TALLY_COLUMNS = (
    "category_id",
    "challenge_id",
    "model_a_id",
    "model_b_id",
    "response_a_id",
    "response_b_id",
    "is_verified",
    "wins_a",
    "wins_b",
)


def votes_aggregate() -> AggregatedVotes:
    """The counted votes as tallied per pair of answers (`VoteTally`, kept by triggers):
    reads one row per pair of answers that met, however many votes there are. Ties and
    both-bad are both ties.

    On PostgreSQL the rows come back packed in one bytea and are read straight into numpy;
    elsewhere (the SQLite default) through the ORM."""
    if connection.vendor == "postgresql":
        return _aggregate_postgresql()
    return _aggregate_orm()


def _aggregate_orm() -> AggregatedVotes:
    rows = (
        VoteTally.objects.filter(is_counted=True)
        .annotate(all_ties=F("ties") + F("both_bad"))
        .exclude(wins_a=0, wins_b=0, all_ties=0)
        .values_list(*TALLY_COLUMNS, "all_ties")
    )
    table = np.array(list(rows), dtype=np.int64).reshape(-1, COLUMNS)
    return AggregatedVotes.from_table(table)


# On PostgreSQL the tally is read as one row of arrays, two 32-bit values to a bigint where
# they fit: building and sending each array costs the server about 0.1 s per million rows.
_PACKED_READ = (
    "response_a_id::bigint",
    "response_b_id::bigint",
    "challenge_id::bigint << 32 | category_id",
    "model_a_id::bigint << 32 | model_b_id",
    "is_verified::int::bigint << 32 | (ties + both_bad)",
    "wins_a::bigint << 32 | wins_b",
)
# Ids beyond 32 bits (never seen in practice) are read one to an array.
_PLAIN_READ = (
    *(f"{column}::bigint" for column in TALLY_COLUMNS[:6]),
    "is_verified::int",
    "wins_a",
    "wins_b",
    "ties + both_bad",
)
# PostgreSQL's binary array (array_send) of one dimension: ndim, has-nulls flag, element
# type, length, lower bound (4 bytes each), then per element a 4-byte length and the value.
ARRAY_HEADER = 20
LOW_32 = (1 << 32) - 1


def _aggregate_postgresql() -> AggregatedVotes:
    # One row holding one array per column, each in PostgreSQL's binary array format, read
    # into numpy with strides. A result set or a COPY sends one message per tally row, and
    # handling hundreds of thousands of messages in Python cost most of the read (0.6 s of
    # client time at 477k rows, against a few hundredths of a second this way).
    where = (
        f" FROM {VoteTally._meta.db_table}"
        " WHERE is_counted AND (wins_a <> 0 OR wins_b <> 0 OR ties <> 0 OR both_bad <> 0)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # costs more than it saves here
        # Django's cursors bind on the client, which cannot ask for binary results.
        binary = psycopg.Cursor(cursor.connection)
        binary.execute(
            "SELECT "
            + ", ".join(f"array_send(array_agg({expression}))" for expression in _PACKED_READ)
            + ", max(greatest(challenge_id, category_id, model_a_id, model_b_id))"
            + where,
            binary=True,
        )
        *arrays, largest = binary.fetchone()
        if arrays[0] is None:  # no rows: array_agg of nothing is NULL
            return AggregatedVotes.from_table(np.zeros((0, COLUMNS), dtype=np.int64))
        if largest <= LOW_32 >> 1:
            a, b, challenge_category, models, verified_ties, wins = map(_array_column, arrays)
            return AggregatedVotes(
                category=challenge_category & LOW_32,
                challenge=challenge_category >> 32,
                model_a=models >> 32,
                model_b=models & LOW_32,
                response_a=a,
                response_b=b,
                verified=verified_ties >> 32,
                wins_a=wins >> 32,
                wins_b=wins & LOW_32,
                ties=verified_ties & LOW_32,
            )
        binary.execute(
            "SELECT "
            + ", ".join(f"array_send(array_agg({expression}))" for expression in _PLAIN_READ)
            + where,
            binary=True,
        )
        return AggregatedVotes(*map(_array_column, binary.fetchone()))


def _array_column(data: bytes) -> np.ndarray:
    """A one-dimensional int4 or int8 array without NULLs, from its binary form."""
    view = memoryview(data)
    ndim, has_nulls, _, length = np.frombuffer(view[:16], dtype=">i4")
    width = (len(view) - ARRAY_HEADER) // length - 4 if length else 0
    if ndim != 1 or has_nulls or width not in (4, 8):
        raise ValueError("unexpected array layout in the vote tally read")
    column = np.ndarray(
        (length,), dtype=f">i{width}", buffer=view, offset=ARRAY_HEADER + 4, strides=(4 + width,)
    )
    return column.astype(np.int64)


def excluded_votes() -> tuple[dict[int, int], int]:
    """Uncounted votes per category (0: none), and how many of them verified voters cast;
    read from the tally."""
    per_category: dict[int, int] = {}
    verified = 0
    rows = (
        VoteTally.objects.filter(is_counted=False)
        .values_list("category_id", "is_verified")
        .annotate(n=Sum(F("wins_a") + F("wins_b") + F("ties") + F("both_bad")))
        .order_by()
    )
    for category_id, is_verified, n in rows:
        per_category[category_id] = per_category.get(category_id, 0) + n
        verified += n if is_verified else 0
    return per_category, verified


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


@dataclass(frozen=True)
class _Computed:
    """One board's numbers, before anything is written."""

    counts: ratings.PairCounts
    result: ratings.Ratings
    style: ratings.StyleFit
    style_rank: np.ndarray
    tier: np.ndarray
    style_tier: np.ndarray
    score: ratings.RivalScore
    flip_of: dict
    top: np.ndarray
    matrix: np.ndarray
    seconds: float


def _board_compute(board: _Board, *, rounds: int, seed: int, min_votes: int) -> _Computed:
    """Everything a snapshot shows, from one board: pure numpy (no database), so boards can
    be computed in threads."""
    started = time.perf_counter()
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
    return _Computed(
        counts=counts,
        result=result,
        style=style,
        style_rank=style_rank,
        tier=tier,
        style_tier=style_tier,
        score=score,
        flip_of=flip_of,
        top=top,
        matrix=matrix,
        seconds=time.perf_counter() - started,
    )


def _snapshot_write(
    computed: _Computed,
    *,
    category: Category | None,
    voters: str = LeaderboardSnapshot.Voters.ALL,
    model_ids: np.ndarray,
    excluded: int,
    seed: int,
    min_votes: int,
    now,
) -> LeaderboardSnapshot:
    started = time.perf_counter()
    counts, result, style, score = computed.counts, computed.result, computed.style, computed.score
    tier, style_tier, style_rank = computed.tier, computed.style_tier, computed.style_rank
    flip_of, top, matrix = computed.flip_of, computed.top, computed.matrix
    ranked = result.rank > 0
    rated = np.flatnonzero(result.rated)
    snapshot = LeaderboardSnapshot.objects.create(
        category=category,
        voters=voters,
        computed_at=now,
        votes_used=counts.n_votes,
        excluded_votes=excluded,
        # The rounds actually resampled: a tenth of them on boards with the exact control
        # variate (ratings.rate).
        rounds=result.rounds,
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
    # The board's computing time (in its thread) plus its writing.
    snapshot.duration_ms = int((computed.seconds + time.perf_counter() - started) * 1000)
    snapshot.save(update_fields=["duration_ms"])
    return snapshot


def leaderboard_recompute(
    *, rounds: int | None = None, seed: int = ratings.DEFAULT_SEED
) -> list[LeaderboardSnapshot]:
    """Write a snapshot overall and for every category from the counted votes, and one
    overall from verified voters' votes only.

    Safe to run twice: each run adds snapshots (pages read the newest) and prunes old ones.
    """
    rounds = settings.ARENA_BOOTSTRAP_ROUNDS if rounds is None else rounds
    response_styles_fill()
    return snapshots_write(votes_aggregate(), *excluded_votes(), rounds=rounds, seed=seed)


def snapshots_write(
    votes: AggregatedVotes,
    excluded: dict[int, int],
    excluded_verified: int,
    *,
    rounds: int,
    seed: int = ratings.DEFAULT_SEED,
) -> list[LeaderboardSnapshot]:
    """The snapshots of `leaderboard_recompute` from already aggregated votes."""
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

    # Overall, each category, verified voters: computed two at a time in threads (numpy
    # releases the GIL in the heavy parts; no database there), and written in this thread,
    # in order and in one transaction, as each is ready — writing overlaps computing.
    boards = [
        (None, LeaderboardSnapshot.Voters.ALL, np.ones(votes.category.size, dtype=bool)),
        *(
            (category, LeaderboardSnapshot.Voters.ALL, votes.category == category.pk)
            for category in Category.objects.all()
        ),
        (None, LeaderboardSnapshot.Voters.VERIFIED, votes.verified == 1),
    ]
    min_votes = settings.ARENA_MIN_VOTES
    now = timezone.now()
    snapshots = []
    with ThreadPoolExecutor(max_workers=BOARD_THREADS) as pool, transaction.atomic():
        pending = [
            pool.submit(
                _board_compute, board_where(mask), rounds=rounds, seed=seed, min_votes=min_votes
            )
            for _, _, mask in boards
        ]
        for (category, voters, _), future in zip(boards, pending, strict=True):
            if voters == LeaderboardSnapshot.Voters.VERIFIED:
                excluded_here = excluded_verified
            elif category is None:
                excluded_here = sum(excluded.values())
            else:
                excluded_here = excluded.get(category.pk, 0)
            snapshots.append(
                _snapshot_write(
                    future.result(),
                    category=category,
                    voters=voters,
                    model_ids=model_ids,
                    excluded=excluded_here,
                    seed=seed,
                    min_votes=min_votes,
                    now=now,
                )
            )
        _snapshots_prune()
    logger.info(
        "leaderboard recomputed: %d snapshots, %d votes", len(snapshots), snapshots[0].votes_used
    )
    return snapshots


def _snapshots_prune() -> None:
    flavours = LeaderboardSnapshot.objects.values_list("category_id", "voters").distinct()
    for category_id, voters in flavours:
        same = LeaderboardSnapshot.objects.filter(category_id=category_id, voters=voters)
        keep = same.values_list("pk", flat=True)[:SNAPSHOTS_KEPT_PER_CATEGORY]
        same.exclude(pk__in=list(keep)).delete()
