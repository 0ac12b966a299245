"""What the JSON API and the MCP server serve, read through the apps' selectors and shaped by
schemas.py. Both call these functions, so there is one query path per resource.

Every function runs a fixed number of queries, whatever the data size. Bad input raises
InvalidParameter (an unknown slug raises NotFound), which each transport reports its own way.
"""

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    JSONField,
    OuterRef,
    Subquery,
)
from django.db.models.functions import JSONObject
from django.http import Http404
from django.urls import reverse

from apps.arena import leaderboard as arena_board
from apps.arena import selectors as arena
from apps.catalog import selectors as catalog
from apps.catalog.models import AIModel
from apps.challenges import selectors as challenges
from apps.compare import metrics as compare_metrics
from apps.compare import selectors as compare
from apps.developers import schemas
from apps.developers.cursors import CursorError, Page, Sort, paginate
from apps.responses import selectors as responses

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_TEXT = 200

MODEL_SORTS = {"name": "name", "-name": "name", "updated_at": "updated_at"}
MODEL_SORTS["-updated_at"] = "updated_at"
CHALLENGE_SORTS = {"title": "title", "-title": "title", "created_at": "created_at"}
CHALLENGE_SORTS["-created_at"] = "created_at"
RESPONSE_SORTS = {
    "collected_at": "collected_at",
    "-collected_at": "collected_at",
    "added_at": "created_at",
    "-added_at": "created_at",
}


class InvalidParameter(ValueError):
    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class Listing:
    """One page of a resource, with the newest modification time among its items."""

    items: list
    next_cursor: str | None
    last_modified: datetime | None


def aware(moment: datetime | None) -> datetime | None:
    """A client's timestamp in UTC (naive ones are taken as UTC): PostgreSQL refuses offsets
    beyond ±16 hours that ISO 8601 allows. OverflowError for a moment outside the calendar."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _page(queryset, *, sort: str, sorts: dict, cursor: str | None, limit: int) -> Page:
    if sort not in sorts:
        raise InvalidParameter("sort", f"Sort by one of: {', '.join(sorts)}.")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter("limit", f"limit must be between 1 and {MAX_LIMIT}.")
    try:
        return paginate(queryset, sort=Sort(sort, sorts[sort]), cursor=cursor, limit=limit)
    except CursorError as error:
        raise InvalidParameter("cursor", str(error)) from error


def _listing(
    queryset,
    shape: Callable,
    *,
    sort: str,
    sorts: dict,
    cursor: str | None,
    limit: int,
    modified: str | None = None,
) -> Listing:
    """One page of `queryset`, each row through `shape`; `modified` names the rows' field
    whose newest value is the page's Last-Modified (None: no such time)."""
    page = _page(queryset, sort=sort, sorts=sorts, cursor=cursor, limit=limit)
    newest = _newest(getattr(row, modified) for row in page.items) if modified else None
    return Listing([shape(row) for row in page.items], page.next_cursor, newest)


def _check(**values: str | None) -> None:
    """Free-text and slug arguments: bounded, and free of what PostgreSQL cannot store."""
    for name, value in values.items():
        if value and (len(value) > MAX_TEXT or "\x00" in value):
            raise InvalidParameter(name, f"{name} must be at most {MAX_TEXT} characters of text.")


def _newest(moments) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def _category(slug: str | None):
    """The category for a slug (None: overall); NotFound when no such category exists."""
    if not slug:
        return None
    _check(category=slug)
    category = challenges.category_by_slug(slug)
    if category is None:
        raise NotFound(f"No category '{slug}'.")
    return category


# --- Models and creators ----------------------------------------------------------------------


