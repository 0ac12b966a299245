"""Reads for the challenge pages. Every function issues a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import F, Q
from django.http import Http404

from apps.challenges.models import Category, Challenge
from rival.sqlrows import MARK_TEXT, Prepared

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


# Compiled once (rival/sqlrows.py): the ORM spent longer on this query than the database.
_challenge_by_slug = Prepared(
    lambda slug: Challenge.objects.published().select_related("category").filter(slug=slug),
    MARK_TEXT,
)


def challenge_detail(slug: str) -> Challenge:
    """The published challenge with this slug and its category; 404 when there is none."""
    found = _challenge_by_slug(slug)
    if not found:
        raise Http404("No Challenge matches the given query.")
    return found[0]


def category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()
