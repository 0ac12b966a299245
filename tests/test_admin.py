from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from apps.arena.models import IdentityTerm, LiveCategoryRule
from apps.arena.services import battles, leaderboard, live, votes
from apps.catalog.models import AIModel, Gateway
from apps.challenges.models import Challenge
from apps.collection import services as collection_services
from apps.lab import services as lab_services
from apps.responses.models import Response
from tests.factories import (
    AIModelFactory,
    CapabilityFactory,
    ChallengeFactory,
    ModalityFactory,
    ResponseFactory,
)

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def curator(django_user_model):
    return django_user_model.objects.create_superuser("curator", "c@example.com", "pw")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def one_of_everything(curator):
    model = AIModelFactory()
    model.capabilities.add(CapabilityFactory(slug="reasoning"))
    model.modalities.add(ModalityFactory())
    # In the arena's blind pool, so a battle can be issued on them.
    response = ResponseFactory(model=model, blind=True)
    Group.objects.create(name="Curators")
    # Arena rows, made the way the site makes them: a battle, a vote, an exclusion, a term
    # and a leaderboard snapshot.
    ResponseFactory(challenge=response.challenge, blind=True)
    battle = battles.battle_issue(voter="admin-test-voter")
    votes.vote_cast(token=battle.token, voter="admin-test-voter", outcome="a", ip_hash="f" * 64)
    votes.exclusion_create(kind="session", value="someone-else", reason="test")
    IdentityTerm.objects.create(model=model, term="as a test model")
    leaderboard.leaderboard_recompute()
    lab_services.labrun_create(
        owner="admin-test-owner", ip_hash="f" * 64, prompt="Hi", models=[model], output_type="text"
    )
    collection_services.run_create(scope="missing", user=curator)
    AIModel.objects.filter(pk=model.pk).update(live_battle_enabled=True)
    AIModelFactory(live_battle_enabled=True)
    LiveCategoryRule.objects.create(category=response.challenge.category, keywords="haiku")
    live.live_battle_start(
        voter="admin-test-voter", ip_hash="f" * 64, prompt="A haiku, please", user_id=curator.pk
    )
    EmailAddress.objects.create(user=curator, email="curator@example.com", verified=True)
    return {
        "provider": model.provider_id,
        "capability": model.capabilities.get().pk,
        "category": response.challenge.category_id,
    }


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_staff_see_the_list_add_and_change_pages_of_every_registered_model(
    curator_client, one_of_everything, model
):
    listing = curator_client.get(url(model, "changelist"))
    if model._meta.label == "arena.ExclusionSettings":
        # A single row of settings: its list goes straight to that row.
        listing = curator_client.get(listing["Location"])
    assert listing.status_code == 200
    model_admin = admin.site._registry[model]
    can_add = model_admin.has_add_permission(curator_client.get("/").wsgi_request)
    assert curator_client.get(url(model, "add")).status_code == (200 if can_add else 403)
    obj = model._default_manager.first()
    assert obj is not None, f"no {model._meta.label} to open"
    assert curator_client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_anonymous_visitors_are_sent_to_the_login_page(client, model):
    target = url(model, "changelist")
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_logged_in_visitor_who_is_not_staff_is_sent_to_the_login_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("visitor", password="pw"))
    response = client.get(url(Challenge, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def listed(client, model, query: str) -> set[int]:
    response = client.get(f"{url(model, 'changelist')}?{query}")
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def test_challenge_filters_and_search_narrow_the_list(curator_client):
    svg = ChallengeFactory(output_type="svg", title="Pelican on a bicycle")
    draft_svg = ChallengeFactory(output_type="svg", is_published=False)
    text = ChallengeFactory(output_type="text")
    assert listed(curator_client, Challenge, "output_type__exact=svg") == {svg.pk, draft_svg.pk}
    assert listed(curator_client, Challenge, "is_published__exact=0") == {draft_svg.pk}
    assert listed(curator_client, Challenge, f"category__id__exact={text.category_id}") == {text.pk}
    assert listed(curator_client, Challenge, "q=pelican") == {svg.pk}


def test_model_filters_narrow_the_list(curator_client):
    reasoner, chatter = AIModelFactory.create_batch(2)
    reasoner.capabilities.add(CapabilityFactory(slug="reasoning"))
    retired = AIModelFactory(status=AIModel.Status.RETIRED, retired_on=date(2025, 1, 1))
    capability = reasoner.capabilities.get().pk
    assert listed(curator_client, AIModel, f"capabilities__id__exact={capability}") == {reasoner.pk}
    assert listed(curator_client, AIModel, "status__exact=retired") == {retired.pk}
    assert listed(curator_client, AIModel, f"provider__id__exact={chatter.provider_id}") == {
        chatter.pk
    }


def test_response_filters_narrow_the_list(curator_client, one_of_everything):
    hidden = ResponseFactory(is_published=False, output_type="svg")
    assert listed(curator_client, Response, "is_published__exact=0") == {hidden.pk}
    assert listed(curator_client, Response, "output_type__exact=svg&source__exact=demo") == {
        hidden.pk
    }


def test_the_challenge_list_counts_published_responses(curator_client):
    challenge = ChallengeFactory(title="Count me")
    ResponseFactory.create_batch(3, challenge=challenge)
    ResponseFactory(challenge=challenge, is_published=False)
    page = curator_client.get(url(Challenge, "changelist")).content.decode()
    assert '<td class="field-responses">3</td>' in page


def test_the_challenge_form_prepopulates_the_slug_from_the_title(curator_client):
    page = curator_client.get(url(Challenge, "add")).content.decode()
    assert (
        "prepopulated_fields" in page
        or "data-prepopulated-field" in page
        or ("prepopulated" in page)
    )


def test_curators_publish_and_unpublish_challenges_in_bulk(curator_client):
    drafts = ChallengeFactory.create_batch(2, is_published=False)
    other = ChallengeFactory(is_published=False)
    ids = [c.pk for c in drafts]

    response = curator_client.post(
        url(Challenge, "changelist"), {"action": "publish", "_selected_action": ids}
    )
    assert response.status_code == 302
    assert Challenge.objects.filter(pk__in=ids, is_published=True).count() == 2
    assert not Challenge.objects.get(pk=other.pk).is_published

    curator_client.post(
        url(Challenge, "changelist"), {"action": "unpublish", "_selected_action": ids[:1]}
    )
    assert list(Challenge.objects.filter(is_published=True).values_list("pk", flat=True)) == [
        ids[1]
    ]


def test_retiring_asks_for_a_date_and_reason_then_retires(curator_client):
    models = AIModelFactory.create_batch(2)
    keep = AIModelFactory()
    selected = [m.pk for m in models]
    changelist = url(AIModel, "changelist")

    page = curator_client.post(changelist, {"action": "retire", "_selected_action": selected})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="retired_on"' in html
    assert 'name="reason"' in html
    assert models[0].name in html
    assert AIModel.objects.retired().count() == 0

    done = curator_client.post(
        changelist,
        {
            "action": "retire",
            "_selected_action": selected,
            "apply": "Retire",
            "retired_on": "2026-01-05",
            "reason": "Removed from the provider's API.",
        },
    )
    assert done.status_code == 302
    for model in AIModel.objects.filter(pk__in=selected):
        assert model.status == AIModel.Status.RETIRED
        assert model.retired_on == date(2026, 1, 5)
        assert model.retirement_reason == "Removed from the provider's API."
    assert AIModel.objects.get(pk=keep.pk).status == AIModel.Status.ACTIVE


def test_retiring_without_a_reason_shows_the_form_again_and_retires_nothing(curator_client):
    model = AIModelFactory()
    page = curator_client.post(
        url(AIModel, "changelist"),
        {
            "action": "retire",
            "_selected_action": [model.pk],
            "apply": "Retire",
            "retired_on": "2026-01-05",
            "reason": "",
        },
    )
    assert page.status_code == 200
    assert "This field is required." in page.content.decode()
    assert AIModel.objects.get(pk=model.pk).status == AIModel.Status.ACTIVE


def test_the_gateway_page_names_the_key_variable_and_never_shows_the_key(
    curator_client, monkeypatch
):
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-very-secret-value")
    gateway = Gateway.objects.get(name="openrouter")
    for page in (url(Gateway, "changelist"), url(Gateway, "change", gateway.pk)):
        html = curator_client.get(page).content.decode()
        assert "OPENROUTER_API_KEY" in html
        assert "sk-or-very-secret-value" not in html
    html = curator_client.get(url(Gateway, "change", gateway.pk)).content.decode()
    assert "Never paste a key here" in html


def test_a_key_pasted_as_the_variable_name_is_refused(curator_client):
    gateway = Gateway.objects.get(name="openrouter")
    response = curator_client.post(
        url(Gateway, "change", gateway.pk),
        {
            "name": "openrouter",
            "kind": "openai",
            "base_url": "https://openrouter.ai/api/v1",
            "base_url_env": "",
            "api_key_env": "sk-or-v1-abc123",
            "max_concurrency": 8,
            "requests_per_second": 5,
            "is_enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "not the key itself" in response.content.decode()
    gateway.refresh_from_db()
    assert gateway.api_key_env == "OPENROUTER_API_KEY"


def test_response_metrics_are_read_only(curator_client):
    response = ResponseFactory()
    html = curator_client.get(url(Response, "change", response.pk)).content.decode()
    for metric in ("tokens_in", "tokens_out", "latency_ms", "cost_usd", "prompt"):
        assert f'name="{metric}"' not in html
    assert 'name="note"' in html


def test_setting_retired_in_the_model_form_without_a_date_is_an_error_not_a_crash(curator_client):
    model = AIModelFactory()
    response = curator_client.post(
        url(AIModel, "change", model.pk),
        {
            "name": model.name,
            "slug": model.slug,
            "provider": model.provider_id,
            "status": "retired",
            "retired_on": "",
            "gateway": model.gateway_id,
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert AIModel.objects.get(pk=model.pk).status == AIModel.Status.ACTIVE
