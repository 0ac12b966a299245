"""Reads of the arena. Other apps read ratings only through these functions."""

import dataclasses
import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
)
from django.utils import timezone

from apps.arena.models import (
    DEMO_VOTER,
    Battle,
    ExclusionRule,
    ExclusionSettings,
    LeaderboardRow,
    LeaderboardSnapshot,
    LiveBattle,
    Vote,
)
from apps.catalog.models import AIModel, Gateway
from apps.challenges.models import Category, Challenge
from apps.lab.models import LabResult, LabRun
from apps.lab.selectors import runnable_models
from apps.responses.models import Response
from rival.cacheversion import per_content_version_in_process
from rival.formatting import whole_number
from rival.links import link
from rival.sqlrows import Columns, Prepared, table


@dataclass(frozen=True)
class RatingRow:
    """One model's standing in the latest snapshot of a category."""

    model_id: int
    rank: int
    rating: float
    lower: float
    upper: float
    votes: int
    win_rate: float
    is_provisional: bool
    computed_at: datetime
    tier: int | None = None
    style_rating: float | None = None
    style_rank: int | None = None
    rival_score: float | None = None
    flip_votes: int | None = None


@dataclass(frozen=True)
class StyleCoefficient:
    feature: str
    estimate: float  # log-odds per standard deviation of the feature
    lower: float
    upper: float

    @property
    def points(self) -> float:
        """The same effect in rating points (a 400·log10 scale)."""
        return self.estimate * 400 / math.log(10)


@dataclass(frozen=True)
class StyleCoefficients:
    computed_at: datetime
    votes_used: int
    coefficients: list[StyleCoefficient]


@dataclass(frozen=True)
class HeadToHead:
    """Counted votes between two models, from `model_a`'s side."""

    wins_a: int
    wins_b: int
    ties: int
    both_bad: int

    @property
    def total(self) -> int:
        return self.wins_a + self.wins_b + self.ties + self.both_bad

    @property
    def score_a(self) -> float | None:
        """Share of the votes won by `model_a`, ties and both-bad counting half."""
        if not self.total:
            return None
        return (self.wins_a + (self.ties + self.both_bad) / 2) / self.total


# Ranked models first; provisional ones (no rank) after them, best rating first.
BOARD_ORDER = F("rank").asc(nulls_last=True)


def _newest_snapshots(category: Category | None, voters: str = LeaderboardSnapshot.Voters.ALL):
    snapshots = (
        LeaderboardSnapshot.objects.filter(category__isnull=True)
        if category is None
        else LeaderboardSnapshot.objects.filter(category=category)
    )
    return snapshots.filter(voters=voters).order_by("-computed_at", "-pk")


def _latest_snapshot_id(category: Category | None):
    return Subquery(_newest_snapshots(category).values("pk")[:1])


def latest_rows(category: Category | None = None):
    """Rows of the newest snapshot for `category` (None: overall), with model, creator and
    snapshot loaded, best first — one query."""
    return (
        LeaderboardRow.objects.filter(snapshot_id=_latest_snapshot_id(category))
        .select_related("model", "model__provider", "snapshot")
        .order_by(BOARD_ORDER, "-rating", "model__name")
    )


@dataclass(frozen=True)
class BoardLeader:
    """One of the first rows of the overall board, as the home page's teaser shows it, its
    figures formatted as `floatformat:0` shows them (rival/formatting.py)."""

    url: str
    name: str
    rank: int | None
    rating: str
    lower: str
    upper: str
    votes: int
    is_provisional: bool
    computed_at: datetime


BOARD_LEADERS = 5

# Compiled once (rival/sqlrows.py): the ORM spent longer on this query than the database.
_board_leaders = Prepared(
    lambda: (
        LeaderboardRow.objects.filter(snapshot_id=_latest_snapshot_id(None))
        .order_by(BOARD_ORDER, "-rating", "model__name")
        .values_list(
            "model__slug",
            "model__name",
            "rank",
            "rating",
            "lower",
            "upper",
            "votes",
            "is_provisional",
            "snapshot__computed_at",
        )[:BOARD_LEADERS]
    )
)


