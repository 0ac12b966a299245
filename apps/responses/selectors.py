from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Left, Length
from django.http import Http404
from django.shortcuts import get_object_or_404

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge, OutputType
from apps.challenges.selectors import (
    CHALLENGE_SORTS,
    DEFAULT_CHALLENGE_SORT,
    ChallengeFilters,
    challenge_list,
)
from apps.responses.cards import ChallengeResponseCard, CollectedDates
from apps.responses.models import Response
from rival.links import link, links_to
from rival.sqlrows import MARK_ID, MARK_OTHER_ID, MARK_OTHER_TEXT, MARK_TEXT, Prepared


@dataclass(frozen=True)
class ResponseFilters:
    model: str = ""
    challenge: str = ""
    category: str = ""
    added_since: datetime | None = None


def response_records(filters: ResponseFilters):
    """Visible responses with their model, creator, challenge and category and every column of
    the reproducibility card (not the rendered HTML): one query, unordered."""
    responses = Response.objects.visible().with_related().defer("rendered_html", "rendered_hash")
    if filters.model:
        responses = responses.filter(model__slug=filters.model)
    if filters.challenge:
        responses = responses.filter(challenge__slug=filters.challenge)
    if filters.category:
        responses = responses.filter(challenge__category__slug=filters.category)
    if filters.added_since is not None:
        responses = responses.filter(created_at__gte=filters.added_since)
    return responses


def framed_output(pk: int) -> Response:
    """A visible HTML or SVG response, with only what the frame needs; 404 otherwise."""
    return get_object_or_404(
        Response.objects.visible()
        .filter(output_type__in=[OutputType.HTML, OutputType.SVG])
        .only("id", "content", "output_type"),
        pk=pk,
    )


# Compiled once (rival/sqlrows.py): the ORM spent longer building and compiling these than
# the database spent answering them, about half of a response page's CPU.
_response_by_slugs = Prepared(
    lambda model_slug, challenge_slug: (
        Response.objects.visible()
        .with_related()
        .filter(model__slug=model_slug, challenge__slug=challenge_slug)
    ),
    MARK_TEXT,
    MARK_OTHER_TEXT,
)


def response_for_page(*, model_slug: str, challenge_slug: str) -> Response:
    """The visible response of a model to a challenge, with its model, creator, challenge and
    category; 404 when there is none. Retired models' responses stay browsable. (The model's
    capabilities and categories are read by the page's "About" region, cached per content
    version, so only when it renders: catalog's model_tags.)"""
    found = _response_by_slugs(model_slug, challenge_slug)
    if not found:
        raise Http404("No Response matches the given query.")
    return found[0]


OTHER_RESPONSES = 6

_other_responses = Prepared(
    lambda challenge_id, response_id: (
        Response.objects.visible()
        .filter(challenge_id=challenge_id)
        .exclude(pk=response_id)
        .select_related("model")
        .only("id", "model__slug", "model__name", "model__featured", "model__release_date")
        .order_by(
            "-model__featured", F("model__release_date").desc(nulls_last=True), "model__name"
        )[:OTHER_RESPONSES]
    ),
    MARK_ID,
    MARK_OTHER_ID,
)


def other_responses(response: Response) -> list[Response]:
    """Other models' visible responses to the same challenge: featured and newest models first."""
    return _other_responses(response.challenge_id, response.pk)


def _challenge_counter(responses: Callable[[], QuerySet]) -> Callable[[int], int]:
    """How many rows of `responses()` answer a given challenge: one indexed count, compiled
    once (rival/sqlrows.py Prepared)."""
    prepared = Prepared(
        lambda challenge_id: (
            responses()
            .filter(challenge_id=challenge_id)
            .order_by()
            .values("challenge_id")
            .annotate(n=Count("*"))
            .values_list("n")
        ),
        MARK_ID,
    )

    def count(challenge_id: int) -> int:
        counted = prepared(challenge_id)
        return counted[0][0] if counted else 0

    return count


_visible_count = _challenge_counter(Response.objects.visible)
_blind_count = _challenge_counter(Response.objects.blind)


def responded_count(challenge_id: int) -> int:
    """How many visible responses the challenge has."""
    return _visible_count(challenge_id)


