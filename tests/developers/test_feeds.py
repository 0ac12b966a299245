"""RSS and Atom feeds, read with a real feed parser."""

import feedparser
import pytest

from apps.arena.services import leaderboard as arena_leaderboard
from tests.factories import AIModelFactory, ProviderFactory, ResponseFactory, votes_between

pytestmark = pytest.mark.django_db


def parse(client, url):
    page = client.get(url)
    assert page.status_code == 200, url
    feed = feedparser.parse(page.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return page, feed


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_newest_responses_feed_is_valid_and_public_only(client, hub, kind):
    page, feed = parse(client, f"/feeds/responses.{kind}")
    expected = {"rss": "application/rss+xml", "atom": "application/atom+xml"}[kind]
    assert page["Content-Type"].startswith(expected)
    assert feed.version == {"rss": "rss20", "atom": "atom10"}[kind]
    assert len(feed.entries) == 6
    assert feed.entries[0].title == "Zenith: Old on Haiku"
    assert feed.entries[0].link.endswith("/models/old/responses/haiku/")
    assert all("unpublished secret" not in e.summary for e in feed.entries)
    assert all("Draft" not in e.title for e in feed.entries)


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_per_model_and_per_challenge_feeds(client, hub, kind):
    _, alpha = parse(client, f"/feeds/models/alpha.{kind}")
    assert alpha.feed.title == "Rival: Acme: Alpha's newest responses"
    assert [e.title for e in alpha.entries] == ["Acme: Alpha on Haiku", "Acme: Alpha on FizzBuzz"]
    _, fizzbuzz = parse(client, f"/feeds/challenges/fizzbuzz.{kind}")
    assert len(fizzbuzz.entries) == 3
    assert client.get(f"/feeds/models/nobody.{kind}").status_code == 404
    assert client.get(f"/feeds/challenges/draft.{kind}").status_code == 404


def test_hostile_output_and_names_are_text_in_the_feed(client, hub):
    evil = AIModelFactory(
        slug="evil", name='Evil: <img src=x onerror="alert(1)"> & co', provider=ProviderFactory()
    )
    ResponseFactory(
        model=evil,
        challenge=hub["challenges"]["haiku"],
        content="<script>alert('x')</script>\x07\x1b ]]> done",
    )
    for kind in ("rss", "atom"):
        page, feed = parse(client, f"/feeds/models/evil.{kind}")
        xml = page.content.decode()
        # Escaped twice: once as HTML (so a reader shows text), once by XML.
        assert "&amp;lt;script&amp;gt;" in xml
        assert "<script" not in xml and "<img" not in xml
        assert feed.entries[0].title.startswith('Evil: <img src=x onerror="alert(1)"> & co')


def test_leaderboard_changes_feed_reports_new_leader_newly_ranked_and_retired(
    client, hub, settings
):
    settings.ARENA_MIN_VOTES = 5
    arena_leaderboard.leaderboard_recompute(rounds=20)  # alpha and beta ranked
    r = hub["responses"]
    gamma_fizz = r[("gamma", "fizzbuzz")]
    # Gamma beats everyone by far: it enters ranked and takes the lead.
    votes_between(gamma_fizz, r[("alpha", "fizzbuzz")], "a" * 40)
    votes_between(gamma_fizz, r[("beta", "fizzbuzz")], "a" * 40)
    arena_leaderboard.leaderboard_recompute(rounds=20)
    for kind in ("rss", "atom"):
        _, feed = parse(client, f"/feeds/leaderboard.{kind}")
        titles = [e.title for e in feed.entries]
        assert titles[:2] == ["New #1: Zenith: Gamma", "Newly ranked: Zenith: Gamma"]
        assert "Retired: Zenith: Old" in titles
        assert len({e.id for e in feed.entries}) == len(feed.entries)


def test_feeds_answer_conditional_requests(client, hub):
    page = client.get("/feeds/responses.atom")
    assert page["ETag"] and page["Last-Modified"]
    again = client.get("/feeds/responses.atom", headers={"if-none-match": page["ETag"]})
    assert again.status_code == 304
