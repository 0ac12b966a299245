"""Every public page runs the same number of queries at 30 and at 300 models."""

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Challenge
from apps.responses.models import Response

pytestmark = pytest.mark.django_db

# Upper bounds, also asserted; the real check is that the count does not grow with the data.
PAGES = {
    "home": (lambda: "/", 7),
    "models": (lambda: "/models/", 6),
    "models filtered": (lambda: "/models/?capability=reasoning&size=large&sort=context", 6),
    "models page 2": (lambda: "/models/?page=2&sort=price", 6),
    "models by rating": (lambda: "/models/?sort=rating&page=2", 6),
    # The challenge page counts the responses still in the arena in a query of its own; the
    # model page counts its own with its response list, and reads its tags in one query.
    "model": (lambda: _model().get_absolute_url(), 5),
    "response": (lambda: _response().get_absolute_url(), 6),
    "creators": (lambda: "/creators/", 2),
    "creator": (lambda: _model().provider.get_absolute_url(), 2),
    "graveyard": (lambda: "/graveyard/", 1),
    "challenges": (lambda: "/challenges/?sort=responses", 3),
    "challenge": (lambda: Challenge.objects.order_by("pk").first().get_absolute_url(), 5),
    "challenge sorted by length": (
        lambda: Challenge.objects.order_by("pk").first().get_absolute_url() + "?sort=longest",
        5,
    ),
    "sitemap responses": (lambda: "/sitemap-responses.xml", 2),
    "sitemap models": (lambda: "/sitemap-models.xml", 2),
    "challenge by rating": (
        lambda: Challenge.objects.order_by("pk").first().get_absolute_url() + "?sort=rating",
        5,
    ),
}


def _model():
    return AIModel.objects.filter(slug__startswith="gen-").order_by("pk").first()


def _response():
    return Response.objects.filter(model=_model()).order_by("pk").first()


def count_queries(client, url: str) -> tuple[int, str]:
    cache.clear()  # the sitemap is cached; count what a cold request costs
    with CaptureQueriesContext(connection) as context:
        page = client.get(url)
    assert page.status_code == 200, url
    return len(context), "\n".join(q["sql"] for q in context.captured_queries)


@pytest.mark.parametrize("name", PAGES)
def test_page_runs_the_same_queries_at_30_and_300_models(client, name):
    url_of, bound = PAGES[name]
    call_command("generate_dataset", models=30, challenges=6, seed=1, stdout=io.StringIO())
    small, small_sql = count_queries(client, url_of())

    call_command("generate_dataset", models=270, challenges=6, seed=2, stdout=io.StringIO())
    assert AIModel.objects.count() >= 300
    assert Provider.objects.count() > 30
    large, large_sql = count_queries(client, url_of())

    assert small == large, f"{small} queries at 30 models, {large} at 300:\n{large_sql}"
    assert large <= bound, large_sql
    print(f"{name}: {large} queries")