def in_arena_count(*, challenge: Challenge) -> int:
    """How many responses to this challenge only the arena shows yet: the blind pool of
    docs/arena.md. One indexed count. (A model page counts its own with model_responses.)"""
    return _blind_count(challenge.pk)


def pool_sizes() -> tuple[int, int]:
    """(visible, in the arena): how many published responses to published challenges public
    pages show, and how many only the arena shows yet; one query. Each such response is one
    or the other (ResponseQuerySet.visible and .blind are complements)."""
    counts = (
        Response.objects.published()
        .filter(challenge__is_published=True)
        .aggregate(
            total=Count("pk"),
            visible=Count("pk", filter=Q(public_from__isnull=False, challenge__arena_only=False)),
        )
    )
    return counts["visible"], counts["total"] - counts["visible"]


def visible_count() -> int:
    """How many responses the site shows. A full count on every response page would cost
    more than the rest of the page, and a minute-old figure reads the same."""
    return cache.get_or_set("responses:visible_count", Response.objects.visible().count, 60)


def missing_response_context(*, model_slug: str, challenge_slug: str) -> dict:
    """For a helpful 404: the model and challenge that do exist, if either does."""
    return {
        "model": AIModel.objects.filter(slug=model_slug).only("slug", "name").first(),
        "challenge": Challenge.objects.published()
        .filter(slug=challenge_slug)
        .only("slug", "title")
        .first(),
    }


@dataclass(frozen=True)
class ResponseCard(CollectedDates):
    """A response as the home page lists it: plain values, links made, its date formatted as
    the `date` filter formats it (rival/formatting.py)."""

    url: str
    model_name: str
    challenge_url: str
    challenge_title: str
    category_name: str | None
    output_type_label: str
    collected_at: datetime


NEWEST_RESPONSES = 12

# Compiled once (rival/sqlrows.py): the ORM spent longer on this query than the database.
_newest = Prepared(
    lambda: (
        Response.objects.visible()
        .order_by("-collected_at", "-id")
        .values_list(
            "model__slug",
            "model__name",
            "challenge__slug",
            "challenge__title",
            "challenge__category__name",
            "output_type",
            "collected_at",
        )[:NEWEST_RESPONSES]
    )
)


def newest_responses() -> list[ResponseCard]:
    """The newest visible responses as cards: one query of the shown columns (no model
    instances), one reverse() per kind of link (rival/links.py)."""
    rows = _newest()
    labels = dict(OutputType.choices)
    return [
        ResponseCard(
            url=link("responses:detail", model_slug, challenge_slug),
            model_name=model_name,
            challenge_url=link("challenges:detail", challenge_slug),
            challenge_title=title,
            category_name=category,
            output_type_label=labels.get(output_type, output_type),
            collected_at=collected_at,
        )
        for model_slug, model_name, challenge_slug, title, category, output_type, collected_at in (
            rows
        )
    ]


# --- Responses on other apps' pages ----------------------------------------------------------

RESPONSE_SORTS = {
    "model": ("Model name", (F("model__name").asc(),)),
    "newest": ("Newest", (F("collected_at").desc(),)),
    "longest": ("Longest", (F("length").desc(), F("model__name").asc())),
    "shortest": ("Shortest", (F("length").asc(), F("model__name").asc())),
    # The view orders by the models' arena ratings after this name ordering.
    "rating": ("Arena rating", (F("model__name").asc(),)),
}
DEFAULT_RESPONSE_SORT = "model"
EXCERPT_CHARS = 420


def _count_per_row(responses, field: str):
    """How many of `responses` point at the outer row through `field`, as a correlated
    subquery: an index scan of that row's responses, where a join and GROUP BY would aggregate
    the whole responses table (5 ms against 50 ms at 40k responses)."""
    per_row = (
        responses.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(per_row, output_field=IntegerField()), 0)


def with_response_counts(queryset, field: str):
    """`queryset` (of challenges, or of models) with `response_count`, the responses public
    pages show, and `in_arena`, those only the arena shows yet (docs/arena.md); `field` is the
    response's foreign key to the row ("challenge" or "model"). Still one query."""
    return queryset.annotate(
        response_count=_count_per_row(Response.objects.visible(), field),
        in_arena=_count_per_row(Response.objects.blind(), field),
    )


