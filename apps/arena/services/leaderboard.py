"""Recomputing the leaderboard: counted votes aggregated, rated, written as snapshots."""

import functools
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from apps.arena import boards, ratings
from apps.arena.boards import COLUMNS, AggregatedVotes
from apps.arena.models import LeaderboardRow, LeaderboardSnapshot, ResponseStyle, VoteTally
from apps.challenges.models import Category
from apps.responses.models import Response
from rival import sqlrows
from rival.cacheversion import content_version_bump

logger = logging.getLogger(__name__)

SNAPSHOTS_KEPT_PER_CATEGORY = 20  # per category and voters
# Boards computed at once in threads: small ones (below ARENA_BOARD_PROCESS_ROWS tally rows,
# where sending them to a process costs more than it saves), or every one with
# ARENA_BOARD_PROCESSES = 0.
BOARD_THREADS = 2


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
        return AggregatedVotes.concatenate(list(_tally_parts()))
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


# On PostgreSQL each category's tally rows come as one bytea, 32 bytes a row: four 64-bit
# words, each two 32-bit values where the ids fit in 31 bits (the verified flag in bit 31 of
# the third word's low half). One aggregate with one small bytea per row cost the server
# about a third less than one array per column (0.3 against 0.47 s at 848k rows).
# (PostgreSQL gives << and | the same precedence, left to right: hence the brackets.)
_PACKED_ROW = (
    "(response_a_id << 32) | response_b_id",
    "(model_a_id << 32) | model_b_id",
    "(challenge_id << 32) | (is_verified::int::bigint << 31) | (ties + both_bad)",
    "(wins_a::bigint << 32) | wins_b",
)
_PACKED_READ = (
    "string_agg(" + " || ".join(f"int8send({word})" for word in _PACKED_ROW) + ", ''::bytea)"
)
# Ids beyond 31 bits (never seen in practice) are read one to an array.
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
LOW_31 = (1 << 31) - 1


def _tally_parts() -> Iterator[AggregatedVotes]:
    """The counted tally rows (PostgreSQL), one category at a time, each as soon as the
    server has it: the leaderboard starts computing a category's board while the next is
    still being read.

    Each category comes as one row: its tally rows packed in one bytea (`_PACKED_READ`), read
    into numpy as it is. A result set or a COPY sends one message per tally row, and handling
    hundreds of thousands of messages in Python cost most of the read (0.6 s of client time
    at 477k rows, against a few hundredths of a second this way). Ids beyond 31 bits (never
    seen in practice) are read as one array per column instead."""
    where = (
        f" FROM {VoteTally._meta.db_table}"
        " WHERE is_counted AND (wins_a <> 0 OR wins_b <> 0 OR ties <> 0 OR both_bad <> 0)"
    )
    wide = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # costs more than it saves here
        # Group after group along the index on category_id, each sent when it is done; a
        # hash aggregate would send nothing before every group is done.
        cursor.execute("SET LOCAL enable_hashagg = off")
        # Django's cursors bind on the client, which cannot ask for binary results.
        binary = psycopg.Cursor(cursor.connection)
        query = (
            f"SELECT category_id, {_PACKED_READ}, max(greatest(response_a_id, response_b_id,"
            " model_a_id, model_b_id, challenge_id))"
            + where
            + " GROUP BY category_id ORDER BY category_id"
        )
        for category_id, packed, largest in binary.stream(query, binary=True):
            if largest > LOW_31:
                wide.append(category_id)
                continue
            answers, models, challenge_ties, wins = (
                np.frombuffer(packed, dtype=">i8").reshape(-1, 4).astype(np.int64).T
            )
            yield AggregatedVotes(
                category=np.full(answers.size, category_id, dtype=np.int64),
                challenge=challenge_ties >> 32,
                model_a=models >> 32,
                model_b=models & LOW_32,
                response_a=answers >> 32,
                response_b=answers & LOW_32,
                verified=challenge_ties >> 31 & 1,
                wins_a=wins >> 32,
                wins_b=wins & LOW_32,
                ties=challenge_ties & LOW_31,
            )
        if wide:
            binary.execute(
                "SELECT "
                + ", ".join(f"array_send(array_agg({expression}))" for expression in _PLAIN_READ)
                + where
                + " AND category_id = ANY(%s)",
                [wide],
                binary=True,
            )
            yield AggregatedVotes(*map(_array_column, binary.fetchone()))


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


