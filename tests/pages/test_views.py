import pytest
from django.urls import reverse

from tests.factories import ChallengeFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def test_home_shows_counts_and_the_newest_responses(client):
    response = ResponseFactory(challenge=ChallengeFactory(title="Draw a pelican"))
    ResponseFactory(challenge=ChallengeFactory(title="Hidden draft", is_published=False))
    page = client.get(reverse("pages:home"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Draw a pelican" in html
    assert response.model.name in html
    assert "Hidden draft" not in html


def test_home_runs_a_constant_number_of_queries(client, django_assert_max_num_queries):
    ResponseFactory.create_batch(15)
    with django_assert_max_num_queries(7):
        client.get(reverse("pages:home"))


def test_home_sends_a_content_security_policy_without_inline_scripts(client):
    page = client.get(reverse("pages:home"))
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_healthz_reports_database_and_cache(client):
    page = client.get("/healthz")
    assert page.status_code == 200
    assert page.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_healthz_is_503_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    page = client.get("/healthz")
    assert page.status_code == 503
    assert page.json()["cache"] == "unreachable"
    assert page.json()["database"] == "ok"


def test_unknown_url_is_404(client):
    assert client.get("/no-such-page/").status_code == 404


def test_home_shows_the_top_of_the_leaderboard_once_votes_are_counted(client, settings):
    from apps.arena.services.leaderboard import leaderboard_recompute
    from tests.factories import votes_between

    settings.ARENA_MIN_VOTES = 5
    winner = ResponseFactory(model__name="Acme: Winner")
    loser = ResponseFactory(challenge=winner.challenge, model__name="Acme: Loser")
    newcomer = ResponseFactory(challenge=winner.challenge, model__name="Acme: Newcomer")
    votes_between(winner, loser, "aaaab")
    votes_between(newcomer, loser, "aa")
    leaderboard_recompute(rounds=50)

    html = client.get(reverse("pages:home")).content.decode()

    leaderboard = html.split('id="leaders-title"', 1)[1].split("</section>", 1)[0]
    assert leaderboard.index("Acme: Winner") < leaderboard.index("Acme: Loser")
    assert "#1" in leaderboard
    # Two votes: shown as provisional, after the ranked models and without a rank.
    assert leaderboard.index("Acme: Loser") < leaderboard.index("Acme: Newcomer")
    assert "#3" not in leaderboard and "provisional" in leaderboard


def test_home_without_ratings_points_to_the_arena(client):
    html = client.get(reverse("pages:home")).content.decode()
    assert "No ratings yet" in html
