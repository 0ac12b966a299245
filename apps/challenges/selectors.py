"""Reads for the challenge pages. Every function issues a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import FETCH_PEERS, Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Left, Length
from django.shortcuts import get_object_or_404

from apps.challenges.models import Category, Challenge
from apps.responses.models import Response

CHALLENGE_SORTS = {
    "title": ("Title", (F("title").asc(),)),
    "newest": ("Newest", (F("created_at").desc(),)),
    "responses": ("Most responses", (F("response_count").desc(), F("title").asc())),
}
DEFAULT_CHALLENGE_SORT = "title"

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


def _response_count():
    """Published responses per challenge as a correlated subquery: an index-only scan of
    (challenge, is_published) per row, where a join and GROUP BY would aggregate the whole
    responses table (5 ms against 50 ms at 40k responses)."""
    per_challenge = (
        Response.objects.filter(challenge=OuterRef("pk"), is_published=True)
        .order_by()
        .values("challenge")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(per_challenge, output_field=IntegerField()), 0)


@dataclass(frozen=True)
class ChallengeFilters:
    q: str = ""
    category: str = ""
    output_type: str = ""
    sort: str = DEFAULT_CHALLENGE_SORT


def categories() -> list[tuple[str, str]]:
    return list(Category.objects.values_list("slug", "name"))


def challenge_list(filters: ChallengeFilters):
    """Published challenges matching the filters with their response counts, unevaluated,
    ready to paginate."""
    challenges = (
        Challenge.objects.published()
        .select_related("category")
        .only(
            "id",
            "slug",
            "title",
            "description",
            "output_type",
            "difficulty",
            "created_at",
            "category__slug",
            "category__name",
        )
    )
    if filters.q:
        challenges = challenges.filter(
            Q(title__icontains=filters.q) | Q(prompt__icontains=filters.q)
        )
    if filters.category:
        challenges = challenges.filter(category__slug=filters.category)
    if filters.output_type:
        challenges = challenges.filter(output_type=filters.output_type)
    challenges = challenges.annotate(response_count=_response_count())
    ordering = CHALLENGE_SORTS.get(filters.sort, CHALLENGE_SORTS[DEFAULT_CHALLENGE_SORT])[1]
    return challenges.order_by(*ordering, "id").fetch_mode(FETCH_PEERS)


def challenge_records(filters: ChallengeFilters):
    """challenge_list's challenges with every column (the prompt too): what the developer API
    and MCP server publish."""
    return challenge_list(filters).defer(None)


def category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def featured_challenges(limit: int = 6) -> list[Challenge]:
    """Featured challenges first, then the newest, each with its response count."""
    return list(
        challenge_list(ChallengeFilters()).order_by("-featured", "-created_at", "id")[:limit]
    )


def challenge_detail(slug: str) -> Challenge:
    return get_object_or_404(Challenge.objects.published().select_related("category"), slug=slug)


def challenge_responses(challenge: Challenge, sort: str):
    """Response cards for a challenge: an excerpt instead of the full content, so a page of
    cards stays light whatever the models wrote."""
    ordering = RESPONSE_SORTS.get(sort, RESPONSE_SORTS[DEFAULT_RESPONSE_SORT])[1]
    return (
        Response.objects.visible()
        .filter(challenge=challenge)
        .select_related("model", "model__provider")
        .only(
            "id",
            "model_id",
            "output_type",
            "collected_at",
            "image",
            "image_width",
            "image_height",
            "tokens_out",
            "model__slug",
            "model__name",
            "model__status",
            "model__provider__name",
        )
        .annotate(length=Length("content"), excerpt=Left("content", EXCERPT_CHARS))
        .order_by(*ordering, "id")
        .fetch_mode(FETCH_PEERS)
    )
