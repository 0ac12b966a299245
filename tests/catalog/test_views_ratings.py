"""Arena ratings shown and sorted on the browse pages (read through arena.selectors)."""

import pytest

from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory, snapshot_rating

pytestmark = pytest.mark.django_db


def snapshot(*rated):
    """An overall leaderboard snapshot rating the given (model, rating) pairs."""
    return snapshot_rating(*rated, half_width=40.0, votes=50)


def test_models_sort_by_arena_rating_with_unrated_models_last(client):
    low = AIModelFactory(name="A low")
    high = AIModelFactory(name="B high")
    AIModelFactory(name="C unrated")
    snapshot((high, 1120.0), (low, 980.0))
    page = client.get("/models/?sort=rating")
    assert [card.name for card in page.context["cards"]()] == ["B high", "A low", "C unrated"]
    assert "1120 <span" in page.content.decode()


def test_model_page_shows_its_rating_with_interval_and_rank(client):
    model = AIModelFactory()
    snapshot((model, 1043.4))
    html = client.get(model.get_absolute_url()).content.decode()
    assert "<strong>1043</strong>" in html
    assert "95% interval 1003–1083 · rank 1 · 50 votes" in html


def test_model_page_without_votes_shows_no_rating(client):
    model = AIModelFactory()
    assert "Arena rating" not in client.get(model.get_absolute_url()).content.decode()


def test_challenge_responses_sort_by_their_models_rating(client):
    challenge = ChallengeFactory()
    low = ResponseFactory(challenge=challenge, model=AIModelFactory(name="A low"))
    high = ResponseFactory(challenge=challenge, model=AIModelFactory(name="B high"))
    ResponseFactory(challenge=challenge, model=AIModelFactory(name="C unrated"))
    snapshot((high.model, 1100.0), (low.model, 1000.0))
    page = client.get(challenge.get_absolute_url() + "?sort=rating")
    names = [card.model_name for card in page.context["cards"]()]
    assert names == ["B high", "A low", "C unrated"]
    assert "Rating 1100" in page.content.decode()
