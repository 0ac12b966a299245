from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import F
from django.shortcuts import get_object_or_404

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge, OutputType
from apps.responses.models import Response

# Columns a response card needs (no content, no rendering): lists stay light.
CARD_FIELDS = (
    "id",
    "collected_at",
    "output_type",
    "model__slug",
    "model__name",
    "model__provider__name",
    "model__provider__slug",
    "challenge__slug",
    "challenge__title",
    "challenge__category__name",
    "challenge__category__slug",
)


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


def response_for_page(*, model_slug: str, challenge_slug: str) -> Response:
    """The visible response of a model to a challenge, with its model's capabilities and
    categories; 404 when there is none. Retired models' responses stay browsable."""
    return get_object_or_404(
        Response.objects.visible()
        .with_related()
        .prefetch_related("model__capabilities", "model__modalities"),
        model__slug=model_slug,
        challenge__slug=challenge_slug,
    )


def other_responses(response: Response, limit: int = 6) -> list[Response]:
    """Other models' visible responses to the same challenge: featured and newest models first."""
    return list(
        Response.objects.visible()
        .filter(challenge_id=response.challenge_id)
        .exclude(pk=response.pk)
        .select_related("model")
        .only("id", "model__slug", "model__name", "model__featured", "model__release_date")
        .order_by(
            "-model__featured", F("model__release_date").desc(nulls_last=True), "model__name"
        )[:limit]
    )


def responded_count(challenge_id: int) -> int:
    return Response.objects.visible().filter(challenge_id=challenge_id).count()


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