def board_leaders() -> list[BoardLeader]:
    """The first BOARD_LEADERS rows of the newest overall snapshot, in `latest_rows()`'s
    order, as plain values with the model's link: one query of the shown columns, no model
    instances."""
    return [
        BoardLeader(
            link("catalog:model", slug),
            name,
            rank,
            whole_number(rating),
            whole_number(lower),
            whole_number(upper),
            *rest,
        )
        for slug, name, rank, rating, lower, upper, *rest in _board_leaders()
    ]


def latest_snapshot_id(
    category: Category | None = None, voters: str = LeaderboardSnapshot.Voters.ALL
) -> int | None:
    """The id of the newest snapshot for `category` (None: overall) computed from `voters`'
    votes; one indexed query."""
    return _newest_snapshots(category, voters).values_list("pk", flat=True).first()


def latest_snapshot_and_demo_votes(
    category: Category | None = None, voters: str = LeaderboardSnapshot.Voters.ALL
) -> tuple[int | None, bool]:
    """The newest snapshot's id for `category` (and `voters`) and whether simulated votes are
    stored, in the one indexed query the leaderboard makes anyway. (None, False) before any
    snapshot."""
    row = (
        _newest_snapshots(category, voters)
        .annotate(demo=Exists(Vote.objects.filter(session_key=DEMO_VOTER)))
        .values_list("pk", "demo")
        .first()
    )
    return row or (None, False)


def snapshot_rows(snapshot_id: int):
    """Rows of one snapshot, as `latest_rows` gives them — one query."""
    return (
        LeaderboardRow.objects.filter(snapshot_id=snapshot_id)
        .select_related("model", "model__provider", "snapshot")
        .order_by(BOARD_ORDER, "-rating", "model__name")
    )


def snapshot_history(category: Category | None = None):
    """Every snapshot of `category` (None: overall), newest first, unevaluated."""
    return _newest_snapshots(category).select_related("category")


def snapshot_with_category(snapshot_id: int) -> LeaderboardSnapshot | None:
    return LeaderboardSnapshot.objects.select_related("category").filter(pk=snapshot_id).first()


def rows_of_snapshots(snapshot_ids: list[int]):
    """The rows of several snapshots with their models, best first within each — one query."""
    return (
        LeaderboardRow.objects.filter(snapshot_id__in=snapshot_ids)
        .select_related("model")
        .order_by("snapshot_id", "rank", "-rating", "model__name")
    )


def latest_snapshot(category: Category | None = None) -> LeaderboardSnapshot | None:
    return (
        LeaderboardSnapshot.objects.filter(pk=_latest_snapshot_id(category))
        .select_related("category")
        .first()
    )


# RatingRow's fields in its order, as columns of LeaderboardRow (computed_at: the snapshot's).
_RATING_COLUMNS = [f.name for f in dataclasses.fields(RatingRow) if f.name != "computed_at"]
# {(database, category id or None): (newest snapshot id, its computed_at, its {model id:
# RatingRow})}, one entry per category in this process. A snapshot's rows are written with it
# in one transaction (services.leaderboard.snapshots_write) and never change, so the rows of a
# snapshot read once are its rows for good. The id and the time together name the snapshot:
# SQLite may give a deleted newest snapshot's id to the next one.
_ratings_memo: dict[tuple[str, int | None], tuple[int, object, dict[int, RatingRow]]] = {}


def latest_ratings(category: Category | None = None) -> dict[int, RatingRow]:
    """{model id: RatingRow} from the newest snapshot of `category` (None: overall); one
    query. Models without votes are absent.

    Never stale, and cheap after the first call: the query asks for the newest snapshot's id
    always, and for its rows only when that id is not the one remembered from an earlier
    call in this process (the database then reads no row at all), so pages that show
    ratings do not turn 300 rows into objects on every request."""
    return _latest_ratings(category, demo_votes=False)[0]


