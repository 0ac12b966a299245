"""Private by default, shared by link; Stop; the per-call deadline against a real stream."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.catalog.models import Gateway
from apps.gateways.clients import client_for
from apps.gateways.fakeprovider import FakeProvider
from apps.gateways.spend import spend_reserve, spent_today
from apps.lab.models import LabResult
from apps.lab.tasks import lab_generate
from tests.factories import AIModelFactory
from tests.lab.conftest import lab_run_with

pytestmark = pytest.mark.django_db


def test_a_run_is_private_until_its_maker_shares_it_by_link(client, demo_models):
    run = lab_run_with(client, demo_models[:2])
    result = run.results.first()
    stranger = Client()
    url = reverse("lab:run", args=[run.token])
    assert stranger.get(url).status_code == 404

    client.post(reverse("lab:share", args=[run.token]), {"shared": "1"})

    shared = stranger.get(url)
    assert shared.status_code == 200
    assert "Stop" not in shared.content.decode() and "Share by link" not in shared.content.decode()
    stop = reverse("lab:stop", args=[run.token, result.pk])
    assert stranger.post(stop).status_code == 404
    assert stranger.post(reverse("lab:share", args=[run.token]), {"shared": "0"}).status_code == 404

    client.post(reverse("lab:share", args=[run.token]), {"shared": "0"})
    assert stranger.get(url).status_code == 404


def test_stopping_a_waiting_answer_ends_it_and_refunds_its_reservation(client, demo_models):
    run = lab_run_with(client, demo_models[:2])
    result = run.results.first()
    reservation = spend_reserve({"lab:site": Decimal("1")}, Decimal("0.25"))
    LabResult.objects.filter(pk=result.pk).update(spend=reservation.as_record())

    page = client.post(reverse("lab:stop", args=[run.token, result.pk]), follow=True)

    result.refresh_from_db()
    assert result.state == "failed" and result.stop_requested
    assert "Stopped before the model started answering." in page.content.decode()
    assert spent_today("lab:site") == 0
    assert lab_generate.apply(args=[result.pk]).get() is False, "the worker leaves it alone"


@pytest.fixture
def slow_fake():
    # Three seconds of silence, then a piece every 0.6 s: six seconds in all.
    with FakeProvider(latency=6) as fake:
        yield fake


def test_a_stream_running_past_the_deadline_is_cut_and_keeps_its_text(client, slow_fake, settings):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    settings.LAB_CALL_DEADLINE = 4
    gateway = Gateway.objects.create(
        name="fake", kind=Gateway.Kind.OPENAI, base_url=slow_fake.base_url, api_key_env=""
    )
    run = lab_run_with(client, [AIModelFactory(gateway=gateway), AIModelFactory()])
    result = run.results.get(model__gateway=gateway)
    client_for(gateway)  # the provider SDK is imported once, as a worker does when it starts

    lab_generate.apply(args=[result.pk])

    result.refresh_from_db()
    assert result.state == "done" and result.finish_reason == "deadline"
    assert result.content.startswith("Answer") and not result.content.endswith("asked for.")
    assert result.latency_ms < 5_500
    page = client.get(reverse("lab:run", args=[run.token])).content.decode()
    assert "Out of time" in page


def test_each_model_is_asked_for_its_configured_max_tokens(client, slow_fake, settings):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    settings.LAB_MAX_TOKENS = 300
    gateway = Gateway.objects.create(
        name="fake", kind=Gateway.Kind.OPENAI, base_url=slow_fake.base_url, api_key_env=""
    )
    big = AIModelFactory(slug="big-one", gateway=gateway)
    settings.LAB_MAX_TOKENS_BY_MODEL = {"big-one": 2000}
    run = lab_run_with(client, [big, AIModelFactory(gateway=gateway)])

    for result in run.results.all():
        lab_generate.apply(args=[result.pk])

    sent = dict(run.results.values_list("model__slug", "settings__max_tokens"))
    assert sent["big-one"] == 2000
    assert sorted(sent.values()) == [300, 2000]
