"""HEAD answers wherever GET does: monitors and link checkers use it."""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from apps.arena.services import leaderboard
from tests.factories import ResponseFactory, votes_between

pytestmark = pytest.mark.django_db


def sitemap_paths(client) -> list[str]:
    index = client.get(reverse("sitemap")).content.decode()
    paths = []
    for section in re.findall(r"<loc>([^<]+)</loc>", index):
        xml = client.get(urlsplit(section).path).content.decode()
        paths += [urlsplit(loc).path for loc in re.findall(r"<loc>([^<]+)</loc>", xml)]
    return paths


def test_every_public_url_answers_head_with_200_and_no_body(client):
    first = ResponseFactory()
    second = ResponseFactory(challenge=first.challenge)
    votes_between(first, second, "aabt")
    leaderboard.leaderboard_recompute(rounds=10)
    pair = "-vs-".join(sorted([first.model.slug, second.model.slug]))
    others = [
        "/robots.txt",
        "/healthz",
        reverse("sitemap"),
        reverse("compare:pair", args=[pair]),
        reverse("compare:challenge", args=[pair, first.challenge.slug]),
        reverse("arena:best_for", args=[first.challenge.category.slug]),
    ]
    paths = sitemap_paths(client)
    assert len(paths) > 10
    assert first.model.get_absolute_url() in paths

    for path in paths + others:
        page = client.head(path)
        assert page.status_code == 200, (path, page.status_code)
        assert page.content == b"", path
        assert int(page["Content-Length"]) > 0, path  # what the GET would send
