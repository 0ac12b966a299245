"""Cached page fragments ({% fragment %}, rival/web/templatetags/fragments.py): with the page
cache off, every write that changes a region changes what the next visitor sees, a repeat
visit renders the cached regions without their queries, and keys keep variants apart."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.urls import reverse

from apps.arena.services import leaderboard
from apps.challenges.models import Challenge
from apps.challenges.services import challenges_set_published
from apps.responses.models import Response
from rival.cacheversion import content_version_bump
from tests.factories import (
    AIModelFactory,
    CapabilityFactory,
    ChallengeFactory,
    ProviderFactory,
    ResponseFactory,
    votes_between,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture
def published(db):
    return ResponseFactory(content="The pelican rides a bicycle.")


def html(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return page.content.decode()


def pair_url(a, b) -> str:
    return reverse("compare:pair", args=["-vs-".join(sorted([a.model.slug, b.model.slug]))])


def test_a_fragment_is_rendered_once_per_content_version():
    template = Template('{% load fragments %}{% fragment "t" key %}{{ value }}{% endfragment %}')

    assert template.render(Context({"key": 1, "value": "first"})) == "first"
    assert template.render(Context({"key": 1, "value": "second"})) == "first"
    assert template.render(Context({"key": 2, "value": "other key"})) == "other key"

    content_version_bump()
    assert template.render(Context({"key": 1, "value": "third"})) == "third"


def test_with_fragments_off_every_request_renders_the_region(settings):
    settings.FRAGMENT_CACHE_SECONDS = 0
    template = Template('{% load fragments %}{% fragment "t" %}{{ n }}{% endfragment %}')
    assert template.render(Context({"n": 1})) == "1"
    assert template.render(Context({"n": 2})) == "2"


def test_a_fragment_calls_what_it_is_given_only_when_it_renders():
    calls = []
    template = Template(
        '{% load fragments %}{% fragment "t" %}{% with v=value %}{{ v }}{{ v }}{% endwith %}'
        "{% endfragment %}"
    )

    def value():
        calls.append(1)
        return "x"

    assert template.render(Context({"value": value})) == "xx"
    assert template.render(Context({"value": value})) == "xx"
    assert calls == [1]


def test_a_repeat_visit_to_a_model_page_costs_only_the_model_lookup(
    client, published, django_assert_max_num_queries
):
    url = published.model.get_absolute_url()
    first = html(client, url)
    with django_assert_max_num_queries(3):
        assert html(client, url) == first


def test_a_new_and_a_retired_response_change_the_model_page(client, published):
    url = published.model.get_absolute_url()
    assert published.challenge.title in html(client, url)

    newer = ResponseFactory(
        model=published.model, challenge=ChallengeFactory(title="Write a limerick")
    )
    assert "Write a limerick" in html(client, url)

    newer.is_published = False
    newer.save()
    assert "Write a limerick" not in html(client, url)


def test_a_catalog_edit_changes_the_model_page_side_panel(client, published):
    url = published.model.get_absolute_url()
    other = AIModelFactory(provider=published.model.provider, name="Sibling Model")
    assert "Sibling Model" in html(client, url)

    other.name = "Renamed Sibling"
    other.save()
    assert "Renamed Sibling" in html(client, url)


def test_a_response_page_repeats_without_its_model_panel_queries_and_follows_catalog_edits(
    client, published, django_assert_max_num_queries
):
    url = published.get_absolute_url()
    first = html(client, url)
    # The response (with its model, creator and challenge), the other answers and their count.
    with django_assert_max_num_queries(3):
        assert html(client, url) == first

    published.model.capabilities.add(CapabilityFactory(name="Tool use"))
    assert "Tool use" in html(client, url)
    published.model.context_length = 777_000
    published.model.save()
    assert "777,000" in html(client, url)


def test_a_new_snapshot_changes_the_ratings_on_model_and_challenge_pages(client, published):
    other = ResponseFactory(challenge=published.challenge)
    model_url = published.model.get_absolute_url()
    challenge_url = reverse("challenges:detail", args=[published.challenge.slug])
    assert "Arena rating" not in html(client, model_url)
    assert "Rating " not in html(client, challenge_url)
    assert "<dt>Arena rating</dt>" not in html(client, reverse("catalog:list"))

    votes_between(published, other, "aaaab")
    leaderboard.leaderboard_recompute(rounds=10)

    assert "Arena rating" in html(client, model_url)
    assert "Rating " in html(client, challenge_url)
    assert "<dt>Arena rating</dt>" in html(client, reverse("catalog:list"))


def test_a_new_response_changes_the_challenge_page_cards(client, published):
    url = reverse("challenges:detail", args=[published.challenge.slug])
    html(client, url)

    later = ResponseFactory(challenge=published.challenge, content="A heron on a unicycle.")
    page = html(client, url)
    assert later.model.name in page
    assert "A heron on a unicycle." in page


def test_challenge_page_sorts_are_cached_apart(client, published):
    ResponseFactory(challenge=published.challenge, content="x" * 500)
    url = reverse("challenges:detail", args=[published.challenge.slug])
    longest = html(client, url + "?sort=longest")
    shortest = html(client, url + "?sort=shortest")
    assert longest != shortest
    assert html(client, url + "?sort=longest") == longest


def test_a_challenge_edit_and_publish_change_the_lists(client, published):
    hidden = ChallengeFactory(title="Draw a lighthouse", is_published=False)
    assert "Draw a lighthouse" not in html(client, reverse("challenges:list"))
    assert "Draw a lighthouse" not in html(client, "/")

    challenges_set_published(challenges=Challenge.objects.filter(pk=hidden.pk), published=True)
    assert "Draw a lighthouse" in html(client, reverse("challenges:list"))
    assert "Draw a lighthouse" in html(client, "/")

    hidden.refresh_from_db()
    hidden.title = "Draw a harbour"
    hidden.save()
    assert "Draw a harbour" in html(client, reverse("challenges:list"))
    assert "Draw a harbour" in html(client, "/")


def test_model_list_filters_and_pages_are_cached_apart(client, published):
    acme = ProviderFactory(name="Acme", slug="acme")
    AIModelFactory(provider=acme, name="Acme: Rocket")
    everyone = html(client, reverse("catalog:list"))
    only_acme = html(client, reverse("catalog:list") + "?creator=acme")
    assert "Acme: Rocket" in everyone and published.model.name in everyone
    assert "Acme: Rocket" in only_acme and published.model.name not in only_acme
    assert '<option value="acme" selected>' in only_acme
    assert '<option value="acme" selected>' not in everyone
    assert "not recognised" in html(client, reverse("catalog:list") + "?creator=nobody")


def test_a_retired_model_leaves_the_model_list_and_creators(client, published):
    model = published.model
    assert model.name in html(client, reverse("catalog:list"))
    assert model.short_name in html(client, reverse("catalog:creators"))

    model.status = model.Status.RETIRED
    model.retired_on = datetime.date(2026, 1, 1)
    model.save()
    assert model.name not in html(client, reverse("catalog:list"))
    assert f">{model.short_name}<" not in html(client, reverse("catalog:creators"))


def test_a_new_response_changes_the_home_page(client, published):
    html(client, "/")
    later = ResponseFactory(model=AIModelFactory(name="Brand New Model"))
    assert later.model.name in html(client, "/")


def test_a_new_or_retired_response_changes_the_comparison(client, published):
    other = ResponseFactory(challenge=published.challenge, content="A heron on a unicycle.")
    url = pair_url(published, other)
    assert "A heron on a unicycle." in html(client, url)

    extra = ResponseFactory(
        model=published.model, challenge=ChallengeFactory(title="Only one answered")
    )
    assert "Only one answered" in html(client, url)

    ResponseFactory(model=other.model, challenge=extra.challenge, content="Both now.")
    page = html(client, url)
    assert "Both now." in page

    other.is_published = False
    other.save()
    assert "A heron on a unicycle." not in html(client, url)


def test_a_signed_in_visitor_gets_a_fresh_render(client, published):
    url = published.model.get_absolute_url()
    html(client, url)
    # A write that bypasses signals (and so the content version): only a fresh render sees it.
    Response.objects.filter(pk=published.pk).update(is_published=False)
    assert published.challenge.title in html(client, url)

    client.force_login(get_user_model().objects.create_user("curator", password="pw"))
    assert published.challenge.title not in html(client, url)


def test_a_new_snapshot_changes_the_ratings_in_a_comparison(client, published):
    other = ResponseFactory(challenge=published.challenge)
    url = pair_url(published, other)
    assert html(client, url).count("no rating yet") == 2

    votes_between(published, other, "aaaab")
    leaderboard.leaderboard_recompute(rounds=10)

    assert "no rating yet" not in html(client, url)