@dataclass(frozen=True)
class _Styles:
    """Stored style counts of every measured response: ids ascending, counts per id, and a
    last row of zeros for a response without stored counts (deleted since, or added after
    the fill)."""

    response_ids: np.ndarray
    counts: np.ndarray

    @classmethod
    def read(cls) -> "_Styles":
        rows = np.array(
            list(
                ResponseStyle.objects.order_by("response_id").values_list(
                    "response_id", "words", "headers", "list_items", "bold"
                )
            ),
            dtype=np.int64,
        ).reshape(-1, 5)
        counts = np.zeros((rows.shape[0] + 1, len(ratings.STYLE_FEATURES)))
        counts[:-1] = rows[:, 1:]
        return cls(rows[:, 0], counts)

    def positions(self, response_ids: np.ndarray) -> np.ndarray:
        """Rows of ``counts`` for these responses (the zero row where none is stored)."""
        missing = self.response_ids.size
        if not missing:
            return np.zeros(response_ids.size, dtype=np.int32)
        at = np.searchsorted(self.response_ids, response_ids).clip(max=missing - 1)
        return np.where(self.response_ids[at] == response_ids, at, missing).astype(np.int32)


def _rows_of(votes: AggregatedVotes, styles: _Styles) -> boards.Rows:
    return boards.Rows(
        boards.narrow(votes.model_a),
        boards.narrow(votes.model_b),
        boards.narrow(votes.challenge),
        votes.wins_a.astype(np.int32),  # counts are int4 in the tally
        votes.wins_b.astype(np.int32),
        votes.ties.astype(np.int32),
        styles.positions(votes.response_a),
        styles.positions(votes.response_b),
        styles.counts,
    )


def _positive(values: np.ndarray) -> list:
    """Integers, None for 0 (no rank, no tier)."""
    return [value or None for value in values.astype(np.int64).tolist()]


def _finite(values: np.ndarray) -> list:
    """Floats, None for NaN."""
    return [None if value != value else value for value in values.astype(float).tolist()]


def _nullable(value, cast=float):
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else cast(value)
    )


@functools.cache
def _duration_update_sql() -> str:
    table, column = sqlrows.table(LeaderboardSnapshot), sqlrows.column
    return (
        f"UPDATE {table} SET {column(LeaderboardSnapshot, 'duration_ms')} = %s"
        f" WHERE {column(LeaderboardSnapshot, 'pk')} = %s"
    )