# Columns a challenge card shows (and `arena_only`, which decides its counts).
CHALLENGE_CARD_COLUMNS = ("id", "slug", "title", "description", "output_type", "difficulty")
CHALLENGE_CARD_COLUMNS += ("arena_only", "category__name")


@dataclass
class ChallengeCard:
    """A published challenge as the list pages show it: plain values, its link, and its
    response counts (challenge_card_list)."""

    id: int
    slug: str
    title: str
    description: str
    output_type: str
    difficulty: str
    arena_only: bool
    category_name: str | None
    response_count: int | None = None
    in_arena: int | None = None
    url: str = ""

    @property
    def output_type_label(self) -> str:
        return OutputType(self.output_type).label

    @property
    def difficulty_label(self) -> str:
        return Challenge.Difficulty(self.difficulty).label if self.difficulty else ""


def _card_counts() -> dict:
    """Annotations of a published challenge's `response_count` (what public pages show) and
    `in_arena` (what only the arena shows yet, docs/arena.md), as `visible()` and `blind()`
    split its published responses, counted from the indexes alone (see challenge_records)."""
    published = Response.objects.filter(challenge=OuterRef("pk"), is_published=True)
    total = _published_count(published)
    unreleased = _published_count(published.filter(public_from__isnull=True))
    return {
        "response_count": Case(When(arena_only=True, then=Value(0)), default=total - unreleased),
        "in_arena": Case(When(arena_only=True, then=total), default=unreleased),
    }


def challenge_cards(filters: ChallengeFilters):
    """Published challenges matching the filters as rows of CHALLENGE_CARD_COLUMNS, ordered by
    the chosen sort, unevaluated and ready to paginate; `challenge_card_list` turns a page of
    them into cards. Only the "most responses" sort counts the responses of every challenge
    (to order by them; its rows carry the counts), the others count a page's challenges only."""
    sort = filters.sort if filters.sort in CHALLENGE_SORTS else DEFAULT_CHALLENGE_SORT
    challenges = challenge_list(filters)
    columns = CHALLENGE_CARD_COLUMNS
    if sort == "responses":
        challenges = with_response_counts(challenges, "challenge")
        columns += ("response_count", "in_arena")
    return challenges.order_by(*CHALLENGE_SORTS[sort][1], "id").values_list(*columns)


def challenge_card_list(rows) -> list[ChallengeCard]:
    """Rows of CHALLENGE_CARD_COLUMNS (published challenges), with or without their counts, as
    ChallengeCards with their links and counts; one query counts those not counted yet."""
    cards = [ChallengeCard(*row) for row in rows]
    uncounted = {card.id: card for card in cards if card.response_count is None}
    if uncounted:
        counted = (
            Challenge.objects.filter(pk__in=list(uncounted))
            .order_by()
            .values_list("pk")
            .annotate(**_card_counts())
        )
        for pk, response_count, in_arena in counted:
            uncounted[pk].response_count, uncounted[pk].in_arena = response_count, in_arena
    for card in cards:
        card.url = link("challenges:detail", card.slug)
    return cards


# The columns the developer API and MCP server publish of a challenge (the prompt too).
CHALLENGE_RECORD_FIELDS = ("id", "slug", "title", "prompt", "description", "output_type")
CHALLENGE_RECORD_FIELDS += ("difficulty", "created_at", "updated_at", "category__slug")
CHALLENGE_RECORD_FIELDS += ("category__name",)


def _published_count(published):
    """How many of `published` (responses, filtered on the outer challenge) there are."""
    per_challenge = published.order_by().values("challenge").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(per_challenge, output_field=IntegerField()), 0)


def challenge_records(filters: ChallengeFilters):
    """Published challenges (challenge_list) with the columns the developer API and MCP server
    publish and `response_count`: the challenge's Response.objects.visible() responses,
    counted as its published responses minus those not released yet, none for an arena-only
    challenge. Both counts are answered from the (challenge, is_published) index and the
    public_from index alone, where counting visible() reads every response row of the
    challenge: ~1 ms against ~16 ms for a page of 50 on the 40k-response dataset."""
    published = Response.objects.filter(challenge=OuterRef("pk"), is_published=True)
    released = _published_count(published) - _published_count(
        published.filter(public_from__isnull=True)
    )
    return (
        challenge_list(filters)
        .only(*CHALLENGE_RECORD_FIELDS)
        .annotate(response_count=Case(When(arena_only=True, then=Value(0)), default=released))
    )


