"""Public counts follow the blind pool: every page counts only the responses it may show,
and says how many more wait in the arena (docs/arena.md)."""

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from apps.catalog.models import AIModel
from tests.factories import AIModelFactory, ChallengeFactory, ProviderFactory, ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    """One challenge with 2 public and 3 arena-only answers, all by one creator's models; a
    retired model of that creator with 1 public and 2 arena-only answers; an image challenge
    answered only in the arena."""
    creator = ProviderFactory(slug="countco", name="Countco")
    challenge = ChallengeFactory(title="Count me", featured=True)
    models = [AIModelFactory(provider=creator) for _ in range(5)]
    for model in models[:2]:
        ResponseFactory(challenge=challenge, model=model)
    for model in models[2:]:
        ResponseFactory(challenge=challenge, model=model, blind=True)
    retired = AIModelFactory(
        provider=creator,
        status=AIModel.Status.RETIRED,
        retired_on=date(2025, 1, 1),
        name="Countco: Old One",
    )
    ResponseFactory(model=retired)
    ResponseFactory(model=retired, blind=True)
    ResponseFactory(model=retired, blind=True)
    pictured = ChallengeFactory(output_type="image", title="Only in the arena")
    painter = AIModelFactory(provider=creator, name="Countco: Hidden Painter")
    ResponseFactory(challenge=pictured, model=painter, blind=True, content="")
    return {"creator": creator, "challenge": challenge, "retired": retired, "painter": painter}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def card(html: str, title: str) -> str:
    """The text of the card (a list item) that holds `title`."""
    start = html.index(title)
    return text(html[html.rindex("<li", 0, start) : html.index("</li>", start)])


def test_the_challenge_list_counts_public_responses_and_names_the_rest_in_the_arena(pool):
    html = Client().get(reverse("challenges:list")).content.decode()

    assert "2 responses · 3 more in the arena" in card(html, "Count me")
    assert "0 responses · 1 more in the arena" in card(html, "Only in the arena")


def test_sorting_challenges_by_responses_counts_only_public_ones(pool):
    busy = ChallengeFactory(title="Busier in public")
    for _ in range(3):
        ResponseFactory(challenge=busy)

    html = Client().get(reverse("challenges:list") + "?sort=responses").content.decode()

    assert html.index("Busier in public") < html.index("Count me")


def test_the_home_page_counts_public_responses_and_the_arena_apart(pool):
    html = text(Client().get("/").content.decode())

    assert "Responses 3 + 6 in the arena" in html  # 2 + 1 public; 3 + 2 + 1 in the arena
    assert "2 models answered · 3 more in the arena" in html


def test_a_creators_model_cards_count_public_responses_only(pool):
    html = Client().get(pool["creator"].get_absolute_url()).content.decode()

    assert "Responses 1 + 2 in the arena" in card(html, "Countco: Old One")
    assert "Responses 0 + 1 in the arena" in card(html, "Countco: Hidden Painter")


def test_the_graveyard_counts_public_responses_only(pool):
    html = Client().get(reverse("catalog:graveyard")).content.decode()

    assert "1 response to read · 2 more in the arena" in card(html, "Countco: Old One")


def test_model_and_challenge_pages_say_how_many_more_are_in_the_arena(pool):
    model_page = text(Client().get(pool["retired"].get_absolute_url()).content.decode())
    challenge_page = text(Client().get(pool["challenge"].get_absolute_url()).content.decode())

    assert "2 more responses are in the arena" in model_page
    assert "2 responses" in challenge_page and "3 more responses are in the arena" in challenge_page


def test_the_image_gallery_offers_no_model_whose_images_are_only_in_the_arena(pool):
    html = Client().get(reverse("responses:images")).content.decode()

    assert "Hidden Painter" not in html and pool["painter"].slug not in html


def test_the_api_counts_public_responses_only(pool):
    one = Client().get(f"/api/v1/challenges/{pool['challenge'].slug}").json()
    listed = Client().get("/api/v1/challenges").json()

    assert one["response_count"] == 2
    counts = {c["slug"]: c["response_count"] for c in listed["items"]}
    assert counts[pool["challenge"].slug] == 2
    assert max(counts.values()) == 2


def test_pool_sizes_split_published_responses_as_visible_and_blind_do(pool):
    from apps.responses.models import Response
    from apps.responses.selectors import pool_sizes

    ChallengeFactory(arena_only=True)
    ResponseFactory(challenge=ChallengeFactory(arena_only=True))
    ResponseFactory(challenge=ChallengeFactory(is_published=False))

    assert pool_sizes() == (Response.objects.visible().count(), Response.objects.blind().count())
    assert pool_sizes() == (3, 7)