def _snapshot_write(
    computed: boards.Computed,
    *,
    category: Category | None,
    voters: str = LeaderboardSnapshot.Voters.ALL,
    excluded: int,
    seed: int,
    min_votes: int,
    now,
) -> LeaderboardSnapshot:
    started = time.perf_counter()
    model_ids = computed.model_ids
    counts, result, style, score = computed.counts, computed.result, computed.style, computed.score
    tier, style_tier, style_rank = computed.tier, computed.style_tier, computed.style_rank
    flip_of, top, matrix = computed.flip_of, computed.top, computed.matrix
    ranked = result.rank > 0
    rated = np.flatnonzero(result.rated)
    snapshot = LeaderboardSnapshot(
        category=category,
        voters=voters,
        computed_at=now,
        votes_used=counts.n_votes,
        excluded_votes=excluded,
        # The rounds actually resampled: a twentieth of them on boards with the exact control
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
    # Composed once, no signals: the caller bumps the content version once for all boards.
    sqlrows.insert(snapshot)
    flips = [flip_of.get(i, (None, False)) for i in rated.tolist()]
    columns = {
        "snapshot": [snapshot.pk] * rated.size,
        "model": model_ids[rated].tolist(),
        "rank": _positive(result.rank[rated]),
        "rating": result.rating[rated].tolist(),
        "lower": result.lower[rated].tolist(),
        "upper": result.upper[rated].tolist(),
        "votes": result.votes[rated].astype(np.int64).tolist(),
        "win_rate": result.win_rate[rated].tolist(),
        "is_provisional": (~ranked[rated]).tolist(),
        "tier": _positive(tier[rated]),
        "style_rating": _finite(style.rating[rated]),
        "style_lower": _finite(style.lower[rated]),
        "style_upper": _finite(style.upper[rated]),
        "style_rank": _positive(style_rank[rated]),
        "style_tier": _positive(style_tier[rated]),
        "rival_score": _finite(score.score[rated]),
        "consistency": _finite(score.consistency[rated]),
        "flip_votes": [_nullable(votes, int) for votes, _ in flips],
        "flip_exact": [bool(exact) for _, exact in flips],
    }
    sqlrows.insert_values(LeaderboardRow, list(columns), zip(*columns.values(), strict=True))
    # The board's computing time (in its process or thread) plus its writing.
    snapshot.duration_ms = int((computed.seconds + time.perf_counter() - started) * 1000)
    with connection.cursor() as cursor:
        cursor.execute(_duration_update_sql(), [snapshot.duration_ms, snapshot.pk])
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
    parts = _tally_parts() if connection.vendor == "postgresql" else [_aggregate_orm()]
    # The excluded counts are read once the counted rows are: meanwhile boards compute.
    return _snapshots_write(parts, excluded_votes, rounds=rounds, seed=seed)


def snapshots_write(
    votes: AggregatedVotes,
    excluded: dict[int, int],
    excluded_verified: int,
    *,
    rounds: int,
    seed: int = ratings.DEFAULT_SEED,
) -> list[LeaderboardSnapshot]:
    """The snapshots of `leaderboard_recompute` from already aggregated votes."""
    return _snapshots_write(
        [votes], lambda: (excluded, excluded_verified), rounds=rounds, seed=seed
    )


def _snapshots_write(
    parts: Iterable[AggregatedVotes],
    excluded_read: Callable[[], tuple[dict[int, int], int]],
    *,
    rounds: int,
    seed: int,
) -> list[LeaderboardSnapshot]:
    """Snapshots from the counted votes read in ``parts``, each holding every row of the
    categories it has; ``excluded_read`` gives the uncounted votes (as `excluded_votes`).

    A category's board is ready to compute as soon as its part is read, overall and
    verified voters' once every part is. Large boards run in the board processes, one each
    at a time, the largest ready board first (a late overall board would otherwise wait
    behind the categories); small ones in threads. They are written in this thread, in one
    transaction, as each is done; writing overlaps computing."""
    categories = list(Category.objects.all())
    known = {category.pk: category for category in categories}
    styles = _Styles.read()
    min_votes = settings.ARENA_MIN_VOTES
    now = timezone.now()
    all_voters, verified_voters = (
        LeaderboardSnapshot.Voters.ALL,
        LeaderboardSnapshot.Voters.VERIFIED,
    )
    processes = settings.ARENA_BOARD_PROCESSES
    arguments = {"rounds": rounds, "seed": seed, "min_votes": min_votes}
    local: dict[tuple, boards.Rows] = {}  # every board's rows, by (category pk, voters)
    seen: set[int] = set()  # the categories read
    waiting: list[tuple] = []  # large boards not yet sent to a process
    running: dict = {}  # future → board key
    sent: set = set()  # the futures of boards in a process
    with ThreadPoolExecutor(max_workers=BOARD_THREADS) as threads:

        def ready(key: tuple, rows: boards.Rows) -> None:
            local[key] = rows
            if processes and rows.size >= settings.ARENA_BOARD_PROCESS_ROWS:
                waiting.append(key)
            else:
                running[threads.submit(boards.compute, rows, **arguments)] = key

        def send() -> None:
            waiting.sort(key=lambda key: local[key].size)
            while waiting and len(sent) < processes:
                key = waiting.pop()
                try:
                    pool = boards.processes(processes)
                    future = pool.submit(boards.compute, local[key], **arguments)
                except BrokenProcessPool:
                    # A process of the pool died since its last board: start a new pool.
                    boards.processes_reset()
                    pool = boards.processes(processes)
                    future = pool.submit(boards.compute, local[key], **arguments)
                running[future] = key
                sent.add(future)

        read, verified_read = [], []  # per category: its rows, its verified voters' rows
        for votes in parts:
            present = np.unique(votes.category).tolist()
            for pk in present:
                if pk in seen:
                    raise ValueError(f"category {pk} read in two parts")
                seen.add(pk)
                # As PostgreSQL sends them, a part is one category: no copy.
                piece = votes if len(present) == 1 else votes.where(votes.category == pk)
                rows = _rows_of(piece.merged(), styles)
                read.append(rows)
                verified_read.append(_rows_of(piece.where(piece.verified == 1).merged(), styles))
                if pk in known:
                    ready((pk, all_voters), rows)
            send()
        ready((None, all_voters), boards.Rows.concatenate(read, styles.counts))
        ready((None, verified_voters), boards.Rows.concatenate(verified_read, styles.counts))
        for category in categories:
            if (category.pk, all_voters) not in local:  # no vote in it
                ready((category.pk, all_voters), boards.Rows.concatenate([], styles.counts))
        excluded, excluded_verified = excluded_read()
        written = {}
        with transaction.atomic():
            # While the boards compute: this recompute adds one snapshot to each.
            _snapshots_prune(keep=SNAPSHOTS_KEPT_PER_CATEGORY - 1)
            while waiting or running:
                send()
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    pk, voters = key = running.pop(future)
                    sent.discard(future)
                    try:
                        computed = future.result()
                    except BrokenProcessPool:
                        # A board process died (out of memory, killed): this board is
                        # computed here, and the next recompute starts a new pool.
                        boards.processes_reset()
                        computed = boards.compute(local[key], **arguments)
                    if voters == verified_voters:
                        excluded_here = excluded_verified
                    elif pk is None:
                        excluded_here = sum(excluded.values())
                    else:
                        excluded_here = excluded.get(pk, 0)
                    written[key] = _snapshot_write(
                        computed,
                        category=known.get(pk),
                        voters=voters,
                        excluded=excluded_here,
                        seed=seed,
                        min_votes=min_votes,
                        now=now,
                    )
            # Pages show the newest snapshots: one bump for all of them (now and on commit).
            content_version_bump()
    snapshots = [
        written[None, all_voters],
        *(written[category.pk, all_voters] for category in categories),
        written[None, verified_voters],
    ]
    logger.info(
        "leaderboard recomputed: %d snapshots, %d votes", len(snapshots), snapshots[0].votes_used
    )
    return snapshots


def _snapshots_prune(*, keep: int) -> None:
    """Delete all but the newest ``keep`` snapshots of each category and voters (their rows
    with them)."""
    newest_first = Window(
        RowNumber(),
        partition_by=[F("category_id"), F("voters")],
        order_by=[F("computed_at").desc(), F("pk").desc()],
    )
    old = LeaderboardSnapshot.objects.alias(newest=newest_first).filter(newest__gt=keep)
    old_ids = list(old.values_list("pk", flat=True))
    if old_ids:
        LeaderboardSnapshot.objects.filter(pk__in=old_ids).delete()
