"""Badges of a model's arena standing, and the embed snippet on the model page."""

import xml.etree.ElementTree as ET

import pytest

from apps.arena.services import leaderboard
from tests.factories import AIModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def badge(client, slug):
    page = client.get(f"/badges/{slug}.svg")
    assert page.status_code == 200
    return page, ET.fromstring(page.content)


def texts(svg):
    return [t.text for t in svg.iter(f"{SVG}text")]


def test_rated_model_badge_shows_rank_rating_and_interval(client, hub):
    page, svg = badge(client, "alpha")
    assert page["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert "public" in page["Cache-Control"] and "max-age=" in page["Cache-Control"]
    assert page["ETag"]
    value = texts(svg)[-1]
    # Thirteen votes: still provisional, with its rating and interval.
    assert value.startswith("provisional · ") and " ± " in value
    assert svg.get("role") == "img" and "Acme: Alpha" in svg.get("aria-label")


def test_unrated_model_badge_says_so(client, hub):
    _, svg = badge(client, "gamma")
    assert texts(svg)[-1] == "unrated"


def test_established_model_badge_shows_its_rank(client, hub, settings):
    settings.ARENA_MIN_VOTES = 5
    leaderboard.leaderboard_recompute(rounds=20)
    _, svg = badge(client, "alpha")
    assert texts(svg)[-1].startswith("#1 · ")


def test_badge_answers_if_none_match_with_304(client, hub):
    page, _ = badge(client, "alpha")
    again = client.get("/badges/alpha.svg", headers={"if-none-match": page["ETag"]})
    assert again.status_code == 304


def test_unknown_model_has_no_badge(client, hub):
    assert client.get("/badges/nobody.svg").status_code == 404


def test_hostile_model_name_stays_text(client, hub):
    AIModelFactory(
        slug="evil",
        name='Evil"><script>alert(1)</script>\x07<!-- & ]]>',
        provider=ProviderFactory(),
    )
    page, svg = badge(client, "evil")
    assert b"<script" not in page.content
    title = svg.find(f"{SVG}title").text
    assert 'Evil"><script>alert(1)</script><!-- & ]]>' in title


def test_model_page_offers_markdown_and_html_embeds(client, hub):
    AIModelFactory(slug="evil", name="Evil: ](javascript:x) <b>", provider=ProviderFactory())
    html = client.get("/models/evil/").content.decode()
    assert 'src="/badges/evil.svg"' in html
    # Markdown brackets in the name are escaped so the link cannot be rewritten.
    assert "[![Rival arena rating of Evil: \\]\\(javascript:x\\) \\&lt;b\\&gt;]" in html
    assert "/badges/evil.svg)](http" in html
    assert "&lt;a href=&quot;http" in html and "&amp;lt;b&amp;gt;" in html
    assert "<b>" not in html.split('id="badge-title"')[1]
