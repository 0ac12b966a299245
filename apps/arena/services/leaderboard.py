"""Recomputing the leaderboard: counted votes aggregated, rated, written as snapshots."""

import logging
import math
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, fields

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
# Boards computed at once (threads).
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

    @classmethod
    def concatenate(cls, parts: list["AggregatedVotes"]) -> "AggregatedVotes":
        if not parts:
            return cls.from_table(np.zeros((0, COLUMNS), dtype=np.int64))
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def where(self, mask: np.ndarray) -> "AggregatedVotes":
        return type(self)(*(getattr(self, f.name)[mask] for f in fields(self)))


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


def _tally_parts() -> Iterator[AggregatedVotes]:
    """The counted tally rows (PostgreSQL), one category at a time, each as soon as the
    server has it: the leaderboard starts computing a category's board while the next is
    still being read.

    Each category comes as one row of arrays, one per column, in PostgreSQL's binary array
    format, read into numpy with strides. A result set or a COPY sends one message per tally
    row, and handling hundreds of thousands of messages in Python cost most of the read (0.6 s
    of client time at 477k rows, against a few hundredths of a second this way)."""
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
            "SELECT category_id, "
            + ", ".join(f"array_send(array_agg({expression}))" for expression in _PACKED_READ)
            + ", max(greatest(challenge_id, category_id, model_a_id, model_b_id))"
            + where
            + " GROUP BY category_id ORDER BY category_id"
        )
        for category_id, *arrays, largest in binary.stream(query, binary=True):
            if largest > LOW_32 >> 1:
                wide.append(category_id)
                continue
            a, b, challenge_category, models, verified_ties, wins = map(_array_column, arrays)
            yield AggregatedVotes(
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
    """Stored style counts of every measured response: ids ascending, counts per id."""

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
        return cls(rows[:, 0], rows[:, 1:].astype(np.float64))

    def of(self, response_ids: np.ndarray) -> np.ndarray:
        """Counts (responses × features) of these responses; zeros for one without a stored
        style (deleted since, or added after the fill)."""
        if not self.response_ids.size:
            return np.zeros((response_ids.size, len(ratings.STYLE_FEATURES)))
        at = np.searchsorted(self.response_ids, response_ids).clip(max=self.response_ids.size - 1)
        found = self.response_ids[at] == response_ids
        return np.where(found[:, None], self.counts[at], 0.0)


@dataclass(frozen=True)
class _Rows:
    """Tally rows with the style differences of their two answers."""

    votes: AggregatedVotes
    features: np.ndarray

    @classmethod
    def of(cls, votes: AggregatedVotes, styles: _Styles) -> "_Rows":
        return cls(
            votes,
            ratings.style_differences(styles.of(votes.response_a), styles.of(votes.response_b)),
        )

    @classmethod
    def concatenate(cls, parts: list["_Rows"]) -> "_Rows":
        votes = AggregatedVotes.concatenate([part.votes for part in parts])
        features = [part.features for part in parts]
        return cls(
            votes,
            np.concatenate(features) if features else np.zeros((0, len(ratings.STYLE_FEATURES))),
        )

    def where(self, mask: np.ndarray) -> "_Rows":
        return _Rows(self.votes.where(mask), self.features[mask])


@dataclass(frozen=True)
class _Board:
    """Everything a snapshot of one category is computed from, as model-index arrays into
    ``model_ids`` (the models with a vote on this board)."""

    model_ids: np.ndarray
    index_a: np.ndarray
    index_b: np.ndarray
    challenge: np.ndarray
    features: np.ndarray  # style differences of side A (rows × features)
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray

    @classmethod
    def of(cls, rows: "_Rows") -> "_Board":
        votes = rows.votes
        model_ids = np.unique(np.concatenate([votes.model_a, votes.model_b]))
        return cls(
            model_ids,
            np.searchsorted(model_ids, votes.model_a),
            np.searchsorted(model_ids, votes.model_b),
            votes.challenge,
            rows.features,
            votes.wins_a,
            votes.wins_b,
            votes.ties,
        )

    @property
    def n_models(self) -> int:
        return self.model_ids.size

    def counts(self) -> ratings.PairCounts:
        return ratings.PairCounts.from_rows(
            self.n_models, self.index_a, self.index_b, self.wins_a, self.wins_b, self.ties
        )

    def style_votes(self) -> ratings.StyleVotes:
        return ratings.StyleVotes(
            self.n_models,
            self.index_a,
            self.index_b,
            self.features,
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

    model_ids: np.ndarray
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


def _board_compute(rows: _Rows, *, rounds: int, seed: int, min_votes: int) -> _Computed:
    """Everything a snapshot shows, from one board's rows: pure numpy (no database), so
    boards can be computed in threads."""
    started = time.perf_counter()
    board = _Board.of(rows)
    counts = board.counts()
    # One thread per board: the boards already run BOARD_THREADS at a time, and nesting the
    # bootstrap's threads in theirs measured slower (more contention for the GIL).
    result = ratings.rate(counts, rounds=rounds, seed=seed, min_votes=min_votes, workers=1)
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
        model_ids=board.model_ids,
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
    excluded, excluded_verified = excluded_votes()
    parts = _tally_parts() if connection.vendor == "postgresql" else [_aggregate_orm()]
    return _snapshots_write(parts, excluded, excluded_verified, rounds=rounds, seed=seed)


def snapshots_write(
    votes: AggregatedVotes,
    excluded: dict[int, int],
    excluded_verified: int,
    *,
    rounds: int,
    seed: int = ratings.DEFAULT_SEED,
) -> list[LeaderboardSnapshot]:
    """The snapshots of `leaderboard_recompute` from already aggregated votes."""
    return _snapshots_write([votes], excluded, excluded_verified, rounds=rounds, seed=seed)


def _snapshots_write(
    parts: Iterable[AggregatedVotes],
    excluded: dict[int, int],
    excluded_verified: int,
    *,
    rounds: int,
    seed: int,
) -> list[LeaderboardSnapshot]:
    """Snapshots from the counted votes read in ``parts``, each holding every row of the
    categories it has.

    Boards are computed two at a time in threads (numpy releases the GIL in the heavy
    parts; no database there): a category's as soon as its part is read, overall and
    verified voters' once every part is. They are written in this thread, in one
    transaction, as each is ready; writing overlaps computing."""
    categories = list(Category.objects.all())
    known = {category.pk: category for category in categories}
    styles = _Styles.read()
    min_votes = settings.ARENA_MIN_VOTES
    now = timezone.now()
    all_voters, verified_voters = (
        LeaderboardSnapshot.Voters.ALL,
        LeaderboardSnapshot.Voters.VERIFIED,
    )
    with ThreadPoolExecutor(max_workers=BOARD_THREADS) as pool:

        def compute(rows: _Rows):
            return pool.submit(_board_compute, rows, rounds=rounds, seed=seed, min_votes=min_votes)

        pending, read = {}, []
        for votes in parts:
            part = _Rows.of(votes, styles)
            read.append(part)
            present = np.unique(votes.category).tolist()
            for pk in present:
                if pk in known:
                    if (pk, all_voters) in pending:
                        raise ValueError(f"category {pk} read in two parts")
                    whole = len(present) == 1  # as PostgreSQL sends them: no copy
                    rows = part if whole else part.where(votes.category == pk)
                    pending[pk, all_voters] = compute(rows)
        rows = _Rows.concatenate(read)
        pending[None, all_voters] = compute(rows)
        pending[None, verified_voters] = compute(rows.where(rows.votes.verified == 1))
        for category in categories:
            if (category.pk, all_voters) not in pending:  # no vote in it
                pending[category.pk, all_voters] = compute(rows.where(rows.votes.category < 0))
        key_of = {future: key for key, future in pending.items()}
        written = {}
        with transaction.atomic():
            for future in as_completed(key_of):
                pk, voters = key_of[future]
                if voters == verified_voters:
                    excluded_here = excluded_verified
                elif pk is None:
                    excluded_here = sum(excluded.values())
                else:
                    excluded_here = excluded.get(pk, 0)
                written[pk, voters] = _snapshot_write(
                    future.result(),
                    category=known.get(pk),
                    voters=voters,
                    excluded=excluded_here,
                    seed=seed,
                    min_votes=min_votes,
                    now=now,
                )
            _snapshots_prune()
    snapshots = [
        written[None, all_voters],
        *(written[category.pk, all_voters] for category in categories),
        written[None, verified_voters],
    ]
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