FEATURED_CHALLENGES = 6


def _featured_rows():
    ordering = ("-featured", "-created_at", "id")
    published = challenge_list(ChallengeFilters())
    return (
        published.filter(pk__in=published.order_by(*ordering).values("pk")[:FEATURED_CHALLENGES])
        .order_by(*ordering)
        .annotate(**_card_counts())
        .values_list(*CHALLENGE_CARD_COLUMNS, "response_count", "in_arena")
    )


# Compiled once (rival/sqlrows.py): the ORM spent longer on this query than the database.
_featured = Prepared(_featured_rows)


def featured_challenges() -> list[ChallengeCard]:
    """Featured challenges first, then the newest, each with its response counts; one query
    (the counts for these challenges only)."""
    return challenge_card_list(_featured())


# The columns of a challenge page's response card (apps/responses/cards.py), length and
# excerpt annotated.
RESPONSE_CARD_COLUMNS = ("id", "model_id", "model__slug", "model__name", "output_type")
RESPONSE_CARD_COLUMNS += ("collected_at", "image", "image_thumb", "image_width", "image_height")
RESPONSE_CARD_COLUMNS += ("audio", "waveform", "length", "excerpt")


def challenge_responses(challenge: Challenge, sort: str):
    """A challenge's visible responses as rows of RESPONSE_CARD_COLUMNS, an excerpt instead of
    the full content so a page of cards stays light whatever the models wrote; ordered by the
    sort, unevaluated and ready to paginate. `challenge_response_cards` makes them cards."""
    ordering = RESPONSE_SORTS.get(sort, RESPONSE_SORTS[DEFAULT_RESPONSE_SORT])[1]
    return (
        Response.objects.visible()
        .filter(challenge=challenge)
        .annotate(length=Length("content"), excerpt=Left("content", EXCERPT_CHARS))
        .order_by(*ordering, "id")
        .values_list(*RESPONSE_CARD_COLUMNS)
    )


def challenge_response_cards(rows, challenge: Challenge) -> list[ChallengeResponseCard]:
    """Rows of `challenge_responses(challenge, …)` as cards: no query beyond the rows'."""
    return [ChallengeResponseCard(*row, challenge_slug=challenge.slug) for row in rows]


class ResponseLink(NamedTuple):
    """One line of a model page's response list (a tuple: a busy model makes a few hundred)."""

    url: str
    title: str
    output_type: str


@dataclass(frozen=True)
class ResponseGroup:
    category: str | None
    responses: list[ResponseLink]


@dataclass(frozen=True)
class ModelResponses:
    """A model page's responses: the visible ones grouped, and how many only the arena shows."""

    groups: list[ResponseGroup]
    in_arena: int


