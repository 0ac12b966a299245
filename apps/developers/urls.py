"""URL patterns of the developer hub, mounted by rival/urls.py under their own prefixes."""

from django.urls import path, re_path

from apps.developers import feeds, views
from apps.developers.api import api
from apps.developers.http import public_get, public_patterns

_api_patterns, _api_app, api_namespace = api.urls

api_patterns = (
    [
        *public_patterns(_api_patterns),
        # Anything else under /api/v1/ is a problem too, not the HTML 404 page.
        re_path(r"^.*$", public_get(views.api_not_found), name="not-found"),
    ],
    _api_app,
)

_responses, _model, _challenge, _changes = (
    feeds.ResponsesFeed,
    feeds.ModelResponsesFeed,
    feeds.ChallengeResponsesFeed,
    feeds.LeaderboardChangesFeed,
)
feed_patterns = (
    [
        path("responses.rss", public_get(_responses()), name="responses-rss"),
        path("responses.atom", public_get(feeds.atom(_responses)()), name="responses-atom"),
        path("models/<slug:slug>.rss", public_get(_model()), name="model-rss"),
        path("models/<slug:slug>.atom", public_get(feeds.atom(_model)()), name="model-atom"),
        path("challenges/<slug:slug>.rss", public_get(_challenge()), name="challenge-rss"),
        path(
            "challenges/<slug:slug>.atom",
            public_get(feeds.atom(_challenge)()),
            name="challenge-atom",
        ),
        path("leaderboard.rss", public_get(_changes()), name="leaderboard-rss"),
        path("leaderboard.atom", public_get(feeds.atom(_changes)()), name="leaderboard-atom"),
    ],
    "feeds",
)

badge_patterns = (
    [path("<slug:slug>.svg", public_get(views.badge), name="model")],
    "badges",
)

hub_patterns = ([path("", views.hub, name="hub")], "developers")

dataset_patterns = (
    [
        path("", views.datasets_index, name="index"),
        path("<path:name>", public_get(views.dataset_file), name="file"),
    ],
    "datasets",
)
