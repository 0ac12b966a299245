"""The anonymous page cache: what the next anonymous visitor sees after each write, cookies,
conditional GET, signed-in visitors and made-up query parameters."""

import gzip

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from apps.arena.services import leaderboard
from apps.challenges.models import Challenge
from apps.challenges.services import challenges_set_published
from apps.responses.models import Response
from tests.factories import ChallengeFactory, ResponseFactory, votes_between

pytestmark = pytest.mark.django_db


def page_keys() -> int:
    server = redis.Redis.from_url(settings.REDIS_URL)
    return sum(1 for _ in server.scan_iter(match="*:page:*"))


@pytest.fixture
def published(db):
    return ResponseFactory(content="The pelican rides a bicycle.")


def test_a_repeat_anonymous_visit_is_served_from_the_cache(
    client, published, django_assert_num_queries
):
    first = client.get(reverse("catalog:list"))
    with django_assert_num_queries(0):
        second = client.get(reverse("catalog:list"))
    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert "max-age=0" in second["Cache-Control"]


def test_publishing_a_challenge_shows_it_to_the_next_anonymous_visitor(client):
    hidden = ChallengeFactory(title="Draw a lighthouse", is_published=False)
    assert "Draw a lighthouse" not in client.get(reverse("challenges:list")).content.decode()

    challenges_set_published(challenges=Challenge.objects.filter(pk=hidden.pk), published=True)

    assert "Draw a lighthouse" in client.get(reverse("challenges:list")).content.decode()


def test_a_new_and_a_retired_response_change_the_model_page(client, published):
    url = published.model.get_absolute_url()
    assert "Write a limerick" not in client.get(url).content.decode()

    newer = ResponseFactory(
        model=published.model, challenge=ChallengeFactory(title="Write a limerick")
    )
    assert "Write a limerick" in client.get(url).content.decode()

    newer.is_published = False
    newer.save()
    assert "Write a limerick" not in client.get(url).content.decode()


def test_a_challenge_edit_changes_its_page(client, published):
    challenge = published.challenge
    url = reverse("challenges:detail", args=[challenge.slug])
    client.get(url)

    challenge.title = "Renamed by a curator"
    challenge.save()

    assert "Renamed by a curator" in client.get(url).content.decode()


def test_a_catalog_edit_changes_the_response_page(client, published):
    url = reverse("responses:detail", args=[published.model.slug, published.challenge.slug])
    client.get(url)

    published.model.name = "Acme: Renamed Model"
    published.model.save()

    assert "Acme: Renamed Model" in client.get(url).content.decode()


def test_a_new_leaderboard_snapshot_changes_the_leaderboard(client, published):
    other = ResponseFactory(challenge=published.challenge)
    before = client.get(reverse("arena:leaderboard")).content.decode()
    assert published.model.name not in before

    votes_between(published, other, "aaaab")
    leaderboard.leaderboard_recompute(rounds=10)

    assert published.model.name in client.get(reverse("arena:leaderboard")).content.decode()


PUBLIC_PAGES = [
    "pages:home",
    "catalog:list",
    "catalog:creators",
    "catalog:graveyard",
    "challenges:list",
    "arena:leaderboard",
    "pages:methodology",
]


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_a_public_page_sets_no_cookie_and_is_cached(client, published, name):
    page = client.get(reverse(name))
    assert page.status_code == 200
    assert not page.cookies, page.cookies
    assert "Set-Cookie" not in page.headers
    assert page.has_header("ETag")
    assert page_keys() == 1


def test_every_page_of_a_response_sets_no_cookie(client, published):
    urls = [
        published.model.get_absolute_url(),
        reverse("responses:detail", args=[published.model.slug, published.challenge.slug]),
        reverse("challenges:detail", args=[published.challenge.slug]),
        reverse("catalog:creator", args=[published.model.provider.slug]),
    ]
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        assert not page.cookies, url
    assert page_keys() == len(urls)


def test_the_arena_is_never_stored(client, published):
    ResponseFactory(challenge=published.challenge)
    page = client.get(reverse("arena:arena"))
    assert page.cookies  # the voter's session and CSRF token
    assert {"private", "no-store"} <= {v.strip() for v in page["Cache-Control"].split(",")}
    assert page_keys() == 0


def test_a_matching_etag_gets_304_without_a_body(client, published):
    url = reverse("catalog:list")
    first = client.get(url)

    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""

    since = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304

    stale = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_a_change_makes_the_old_etag_miss(client, published):
    url = published.model.get_absolute_url()
    etag = client.get(url)["ETag"]
    ResponseFactory(model=published.model)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_a_signed_in_staff_member_never_gets_the_anonymous_copy(client, published):
    url = published.model.get_absolute_url()
    client.get(url)
    # A write that bypasses signals (and so the content version): only a fresh render sees it.
    Response.objects.filter(pk=published.pk).update(is_published=False)
    assert published.challenge.title in client.get(url).content.decode()

    staff = get_user_model().objects.create_user("curator", password="pw", is_staff=True)
    client.force_login(staff)
    page = client.get(url)

    assert published.challenge.title not in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    assert not page.has_header("ETag")