def list_models(
    *,
    creator: str = "",
    status: str = "",
    capability: str = "",
    modality: str = "",
    q: str = "",
    updated_since: datetime | None = None,
    sort: str = "name",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Listing:
    """One query: the page with its models' capability and modality slugs and overall
    ratings."""
    _check(creator=creator, status=status, capability=capability, modality=modality, q=q)
    filters = catalog.ModelFilters(
        q=q, creator=creator, capability=capability, category=modality, status=status
    )
    found = catalog.model_records(filters, updated_since=aware(updated_since))
    page = _page(
        _with_tags_and_rating(found), sort=sort, sorts=MODEL_SORTS, cursor=cursor, limit=limit
    )
    return Listing(
        [
            schemas.model(
                m,
                m.overall and RatingValues(**m.overall),
                capabilities=m.capability_slugs,
                modalities=m.modality_slugs,
            )
            for m in page.items
        ],
        page.next_cursor,
        _newest(m.updated_at for m in page.items),
    )


def _slugs_of(through, field: str):
    """The slugs a model's many-to-many `field` points at, in their name order, as an array
    computed in the model's own row."""
    return ArraySubquery(
        through.objects.filter(aimodel_id=OuterRef("pk"))
        .order_by(f"{field}__name")
        .values(f"{field}__slug")
    )


def _with_tags_and_rating(models):
    """`models` with `capability_slugs`, `modality_slugs` and `overall` (RATING_VALUES of
    its row in the newest overall snapshot as a JSON object; None: unrated) in the same
    query, computed for the page's rows only. Prefetching the tags built a Capability or
    Modality instance per link and a related manager per model, and reading the ratings
    apart read all 300 rows of the snapshot: three more queries and most of the endpoint's
    time."""
    rating = (
        _overall_rows()
        .filter(model_id=OuterRef("pk"))
        .annotate(values=JSONObject(**{name: name for name in RATING_VALUES}))
        .values("values")
    )
    return models.prefetch_related(None).annotate(
        capability_slugs=_slugs_of(AIModel.capabilities.through, "capability"),
        modality_slugs=_slugs_of(AIModel.modalities.through, "modality"),
        overall=Subquery(rating, output_field=JSONField()),
    )


# A model's overall rating: the fields schemas.rating reads.
RATING_VALUES = ("rank", "rating", "lower", "upper", "votes", "win_rate", "is_provisional")
RatingValues = namedtuple("RatingValues", RATING_VALUES)


def _overall_rows():
    return arena.latest_rows(None).order_by()


def _overall_ratings(model_ids: list[int]) -> dict:
    """{model id: RatingValues} from the newest overall snapshot, for these models only: one
    query."""
    rows = _overall_rows().filter(model_id__in=model_ids).values_list("model_id", *RATING_VALUES)
    return {row[0]: RatingValues(*row[1:]) for row in rows}


def get_model(slug: str) -> schemas.Model:
    """Four queries: the model, capabilities, modalities, its overall rating."""
    _check(slug=slug)
    try:
        found = catalog.model_detail(slug)
    except Http404 as error:
        raise NotFound(f"No model '{slug}'.") from error
    return schemas.model(
        found,
        _overall_ratings([found.pk]).get(found.pk),
        capabilities=[c.slug for c in found.capabilities.all()],
        modalities=[m.slug for m in found.modalities.all()],
    )


def list_creators(*, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Listing:
    return _listing(
        catalog.creators(),
        schemas.creator,
        sort="name",
        sorts={"name": "name"},
        cursor=cursor,
        limit=limit,
    )


# --- Challenges and responses -----------------------------------------------------------------


def list_challenges(
    *,
    category: str = "",
    output_type: str = "",
    q: str = "",
    sort: str = "title",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Listing:
    _check(category=category, output_type=output_type, q=q)
    filters = challenges.ChallengeFilters(q=q, category=category, output_type=output_type)
    return _listing(
        responses.challenge_records(filters),
        schemas.challenge,
        sort=sort,
        sorts=CHALLENGE_SORTS,
        cursor=cursor,
        limit=limit,
        modified="updated_at",
    )


def get_challenge(slug: str) -> schemas.Challenge:
    """One published challenge with its response count: one query."""
    _check(slug=slug)
    found = responses.challenge_records(challenges.ChallengeFilters()).filter(slug=slug).first()
    if found is None:
        raise NotFound(f"No challenge '{slug}'.")
    return schemas.challenge(found)


def list_responses(
    *,
    model: str = "",
    challenge: str = "",
    category: str = "",
    added_since: datetime | None = None,
    sort: str = "-collected_at",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Listing:
    """One query: visible responses only (never arena-only ones), with everything loaded."""
    _check(model=model, challenge=challenge, category=category)
    filters = responses.ResponseFilters(
        model=model, challenge=challenge, category=category, added_since=aware(added_since)
    )
    return _listing(
        responses.response_records(filters),
        schemas.response,
        sort=sort,
        sorts=RESPONSE_SORTS,
        cursor=cursor,
        limit=limit,
        modified="created_at",
    )


# --- Compare and leaderboard -------------------------------------------------------------------


def compare_models(slugs: list[str]) -> schemas.Comparison:
    """Two to four models over the challenges all of them answered, with the compare pages'
    metrics and marks. Six queries at most."""
    for slug in slugs:
        _check(models=slug)
    try:
        slugs = compare.parse_model_list(",".join(slugs))
    except compare.CompareInputError as error:
        raise InvalidParameter("models", str(error)) from error
    models = compare.models_in_order(slugs)
    if models is None:
        raise NotFound("At least one of these models does not exist.")
    ratings = _overall_ratings([m.pk for m in models])
    found = compare.overview(models)
    rows = compare.rows_for(models, found.shared)
    head_to_head = None
    if len(models) == 2:
        record = arena.head_to_head(models[0], models[1])
        head_to_head = schemas.HeadToHead(
            wins=[record.wins_a, record.wins_b], ties=record.ties, both_bad=record.both_bad
        )
    return schemas.Comparison(
        models=[schemas.rated_model_ref(m, ratings.get(m.pk)) for m in models],
        shared_challenges=len(found.shared),
        partial_challenges=len(found.partial),
        head_to_head=head_to_head,
        challenges=[_compare_row(row) for row in rows],
    )


def _compare_row(row) -> schemas.CompareChallenge:
    sides = []
    for side in row.sides:
        r = side.response
        if r is None:
            continue
        length = compare_metrics.output_length(r)[0]
        sides.append(
            schemas.CompareSide(
                model=side.model.slug,
                response_url=schemas.absolute(
                    reverse("responses:detail", args=[side.model.slug, row.entry.slug])
                ),
                length=length,
                output_tokens=r.tokens_out,
                latency_ms=r.latency_ms,
                cost_usd=None if r.cost_usd is None else float(r.cost_usd),
                best=[label for label, cell in side.metrics if cell.best],
            )
        )
    entry = row.entry
    category = (
        schemas.CategoryRef(slug=entry.category_slug, name=entry.category_name)
        if entry.category_slug
        else None
    )
    return schemas.CompareChallenge(
        challenge=schemas.ChallengeRef(slug=entry.slug, title=entry.title, category=category),
        output_type=entry.output_type,
        sides=sides,
    )


VOTERS = ("all", "verified")
# What a leaderboard row is served from: plain values, never model instances. Building a
# LeaderboardRow, its model, creator and snapshot (whose style coefficients are JSON decoded
# again for every row) for 300 rows was most of the endpoint's time; the snapshot is read
# once, on its own.
ROW_VALUES = (
    *("pk", "rank", "rating", "lower", "upper", "votes", "win_rate", "is_provisional", "tier"),
    *("style_rating", "style_lower", "style_upper", "style_rank", "style_tier"),
    *("rival_score", "consistency", "flip_votes", "flip_exact"),
    *("model__slug", "model__name", "model__provider__slug", "model__provider__name"),
)
BOARD_SORTS = ("rank", "score")


def _board_rows(snapshot_id: int | None) -> list:
    """A snapshot's rows as named tuples (ROW_VALUES), best first: one query, none for no
    snapshot."""
    if snapshot_id is None:
        return []
    return list(arena.snapshot_rows(snapshot_id).values_list(*ROW_VALUES, named=True))


def leaderboard(
    category: str | None = None,
    *,
    style_control: bool = False,
    voters: str = "all",
    sort: str = "rank",
) -> dict:
    """The newest snapshot's rows for a category (None: overall) as the leaderboard page
    shows them: plain or style-controlled, everyone's votes or verified voters' (overall
    only), by rank or by Rival Score; a schemas.Leaderboard as a plain dict (see
    schemas.leaderboard_row). Two queries (three for verified voters' board)."""
    if voters not in VOTERS:
        raise InvalidParameter("voters", f"voters must be one of: {', '.join(VOTERS)}.")
    if sort not in BOARD_SORTS:
        raise InvalidParameter("sort", f"Sort by one of: {', '.join(BOARD_SORTS)}.")
    if voters == "verified":
        if category:
            raise InvalidParameter(
                "voters", "Verified voters' ratings exist overall only: leave out category."
            )
        found = None
        snapshot_id = arena.latest_snapshot_id(None, voters)
        snapshot = arena.snapshot_with_category(snapshot_id) if snapshot_id else None
    else:
        found = _category(category)
        snapshot = arena.latest_snapshot(found)
    rows = _board_rows(snapshot.pk if snapshot else None)
    view = arena_board.BoardView(style=style_control, sort=sort, voters=voters)
    return {
        "category": None if found is None else {"slug": found.slug, "name": found.name},
        "voters": voters,
        "style_control": style_control,
        "sort": sort,
        "snapshot_id": snapshot.pk if snapshot else None,
        "computed_at": snapshot.computed_at if snapshot else None,
        "style_coefficients": schemas.style_coefficients(snapshot),
        "rows": [schemas.leaderboard_row(row) for row in arena_board.board_rows(rows, view)],
    }


def list_snapshots(
    *, category: str | None = None, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Listing:
    return _listing(
        arena.snapshot_history(_category(category)),
        schemas.snapshot,
        sort="-computed_at",
        sorts={"-computed_at": "computed_at"},
        cursor=cursor,
        limit=limit,
        modified="computed_at",
    )


def get_snapshot(snapshot_id: int) -> schemas.SnapshotDetail:
    found = arena.snapshot_with_category(snapshot_id)
    if found is None:
        raise NotFound(f"No snapshot {snapshot_id}.")
    return schemas.SnapshotDetail(
        **schemas.snapshot(found).model_dump(),
        style_coefficients=schemas.style_coefficients(found),
        rows=[schemas.leaderboard_row(row) for row in _board_rows(found.pk)],
    )


# --- What changed on the leaderboard -------------------------------------------------------------

CHANGES_SNAPSHOTS = 20


@dataclass(frozen=True)
class Change:
    kind: str  # "new-leader", "newly-ranked", "retired"
    title: str
    description: str
    moment: datetime
    url: str
    key: str  # stable across rebuilds: what makes this change this one


def leaderboard_changes() -> list[Change]:
    """Changes on the overall leaderboard, newest first: a new #1 or a newly ranked model
    between consecutive snapshots, and model retirements. Three queries."""
    snapshots = list(arena.snapshot_history(None)[:CHANGES_SNAPSHOTS])
    rows: dict[int, list] = {s.pk: [] for s in snapshots}
    for row in arena.rows_of_snapshots(list(rows)):
        if row.rank is not None:  # provisional models are not ranked
            rows[row.snapshot_id].append(row)
    board = schemas.absolute(reverse("arena:leaderboard"))
    changes = []
    for newer, older in zip(snapshots, snapshots[1:], strict=False):
        now_rows, before_rows = rows[newer.pk], rows[older.pk]
        if now_rows and before_rows and now_rows[0].model_id != before_rows[0].model_id:
            leader = now_rows[0]
            changes.append(
                Change(
                    "new-leader",
                    f"New #1: {leader.model.name}",
                    f"{leader.model.name} now leads the overall leaderboard at "
                    f"{leader.rating:.0f} ± {(leader.upper - leader.lower) / 2:.0f}, ahead of "
                    f"{before_rows[0].model.name}.",
                    newer.computed_at,
                    board,
                    f"new-leader-{newer.pk}",
                )
            )
        ranked_before = {row.model_id for row in before_rows}
        for row in now_rows:
            if row.model_id not in ranked_before:
                changes.append(
                    Change(
                        "newly-ranked",
                        f"Newly ranked: {row.model.name}",
                        f"{row.model.name} enters the overall leaderboard at #{row.rank} "
                        f"({row.rating:.0f}, {row.votes} votes).",
                        newer.computed_at,
                        board,
                        f"ranked-{newer.pk}-{row.model_id}",
                    )
                )
    for model in catalog.graveyard():
        changes.append(
            Change(
                "retired",
                f"Retired: {model.name}",
                f"{model.name} was retired on {model.retired_on:%B %-d, %Y}.",
                datetime.combine(model.retired_on, datetime.min.time(), tzinfo=UTC),
                schemas.absolute(model.get_absolute_url()),
                f"retired-{model.pk}",
            )
        )
    changes.sort(key=lambda change: change.moment, reverse=True)
    return changes
