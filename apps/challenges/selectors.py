"""Reads for the challenge pages. Every function issues a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import F, Q
from django.shortcuts import get_object_or_404

from apps.challenges.models import Category, Challenge

CHALLENGE_SORTS = {
    "title": ("Title", (F("title").asc(),)),
    "newest": ("Newest", (F("created_at").desc(),)),
    "responses": ("Most responses", (F("response_count").desc(), F("title").asc())),
}
DEFAULT_CHALLENGE_SORT = "title"


@dataclass(frozen=True)
class ChallengeFilters:
    q: str = ""
    category: str = ""
    output_type: str = ""
    sort: str = DEFAULT_CHALLENGE_SORT


def categories() -> list[tuple[str, str]]:
    return list(Category.objects.values_list("slug", "name"))


def challenge_list(filters: ChallengeFilters):
    """Published challenges matching the filters, unevaluated and unordered. Response counts
    and the ordering by them come from `responses.selectors.challenge_cards`."""
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
    return challenges


def challenge_detail(slug: str) -> Challenge:
    return get_object_or_404(Challenge.objects.published().select_related("category"), slug=slug)


def category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()