def latest_ratings_and_demo_votes() -> tuple[dict[int, RatingRow], bool]:
    """`latest_ratings()` (overall), and whether simulated votes are stored (pages then say
    so), in the same one query: for the arena, which needs both on every request."""
    return _latest_ratings(None, demo_votes=True)


@functools.cache
def _ratings_sql(vendor: str, by_category: bool, demo_votes: bool) -> str:
    # Plain SQL, composed from the models' tables: the ORM spent more time compiling this
    # query (a filtered join, a subquery) than the database spends running it.
    q = connection.ops.quote_name
    snapshots, rows = LeaderboardSnapshot._meta.db_table, LeaderboardRow._meta.db_table
    columns = ", ".join(f"r.{q(LeaderboardRow._meta.get_field(f).column)}" for f in _RATING_COLUMNS)
    demo = f", EXISTS (SELECT 1 FROM {q(Vote._meta.db_table)} WHERE session_key = %s)"
    # The rows come only when the newest snapshot is not the remembered one (then `changed`).
    distinct = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    changed = f"(s.id <> %s OR s.computed_at {distinct} %s)"
    # One row (the snapshot's id null) when there is no snapshot: the flag is still read.
    return (
        f"SELECT s.id, s.computed_at, {changed}, {columns}{demo if demo_votes else ''}"
        f" FROM (SELECT 1 AS one) AS always LEFT JOIN {q(snapshots)} s ON s.id = ("
        f"SELECT id FROM {q(snapshots)}"
        f" WHERE category_id {'= %s' if by_category else 'IS NULL'} AND voters = %s"
        " ORDER BY computed_at DESC, id DESC LIMIT 1)"
        f" LEFT JOIN {q(rows)} r ON r.snapshot_id = s.id AND {changed}"
    )


def _latest_ratings(
    category: Category | None, demo_votes: bool
) -> tuple[dict[int, RatingRow], bool]:
    key = (connection.settings_dict["NAME"], category.pk if category is not None else None)
    remembered_id, remembered_at, remembered = _ratings_memo.get(key, (0, None, {}))
    remembered_snapshot = [remembered_id, remembered_at]
    params = [*remembered_snapshot, *([DEMO_VOTER] if demo_votes else [])]
    params += [
        *([category.pk] if category is not None else []),
        LeaderboardSnapshot.Voters.ALL.value,
        *remembered_snapshot,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ratings_sql(connection.vendor, category is not None, demo_votes), params)
        rows = cursor.fetchall()
    snapshot_id, computed_at, changed = rows[0][:3]
    if snapshot_id is None:
        remembered = {}
    elif changed:
        stored_at = computed_at
        if timezone.is_naive(computed_at):  # SQLite
            computed_at = timezone.make_aware(computed_at, UTC)
        remembered = {
            row[3]: RatingRow(
                **dict(zip(_RATING_COLUMNS, row[3:], strict=False)), computed_at=computed_at
            )
            for row in rows
            if row[3] is not None
        }
        _ratings_memo[key] = (snapshot_id, stored_at, remembered)
    return dict(remembered), demo_votes and bool(rows[0][-1])


def latest_style_coefficients() -> StyleCoefficients | None:
    """The style-controlled fit's coefficients in the newest overall snapshot; one query.
    Features without spread in the votes (no coefficient) are left out."""
    snapshot = (
        _newest_snapshots(None).only("computed_at", "votes_used", "style_coefficients").first()
    )
    if snapshot is None or not snapshot.style_coefficients:
        return None
    return StyleCoefficients(
        computed_at=snapshot.computed_at,
        votes_used=snapshot.votes_used,
        coefficients=[
            StyleCoefficient(c["feature"], c["estimate"], c["lower"], c["upper"])
            for c in snapshot.style_coefficients
            if c["estimate"] is not None
        ],
    )


def ratings_attach(objects: Iterable, ratings: dict, model_id: Callable = lambda o: o.pk) -> list:
    """Set `.rating` (a RatingRow or None) on each object, from `latest_ratings()`; returns
    them as a list. For pages of other apps that show a model's standing beside it."""
    objects = list(objects)
    for obj in objects:
        obj.rating = ratings.get(model_id(obj))
    return objects


