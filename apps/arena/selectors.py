"""Reads of the arena. Other apps read ratings only through these functions."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Subquery

from apps.arena.models import (
    Battle,
    ExclusionRule,
    ExclusionSettings,
    LeaderboardRow,
    LeaderboardSnapshot,
    Vote,
)
from apps.catalog.models import AIModel
from apps.challenges.models import Category


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


def _newest_snapshots(category: Category | None):
    snapshots = (
        LeaderboardSnapshot.objects.filter(category__isnull=True)
        if category is None
        else LeaderboardSnapshot.objects.filter(category=category)
    )
    return snapshots.order_by("-computed_at", "-pk")


def _latest_snapshot_id(category: Category | None):
    return Subquery(_newest_snapshots(category).values("pk")[:1])


def latest_rows(category: Category | None = None):
    """Rows of the newest snapshot for `category` (None: overall), with model, creator and
    snapshot loaded, best first — one query."""
    return (
        LeaderboardRow.objects.filter(snapshot_id=_latest_snapshot_id(category))
        .select_related("model", "model__provider", "snapshot")
        .order_by("rank", "-rating", "model__name")
    )


def latest_snapshot_id(category: Category | None = None) -> int | None:
    """The id of the newest snapshot for `category` (None: overall); one indexed query."""
    return _newest_snapshots(category).values_list("pk", flat=True).first()


def snapshot_rows(snapshot_id: int):
    """Rows of one snapshot, as `latest_rows` gives them — one query."""
    return (
        LeaderboardRow.objects.filter(snapshot_id=snapshot_id)
        .select_related("model", "model__provider", "snapshot")
        .order_by("rank", "-rating", "model__name")
    )


def latest_snapshot(category: Category | None = None) -> LeaderboardSnapshot | None:
    return (
        LeaderboardSnapshot.objects.filter(pk=_latest_snapshot_id(category))
        .select_related("category")
        .first()
    )


def latest_ratings(category: Category | None = None) -> dict[int, RatingRow]:
    """{model id: RatingRow} from the newest snapshot of `category` (None: overall); one
    query. Models without votes are absent."""
    rows = LeaderboardRow.objects.filter(snapshot_id=_latest_snapshot_id(category)).values_list(
        "model_id",
        "rank",
        "rating",
        "lower",
        "upper",
        "votes",
        "win_rate",
        "is_provisional",
        "snapshot__computed_at",
    )
    return {row[0]: RatingRow(*row) for row in rows}


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


def head_to_head(model_a: AIModel | int, model_b: AIModel | int) -> HeadToHead:
    """Counted votes between two models in either seat, from `model_a`'s side; one query."""
    a = getattr(model_a, "pk", model_a)
    b = getattr(model_b, "pk", model_b)
    as_a = Q(model_a_id=a, model_b_id=b)
    as_b = Q(model_a_id=b, model_b_id=a)
    counts = Vote.objects.filter(as_a | as_b, is_counted=True).aggregate(
        wins_a=Count("pk", filter=(as_a & Q(outcome="a")) | (as_b & Q(outcome="b"))),
        wins_b=Count("pk", filter=(as_a & Q(outcome="b")) | (as_b & Q(outcome="a"))),
        ties=Count("pk", filter=Q(outcome="tie")),
        both_bad=Count("pk", filter=Q(outcome="both_bad")),
    )
    return HeadToHead(**counts)


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
    either_seat = Q()
    for a, b in pairs:
        either_seat |= Q(model_a_id=a, model_b_id=b) | Q(model_a_id=b, model_b_id=a)
    return _pair_counts(either_seat)


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


def battle_for_page(token: str, voter: str) -> Battle | None:
    return (
        Battle.objects.for_voter(voter)
        .select_related("challenge", "response_a", "response_b")
        .filter(token=token)
        .first()
    )


def battle_revealed(battle: Battle):
    """The battle with its models and creators, for the reveal after a vote."""
    return (
        Battle.objects.select_related(
            "challenge",
            "vote",
            "response_a__model__provider",
            "response_b__model__provider",
        )
        .filter(pk=battle.pk)
        .first()
    )


def ratings_categories():
    """Categories that have at least one published challenge, for filters."""
    return Category.objects.annotate(
        n=Count("challenges", filter=Q(challenges__is_published=True))
    ).filter(n__gt=0)


def snapshot_models(snapshot: LeaderboardSnapshot | None) -> dict[int, AIModel]:
    ids = (snapshot.win_matrix or {}).get("models", []) if snapshot else []
    return AIModel.objects.in_bulk(ids) if ids else {}


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
