"""What the full arena page (no JavaScript) shows beside the battle: the category filter and
the live battle offer. Both are kept in each process for the content version
(selectors.ratings_categories, live_battles_open), so every write that changes them must show
on the very next request."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.catalog.models import Gateway
from apps.catalog.services import model_retire
from apps.challenges.models import Challenge
from apps.challenges.services import challenges_set_published
from tests.factories import AIModelFactory, CategoryFactory, ChallengeFactory, demo_gateway

pytestmark = pytest.mark.django_db

LIVE_OFFER = "Or battle on your own prompt"
POETRY_OPTION = '<option value="poetry">Poetry</option>'


def arena_page(client) -> str:
    page = client.get(reverse("arena:arena"))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"], "the arena is never cached for anyone"
    return page.content.decode()


@pytest.fixture
def live_models(challenge_pair):
    """Two models on the demo gateway, offered in live battles (and a battle to show)."""
    return [
        AIModelFactory(name=f"Live: {n}", slug=f"live-{n}", live_battle_enabled=True)
        for n in ("one", "two")
    ]


def _paid_gateway() -> Gateway:
    # Ready without a key or a server: check_gateway_ready needs only a URL when no key is named.
    return Gateway.objects.create(
        name="paid", kind=Gateway.Kind.OPENAI, base_url="http://127.0.0.1:9/v1", api_key_env=""
    )


def test_publishing_the_first_challenge_of_a_category_adds_it_to_the_filter(client, challenge_pair):
    poem = ChallengeFactory(category=CategoryFactory(slug="poetry", name="Poetry"))
    challenges_set_published(challenges=Challenge.objects.filter(pk=poem.pk), published=False)
    assert POETRY_OPTION not in arena_page(client)

    challenges_set_published(challenges=Challenge.objects.filter(pk=poem.pk), published=True)
    assert POETRY_OPTION in arena_page(client)

    challenges_set_published(challenges=Challenge.objects.filter(pk=poem.pk), published=False)
    assert POETRY_OPTION not in arena_page(client)


def test_a_new_challenge_and_a_renamed_category_show_in_the_filter_after_a_vote(
    client, challenge_pair
):
    token = arena_page(client).split('name="battle" value="')[1].split('"')[0]
    poem = ChallengeFactory(category=CategoryFactory(slug="poetry", name="Poems"))

    reveal = client.post(reverse("arena:vote"), {"battle": token, "outcome": "a"})
    assert '<option value="poetry">Poems</option>' in reveal.content.decode()

    poem.category.name = "Poetry"
    poem.category.save()
    assert POETRY_OPTION in arena_page(client)
    poem.delete()
    assert POETRY_OPTION not in arena_page(client)


def test_disabling_or_enabling_a_gateway_changes_the_live_offer_on_the_next_request(
    client, live_models
):
    assert LIVE_OFFER in arena_page(client)
    gateway = demo_gateway()

    gateway.is_enabled = False
    gateway.save()
    assert LIVE_OFFER not in arena_page(client)

    gateway.is_enabled = True
    gateway.save()
    assert LIVE_OFFER in arena_page(client)


def test_a_gateway_that_stops_being_free_closes_the_offer_to_anonymous_visitors(
    client, live_models, settings
):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    assert LIVE_OFFER in arena_page(client)
    gateway = demo_gateway()

    gateway.kind = Gateway.Kind.OPENAI
    gateway.base_url = "http://127.0.0.1:9/v1"
    gateway.save()
    assert LIVE_OFFER not in arena_page(client), "paid models are for visitors with an allowance"


def test_retiring_a_model_or_switching_it_off_closes_the_offer(client, live_models):
    one, two = live_models
    assert LIVE_OFFER in arena_page(client)

    model_retire(model=one, retired_on=date(2026, 12, 1), reason="Gone.")
    assert LIVE_OFFER not in arena_page(client)

    third = AIModelFactory(name="Live: three", slug="live-three", live_battle_enabled=True)
    assert LIVE_OFFER in arena_page(client)

    third.live_battle_enabled = False
    third.save()
    assert LIVE_OFFER not in arena_page(client)


def test_a_deleted_gateway_closes_the_offer(client, challenge_pair):
    gateway = Gateway.objects.create(name="second-demo", kind=Gateway.Kind.DEMO)
    for n in ("one", "two"):
        AIModelFactory(
            name=f"Live: {n}", slug=f"live-{n}", live_battle_enabled=True, gateway=gateway
        )
    assert LIVE_OFFER in arena_page(client)

    gateway.delete()
    assert LIVE_OFFER not in arena_page(client)


def test_signed_in_and_anonymous_visitors_each_get_their_own_answer(
    client, challenge_pair, settings, django_user_model
):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    paid = _paid_gateway()
    for n in ("one", "two"):
        AIModelFactory(
            name=f"Paid: {n}",
            slug=f"paid-{n}",
            gateway=paid,
            live_battle_enabled=True,
            price_input_per_mtok=Decimal("1"),
            price_output_per_mtok=Decimal("2"),
        )
    assert LIVE_OFFER not in arena_page(client), "anonymous, no allowance: free models only"

    client.force_login(django_user_model.objects.create_user("voter", "v@example.com", "pw"))
    assert LIVE_OFFER in arena_page(client)

    client.logout()
    assert LIVE_OFFER not in arena_page(client)
    settings.ARENA_LIVE_ANON_DAILY_USD = Decimal("1")
    assert LIVE_OFFER in arena_page(client), "an allowance opens paid models to anonymous ones"
    settings.LAB_ALLOW_PAID_GATEWAYS = False
    assert LIVE_OFFER not in arena_page(client)


def test_a_repeat_full_page_reads_neither_the_filter_nor_the_offer_again(
    client, live_models, settings
):
    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            arena_page(client)
        return [q["sql"] for q in captured.captured_queries]

    queries()  # the session is created
    kept = queries()
    settings.FRAGMENT_CACHE_SECONDS = 0
    computed = queries()

    assert len(computed) == len(kept) + 2
    assert not any("catalog_gateway" in sql for sql in kept)
    assert any("catalog_gateway" in sql for sql in computed)