def ratings_sorted(objects: Iterable, ratings: dict, model_id: Callable = lambda o: o.pk) -> list:
    """`ratings_attach`, then rated first, best first; unrated keep their order after them."""
    objects = ratings_attach(objects, ratings, model_id)
    return sorted(objects, key=lambda o: (o.rating is None, -(o.rating.rating if o.rating else 0)))


@functools.cache
def _head_to_head_sql() -> str:
    # Plain SQL, composed from the model's table and columns: the ORM spent longer compiling
    # four filtered counts than the database spends answering them from the pair's index.
    q = connection.ops.quote_name
    meta = Vote._meta
    a, b = (q(meta.get_field(name).column) for name in ("model_a", "model_b"))
    outcome, counted = q(meta.get_field("outcome").column), q(meta.get_field("is_counted").column)

    def count(condition: str) -> str:
        return f"COUNT(CASE WHEN {condition} THEN 1 END)"

    is_ = {value: f"{outcome} = '{value}'" for value in Vote.Outcome.values}
    seat_a, seat_b, tie, both_bad = (is_[o] for o in ("a", "b", "tie", "both_bad"))
    won_by_first = f"({a} = %(a)s AND {seat_a}) OR ({a} = %(b)s AND {seat_b})"
    won_by_second = f"({a} = %(a)s AND {seat_b}) OR ({a} = %(b)s AND {seat_a})"
    return (
        f"SELECT {count(won_by_first)}, {count(won_by_second)}, {count(tie)}, {count(both_bad)}"
        f" FROM {q(meta.db_table)} WHERE {counted}"
        f" AND (({a} = %(a)s AND {b} = %(b)s) OR ({a} = %(b)s AND {b} = %(a)s))"
    )


def head_to_head(model_a: AIModel | int, model_b: AIModel | int) -> HeadToHead:
    """Counted votes between two models in either seat, from `model_a`'s side; one query."""
    a = getattr(model_a, "pk", model_a)
    b = getattr(model_b, "pk", model_b)
    with connection.cursor() as cursor:
        cursor.execute(_head_to_head_sql(), {"a": a, "b": b})
        return HeadToHead(*cursor.fetchone())


def head_to_head_all(model: AIModel | int, category: Category | None = None) -> dict:
    """{other model id: HeadToHead from `model`'s side} over its counted votes (in
    `category` when given); one grouped query."""
    me = getattr(model, "pk", model)
    votes = Vote.objects.filter(Q(model_a_id=me) | Q(model_b_id=me), is_counted=True)
    if category is not None:
        votes = votes.filter(category=category)
    results: dict[int, list[int]] = {}
    for a, b, outcome, n in (
        votes.values_list("model_a_id", "model_b_id", "outcome").annotate(n=Count("pk")).order_by()
    ):
        mine_first = a == me
        tally = results.setdefault(b if mine_first else a, [0, 0, 0, 0])
        if outcome == Vote.Outcome.TIE:
            tally[2] += n
        elif outcome == Vote.Outcome.BOTH_BAD:
            tally[3] += n
        else:
            tally[0 if (outcome == Vote.Outcome.A) == mine_first else 1] += n
    return {other: HeadToHead(*tally) for other, tally in results.items()}


def pair_vote_counts(model_ids: set[int]) -> dict[tuple[int, int], int]:
    """All votes (counted or not) between any two of the given models, keyed by
    (smaller id, larger id); one grouped query."""
    if not model_ids:
        return {}
    return _pair_counts(Q(model_a_id__in=model_ids, model_b_id__in=model_ids))