def test_made_up_query_parameters_add_no_cache_key_and_reach_no_link(
    client, published, django_assert_num_queries
):
    ResponseFactory.create_batch(30)  # two pages of models: the page links carry the query
    url = reverse("catalog:list")
    client.get(url, {"sort": "price"})
    with django_assert_num_queries(0):
        page = client.get(url, {"sort": "price", "utm_source": "forum", "x": "<b>"})
    assert page.status_code == 200
    assert "utm_source" not in page.content.decode()
    fresh = client.get(url, {"utm_source": "forum", "creator": "nobody-at-all"})
    assert "utm_source" not in fresh.content.decode()
    assert page_keys() == 2


def test_htmx_partials_are_cached_apart_from_the_page(client, published):
    url = reverse("catalog:list")
    whole = client.get(url)
    partial = client.get(url, headers={"HX-Request": "true"})
    assert b"<html" in whole.content
    assert b"<html" not in partial.content
    assert "HX-Request" in partial["Vary"]
    assert client.get(url).content == whole.content
    assert page_keys() == 2


def redis_commands_during(request) -> list[str]:
    """The commands our Redis database received while `request()` ran, in order (MONITOR
    sees the whole server; an ECHO marks the end)."""
    server = redis.Redis.from_url(settings.REDIS_URL)
    db = server.connection_pool.connection_kwargs.get("db", 0)
    marker = f"end-of-request-{id(request)}"
    signal = redis.Redis.from_url(settings.REDIS_URL)
    signal.ping()  # connected (and its database selected) before the monitor starts
    commands = []
    with server.monitor() as monitor:
        request()
        signal.echo(marker)
        for command in monitor.listen():
            if marker in command["command"]:
                return commands
            if command["db"] == db:
                commands.append(command["command"].split()[0])
    return commands


def test_a_cached_page_costs_one_redis_round_trip(client, published):
    url = reverse("catalog:list")
    # A miss looks the page up once, renders (its fragments read and fill their own
    # entries) and stores the page; the hit that follows is the one lookup alone.
    miss = redis_commands_during(lambda: client.get(url))
    assert miss[0] == "MGET" and miss[-1] == "SET" and miss.count("MGET") == 1
    assert redis_commands_during(lambda: client.get(url)) == ["MGET"]


def test_a_cached_page_carries_every_header_the_render_had(client, published):
    url = reverse("catalog:list")
    first = client.get(url)
    second = client.get(url)
    assert dict(second.headers) == dict(first.headers)
    for name in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "Permissions-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
    ):
        assert second.has_header(name), name


def test_a_head_of_a_cached_page_has_the_length_of_the_get_and_no_body(client, published):
    url = published.model.get_absolute_url()
    page = client.get(url)
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head["Content-Length"]) == len(page.content)
    assert head["ETag"] == page["ETag"]


def test_a_signed_in_visitors_page_never_reaches_an_anonymous_visitor(client, published):
    url = published.model.get_absolute_url()
    member = get_user_model().objects.create_user("member", "member@example.com", "pw")
    client.force_login(member)
    mine = client.get(url)
    assert "member@example.com" in mine.content.decode()
    assert page_keys() == 0

    client.logout()
    client.cookies.clear()
    anonymous = client.get(url)
    assert "member@example.com" not in anonymous.content.decode()
    assert "Sign in" in anonymous.content.decode()


def test_a_signed_in_visitor_never_gets_the_anonymous_copy_of_any_public_page(client, published):
    urls = [reverse(name) for name in PUBLIC_PAGES] + [published.model.get_absolute_url()]
    for url in urls:
        client.get(url)
    member = get_user_model().objects.create_user("member", "member@example.com", "pw")
    client.force_login(member)
    for url in urls:
        page = client.get(url)
        assert "member@example.com" in page.content.decode(), url
        assert page["Cache-Control"] == "private, no-store", url


def test_an_anonymous_session_gets_cached_pages_but_stores_none(client, published):
    ResponseFactory(challenge=published.challenge)
    url = reverse("catalog:list")
    client.get(reverse("arena:arena"))  # starts the visitor's session
    assert settings.SESSION_COOKIE_NAME in client.cookies

    fresh = client.get(url)
    assert fresh.status_code == 200
    assert page_keys() == 0

    stored = Client().get(url)
    assert page_keys() == 1
    with_session = client.get(url)
    assert with_session["ETag"] == stored["ETag"]
    assert with_session.content == stored.content


def test_a_client_that_accepts_gzip_gets_the_page_compressed_from_the_first_visit(
    client, published
):
    url = reverse("catalog:list")
    gzip_ok = {"Accept-Encoding": "gzip, deflate, br"}
    packed = client.get(url, headers=gzip_ok)
    again = client.get(url, headers=gzip_ok)
    plain = client.get(url)

    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert again.content == packed.content
    assert int(packed["Content-Length"]) == len(packed.content)
    assert "Accept-Encoding" in packed["Vary"]
    assert not plain.has_header("Content-Encoding")
    assert int(plain["Content-Length"]) == len(plain.content)
    # Different bytes, different validators: each answers only its own conditional request.
    assert packed["ETag"] != plain["ETag"]
    revalidated = client.get(url, headers={**gzip_ok, "If-None-Match": packed["ETag"]})
    assert revalidated.status_code == 304
    assert client.get(url, headers={"If-None-Match": packed["ETag"]}).status_code == 200


def test_a_client_that_does_not_accept_gzip_gets_the_page_plain(client, published):
    url = reverse("catalog:list")
    client.get(url)
    page = client.get(url, headers={"Accept-Encoding": "br"})
    assert not page.has_header("Content-Encoding")
    assert b"<html" in page.content
