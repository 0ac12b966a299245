"""The Lab's daily caps, through the real form view, the real Redis and real concurrency."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.catalog.models import Gateway
from apps.gateways.spend import spent_today
from apps.lab import services
from apps.lab.models import LabResult, LabRun
from tests.factories import AIModelFactory

PROMPT = "Explain tides."


@pytest.fixture
def paid_models(db, settings):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    paid = Gateway.objects.create(
        name="paid", kind=Gateway.Kind.OPENAI, base_url="http://127.0.0.1:9/v1", api_key_env=""
    )
    return [AIModelFactory(name=f"Paid: {n}", gateway=paid) for n in ("One", "Two")]


def _run_cost(models) -> Decimal:
    return sum(services.max_cost(model, PROMPT) for model in models)


def _post(client, models):
    return client.post(reverse("lab:index"), {"prompt": PROMPT, "models": [m.pk for m in models]})


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_one_user_stop_exactly_at_the_daily_cap(
    paid_models, settings, django_user_model
):
    settings.LAB_USER_DAILY_USD = _run_cost(paid_models) * 2
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    clients = []
    for _ in range(8):
        client = Client()
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(len(clients))

    def submit(client):
        barrier.wait()
        try:
            return _post(client, paid_models)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        pages = list(pool.map(submit, clients))

    assert sorted(page.status_code for page in pages) == [302, 302] + [429] * 6
    assert LabRun.objects.filter(user=user).count() == 2
    assert "past your daily Lab allowance" in next(
        p.content.decode() for p in pages if p.status_code == 429
    )
    assert spent_today(f"lab:user:{user.pk}") <= settings.LAB_USER_DAILY_USD


@pytest.mark.django_db(transaction=True)
def test_the_site_cap_refuses_everyone_once_reached(paid_models, settings, django_user_model):
    settings.LAB_DAILY_USD = _run_cost(paid_models) * 3
    settings.LAB_USER_DAILY_USD = Decimal("100")
    users = [
        django_user_model.objects.create_user(f"u{n}", f"u{n}@example.com", "pw") for n in range(6)
    ]
    barrier = threading.Barrier(len(users))

    def submit(user):
        client = Client()
        client.force_login(user)
        barrier.wait()
        try:
            return _post(client, paid_models).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        statuses = sorted(pool.map(submit, users))

    assert statuses == [302] * 3 + [429] * 3
    assert spent_today("lab:site") <= settings.LAB_DAILY_USD


def test_anonymous_visitors_get_no_paid_models_without_an_allowance(client, paid_models):
    page = _post(client, paid_models)
    assert page.status_code == 429
    assert "Sign in to run paid models" in page.content.decode()
    assert not LabRun.objects.exists()


def test_a_run_is_reserved_whole_or_not_at_all(client, paid_models, settings):
    settings.LAB_ANON_DAILY_USD = services.max_cost(paid_models[0], PROMPT) * Decimal("1.5")
    page = _post(client, paid_models)
    assert page.status_code == 429
    owner = client.session["lab_owner"]
    assert spent_today(f"lab:session:{owner}") == 0
    assert spent_today("lab:site") == 0


def test_free_demo_models_count_nothing_against_any_cap(client, demo_models):
    assert _post(client, demo_models[:2]).status_code == 302
    assert spent_today("lab:site") == 0
    assert LabResult.objects.filter(spend={}).count() == 2


def test_models_a_curator_has_not_enabled_are_not_offered(client, demo_models):
    hidden = demo_models[2]
    hidden.lab_enabled = False
    hidden.save()
    page = client.get(reverse("lab:index")).content.decode()
    assert demo_models[0].name in page and hidden.name not in page
    assert _post(client, [demo_models[0], hidden]).status_code == 400