def votes_on_pairs(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """All votes (counted or not) on each given pair of models in either seat, keyed by
    (smaller id, larger id); one query that only touches those pairs (the pair index)."""
    if not pairs:
        return {}
    if connection.vendor == "postgresql":
        return _pair_counts_joined(pairs)
    either_seat = Q()
    for a, b in pairs:
        either_seat |= Q(model_a_id=a, model_b_id=b) | Q(model_a_id=b, model_b_id=a)
    return _pair_counts(either_seat)


def _pair_counts_joined(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    # The pairs as a joined array, one index probe each (nested loop on `vote_pair`): the
    # same count as an OR of 2 × pairs conditions, which PostgreSQL plans and runs as one
    # bitmap scan per condition, several times slower for the arena's 48 candidate pairs.
    seats = sorted({(a, b) for a, b in pairs} | {(b, a) for a, b in pairs})
    # Array literals: the driver adapts a list one element at a time.
    firsts = "{" + ",".join(str(int(a)) for a, _ in seats) + "}"
    seconds = "{" + ",".join(str(int(b)) for _, b in seats) + "}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.model_a_id, v.model_b_id, count(*)"
            " FROM unnest(%s::bigint[], %s::bigint[]) AS pair (a, b)"
            f" JOIN {Vote._meta.db_table} AS v ON v.model_a_id = pair.a AND v.model_b_id = pair.b"
            " GROUP BY 1, 2",
            [firsts, seconds],
        )
        rows = cursor.fetchall()
    counts: dict[tuple[int, int], int] = {}
    for a, b, n in rows:
        key = (min(a, b), max(a, b))
        counts[key] = counts.get(key, 0) + n
    return counts


def _pair_counts(condition: Q) -> dict[tuple[int, int], int]:
    rows = (
        Vote.objects.filter(condition)
        .values_list("model_a_id", "model_b_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[int, int], int] = {}
    for a, b, n in rows:
        key = (min(a, b), max(a, b))
        counts[key] = counts.get(key, 0) + n
    return counts


def votes_for_export():
    """Counted votes without anything personal (no session, address hash or user): battle id,
    the two models' slugs, outcome, category slug and the day; streamed in id order."""
    return (
        Vote.objects.filter(is_counted=True)
        .order_by("pk")
        .values_list(
            "battle_id", "model_a__slug", "model_b__slug", "outcome", "category__slug", "created_at"
        )
        .iterator(chunk_size=5000)
    )


def battle_for_page(token: str, voter: str) -> Battle | None:
    return (
        Battle.objects.for_voter(voter)
        .select_related("challenge", "response_a", "response_b")
        .filter(token=token)
        .first()
    )


# What the arena page shows of a battle, its challenge and category and its two answers
# (components/response_output.html included); nothing else of their rows is read.
_SHOWN_CHALLENGE = ("id", "slug", "title", "prompt", "origin", "category_id")
_SHOWN_CATEGORY = ("id", "slug", "name")
_SHOWN_ANSWER = (
    "id",
    "model_id",
    "challenge_id",
    "output_type",
    "content",
    "rendered_html",
    "rendered_hash",
    "image",
    "image_thumb",
    "image_width",
    "image_height",
    "audio",
    "audio_duration_ms",
    "waveform",
)


@functools.cache
def _shown() -> dict[str, Columns]:
    """The columns the arena page reads, per table alias (the battle: all of them)."""
    return {
        "b": Columns.of(Battle, "b"),
        "c": Columns.of(Challenge, "c", _SHOWN_CHALLENGE),
        "g": Columns.of(Category, "g", _SHOWN_CATEGORY),
        "ra": Columns.of(Response, "ra", _SHOWN_ANSWER),
        "rb": Columns.of(Response, "rb", _SHOWN_ANSWER),
    }


def battle_shown_sql(source: str) -> str:
    """SELECT of what the page shows of the battle `b`, from `source` (a table or a CTE
    named b), in plain SQL: the ORM spent more time compiling this join than the database
    spends running it. battle_shown makes the battle of its row."""
    shown = _shown()
    return (
        f"SELECT {', '.join(part.select for part in shown.values())}"
        f" FROM {source}"
        f" JOIN {table(Challenge)} c ON c.id = b.challenge_id"
        f" LEFT JOIN {table(Category)} g ON g.id = c.category_id"
        f" JOIN {table(Response)} ra ON ra.id = b.response_a_id"
        f" JOIN {table(Response)} rb ON rb.id = b.response_b_id"
    )


def battle_shown(row) -> Battle:
    """The battle of a battle_shown_sql row, with its challenge, category and answers."""
    values, shown = iter(row), _shown()
    battle = shown["b"].take(values)
    battle.challenge = shown["c"].take(values)
    category = shown["g"].take(values)
    battle.challenge.category = category if category.pk is not None else None
    battle.response_a = shown["ra"].take(values)
    battle.response_b = shown["rb"].take(values)
    return battle


def battle_with_answers(battle_id: int) -> Battle:
    """A battle with what the arena page shows of its challenge, category and both answers;
    one query."""
    with connection.cursor() as cursor:
        cursor.execute(f"{battle_shown_sql(f'{table(Battle)} b')} WHERE b.id = %s", [battle_id])
        return battle_shown(cursor.fetchone())


def ratings_categories() -> list[Category]:
    """Categories that have at least one published challenge, for filters. Every full arena
    page shows them: kept in this process for the content version, which every write of a
    category or challenge bumps (publishing included); none of them may be changed by the
    caller."""
    return per_content_version_in_process("arena:ratings-categories", _ratings_categories)


def _ratings_categories() -> list[Category]:
    return list(
        Category.objects.annotate(
            n=Count("challenges", filter=Q(challenges__is_published=True))
        ).filter(n__gt=0)
    )


def snapshot_models(snapshot: LeaderboardSnapshot | None) -> dict[int, AIModel]:
    ids = (snapshot.win_matrix or {}).get("models", []) if snapshot else []
    return AIModel.objects.in_bulk(ids) if ids else {}


@dataclass(frozen=True)
class VoterRecord:
    """One user's votes and how often they sided with the leaderboard's favourite."""

    votes: int
    # Votes for A or B between two models that both have a rating in the latest snapshot.
    decisive: int
    # Of those, how many went to the model rated higher.
    agreed: int

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.decisive if self.decisive else None


def voter_record(user_id: int) -> VoterRecord:
    """`user_id`'s votes against the latest overall snapshot (all voters); two queries."""
    groups = list(
        Vote.objects.filter(user_id=user_id)
        .values_list("model_a_id", "model_b_id", "outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    ratings = latest_ratings()
    decisive = agreed = 0
    for model_a, model_b, outcome, n in groups:
        rating_a, rating_b = ratings.get(model_a), ratings.get(model_b)
        if outcome not in ("a", "b") or rating_a is None or rating_b is None:
            continue
        if rating_a.rating == rating_b.rating:
            continue
        decisive += n
        favourite = "a" if rating_a.rating > rating_b.rating else "b"
        agreed += n if outcome == favourite else 0
    return VoterRecord(votes=sum(n for *_, n in groups), decisive=decisive, agreed=agreed)


@dataclass(frozen=True)
class HistoryPoint:
    """One model's rating in one overall snapshot."""

    model_id: int
    model_name: str
    computed_at: datetime
    rating: float
    lower: float
    upper: float


def rating_history(*, models: int = 8, snapshots: int = 20) -> list[HistoryPoint]:
    """Overall ratings of the `models` best models of the newest snapshot, across the newest
    `snapshots` overall snapshots, oldest first; three small queries."""
    snapshot_ids = list(_newest_snapshots(None).values_list("pk", flat=True)[:snapshots])
    if not snapshot_ids:
        return []
    leaders = list(
        LeaderboardRow.objects.filter(snapshot_id=snapshot_ids[0])
        .order_by("rank", "-rating", "model_id")
        .values_list("model_id", flat=True)[:models]
    )
    rows = (
        LeaderboardRow.objects.filter(snapshot_id__in=snapshot_ids, model_id__in=leaders)
        .order_by("snapshot__computed_at", "snapshot_id", "model_id")
        .values_list("model_id", "model__name", "snapshot__computed_at", "rating", "lower", "upper")
    )
    return [HistoryPoint(*row) for row in rows]


EXCLUSIONS_SHOWN = 50


def exclusions_log() -> dict:
    """For the public exclusions log: the rules as configured, uncounted votes per rule, and
    the latest ones with their reason (time, category and reason only). Three queries."""
    excluded = Vote.objects.filter(is_counted=False)
    per_rule = dict(excluded.order_by().values_list("excluded_rule").annotate(n=Count("pk")))
    return {
        "rules": ExclusionSettings.current(),
        "counts": [(rule.label, per_rule.get(rule.value, 0)) for rule in ExclusionRule],
        "total": sum(per_rule.values()),
        "counted": Vote.objects.filter(is_counted=True).count(),
        "recent": excluded.select_related("category")
        .only("created_at", "excluded_rule", "excluded_reason", "category__name")
        .order_by("-created_at")[:EXCLUSIONS_SHOWN],
    }


@dataclass(frozen=True)
class PositionBias:
    a_wins: int
    b_wins: int

    @property
    def decisive(self) -> int:
        return self.a_wins + self.b_wins

    @property
    def share_a(self) -> float | None:
        return self.a_wins / self.decisive if self.decisive else None


def position_bias() -> PositionBias:
    """Counted decisive votes won by the left (A) and right (B) seat; one query. Sides are
    assigned at random, so a share far from ½ measures voters' lean towards a position."""
    counts = Vote.objects.filter(is_counted=True).aggregate(
        a_wins=Count("pk", filter=Q(outcome=Vote.Outcome.A)),
        b_wins=Count("pk", filter=Q(outcome=Vote.Outcome.B)),
    )
    return PositionBias(**counts)


def top_tier_rows():
    """Per category, the rows of its newest snapshot in tier 1 — the leader and every model
    whose interval overlaps the leader's — with model, creator and category loaded; one
    query."""
    newest_of_category = (
        LeaderboardSnapshot.objects.filter(category_id=OuterRef("snapshot__category_id"))
        .order_by("-computed_at", "-pk")
        .values("pk")[:1]
    )
    return (
        LeaderboardRow.objects.filter(
            snapshot__category__isnull=False,
            snapshot_id=Subquery(newest_of_category),
            tier=1,
        )
        .select_related("model", "model__provider", "snapshot__category")
        .order_by("snapshot__category__position", "snapshot__category__name", "model__name")
    )


def demo_votes_exist() -> bool:
    """Whether any simulated (`loaddemo`) votes are stored; pages then say so."""
    return Vote.objects.filter(session_key=DEMO_VOTER).exists()


def live_battle_for_page(token: str, voter: str) -> LiveBattle | None:
    """The live battle `token` if it was started by the arena visitor `voter`, with its two
    answers (side A first) as they stream in; else None. Loads no model: the page must not
    know which model wrote which side before the vote."""
    if not voter:
        return None
    return (
        LiveBattle.objects.filter(token=token, session_key=voter)
        .select_related("run", "battle")
        .prefetch_related(
            Prefetch(
                "run__results",
                queryset=LabResult.objects.select_related("run")
                .only(
                    "id",
                    "run",
                    "position",
                    "state",
                    "content",
                    "run__output_type",
                    "run__created_at",
                )
                .order_by("position"),
            )
        )
        .first()
    )


def live_battles_open(user_id: int | None = None) -> bool:
    """Whether a live battle can be offered to this visitor: two models to draw from (free
    ones only for anonymous visitors without a spending allowance). Every full arena page
    asks: kept in this process for the content version, which every write of a model or a
    gateway bumps, under the settings it depends on. (Whether a paid gateway's key is set is
    read from the environment, which does not change while a process runs.)"""
    free_only = user_id is None and not settings.ARENA_LIVE_ANON_DAILY_USD
    return per_content_version_in_process(
        ("arena:live-battles-open", free_only, settings.LAB_ALLOW_PAID_GATEWAYS),
        lambda: _live_battles_open(free_only),
    )


def _live_battles_open(free_only: bool) -> bool:
    models = runnable_models(LabRun.Kind.LIVE)
    if free_only:
        models = models.filter(gateway__kind=Gateway.Kind.DEMO)
    return models[:2].count() == 2


def battle_has_vote(battle: Battle) -> bool:
    return Vote.objects.filter(battle=battle).exists()