def _model_response_rows(model_id: int):
    shown = Case(
        When(public_from__isnull=False, challenge__arena_only=False, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    return (
        Response.objects.published()
        .filter(model=model_id, challenge__is_published=True)
        .annotate(shown=shown)
        .order_by(
            F("challenge__category__position").asc(nulls_last=True),
            "challenge__category__name",
            "challenge__title",
        )
        .values_list(
            "challenge__category__name",
            "challenge__slug",
            "challenge__title",
            "output_type",
            "shown",
        )
    )


# Compiled once (rival/sqlrows.py): the ORM spent longer on this query than the database.
_model_responses = Prepared(_model_response_rows, MARK_ID)


def model_responses(model: AIModel) -> ModelResponses:
    """The model's visible responses as links grouped by challenge category (in category
    order, then by title), and the count of its blind ones (docs/arena.md): one query of plain
    rows over its published responses to published challenges, which `visible()` and
    `blind()` split between them, each row flagged with its side; no model instances, and one
    reverse() for all the links (rival/links.py) — a busy model lists a few hundred."""
    rows = _model_responses(model.pk)
    visible = []
    in_arena = 0
    for row in rows:
        if row[4]:
            visible.append(row)
        else:
            in_arena += 1
    labels = dict(OutputType.choices)
    url_of = links_to("responses:detail", model.slug)
    groups = [
        ResponseGroup(
            category=category,
            responses=[
                ResponseLink(url_of(slug), title, labels.get(output_type, output_type))
                for _, slug, title, output_type, _ in group
            ],
        )
        for category, group in groupby(visible, key=itemgetter(0))
    ]
    return ModelResponses(groups=groups, in_arena=in_arena)


# --- Aggregates for charts (the Insights page and the API) -----------------------------------


@dataclass(frozen=True)
class CreatorSpeed:
    """How fast a creator's models answered, over their visible responses."""

    slug: str
    name: str
    responses: int
    mean_latency_ms: float
    tokens_per_second: float | None


def speed_by_creator() -> list[CreatorSpeed]:
    """Mean latency and output tokens per second of each AI creator's visible responses
    with a measured latency, fastest first; one grouped query. Tokens per second is total
    output tokens over total time, so long answers weigh as much as they took."""
    rows = (
        Response.objects.visible()
        .filter(latency_ms__gt=0)
        .values("model__provider__slug", "model__provider__name")
        .annotate(
            n=Count("pk"),
            mean_latency=Avg("latency_ms"),
            timed_tokens=Sum("tokens_out", filter=Q(tokens_out__isnull=False)),
            timed_ms=Sum("latency_ms", filter=Q(tokens_out__isnull=False)),
        )
        .order_by("mean_latency", "model__provider__name")
    )
    return [
        CreatorSpeed(
            slug=row["model__provider__slug"],
            name=row["model__provider__name"],
            responses=row["n"],
            mean_latency_ms=float(row["mean_latency"]),
            tokens_per_second=(
                row["timed_tokens"] * 1000 / row["timed_ms"] if row["timed_ms"] else None
            ),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ModelCost:
    """What a model's answers cost, and what answering every published challenge would."""

    slug: str
    name: str
    answered: int
    spent_usd: Decimal
    every_challenge_usd: Decimal


def cost_of_every_challenge() -> list[ModelCost]:
    """Per model with priced visible responses: what they cost, and the cost of answering
    every published challenge at that model's mean cost per answer; cheapest first. Two
    queries."""
    challenges = Challenge.objects.published().count()
    rows = (
        Response.objects.visible()
        .filter(cost_usd__isnull=False)
        .values("model__slug", "model__name")
        .annotate(n=Count("pk"), spent=Sum("cost_usd"))
        .order_by("model__name")
    )
    costs = [
        ModelCost(
            slug=row["model__slug"],
            name=row["model__name"],
            answered=row["n"],
            spent_usd=row["spent"],
            every_challenge_usd=row["spent"] / row["n"] * challenges,
        )
        for row in rows
    ]
    return sorted(costs, key=lambda cost: (cost.every_challenge_usd, cost.name))


# --- Image and audio galleries ----------------------------------------------------------------

MEDIA_FIELDS = (
    "id",
    "model_id",
    "challenge_id",
    "output_type",
    "image",
    "image_width",
    "image_height",
    "image_thumb",
    "audio",
    "audio_duration_ms",
    "waveform",
    "model__slug",
    "model__name",
)


def media_models(output_type: str) -> list[tuple[str, str]]:
    """(slug, name) of the models with a visible response of `output_type`, for the filter."""
    return list(
        AIModel.objects.filter(
            pk__in=Response.objects.visible().filter(output_type=output_type).values("model_id")
        )
        .order_by("name")
        .values_list("slug", "name")
    )


def media_gallery(output_type: str, *, model_slug: str = "", challenges: int = 12) -> list:
    """The newest published challenges with visible `output_type` responses (of one model
    when `model_slug` is given), each with those responses as `.outputs`; two queries."""
    outputs = Response.objects.visible().filter(output_type=output_type)
    if model_slug:
        outputs = outputs.filter(model__slug=model_slug)
    chosen = list(
        Challenge.objects.published()
        .filter(pk__in=outputs.values("challenge_id"))
        .only("id", "slug", "title", "prompt", "created_at")
        .order_by("-created_at", "-id")[:challenges]
    )
    by_challenge: dict[int, list] = {c.pk: [] for c in chosen}
    for response in (
        outputs.filter(challenge_id__in=by_challenge)
        .select_related("model")
        .only(*MEDIA_FIELDS)
        .order_by("model__name")
    ):
        by_challenge[response.challenge_id].append(response)
    for challenge in chosen:
        challenge.outputs = by_challenge[challenge.pk]
    return chosen
