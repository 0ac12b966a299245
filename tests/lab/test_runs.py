import json

import pytest
import redis
from django.conf import settings
from django.urls import reverse

from apps.lab.models import LabResult, LabRun
from apps.lab.tasks import lab_generate
from tests.lab.conftest import lab_run_with, run_of

URL = reverse("lab:index")


def queued_lab_tasks() -> list[tuple[bytes, int]]:
    """Lab tasks waiting in the real Redis broker on the Lab's own queue, as (raw message,
    result id)."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    found = []
    for raw in broker.lrange("lab", 0, -1):
        headers = json.loads(raw)["headers"]
        if headers["task"] == "apps.lab.tasks.lab_generate":
            found.append((raw, int(headers["argsrepr"].strip("(),"))))
    return found


@pytest.fixture
def broker_queue():
    yield
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for raw, _ in queued_lab_tasks():
        broker.lrem("lab", 0, raw)


def test_a_valid_run_is_stored_queued_once_per_model_and_redirects(
    client, demo_models, broker_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            URL,
            {"prompt": "Explain tides.", "models": [m.pk for m in demo_models[:3]]},
        )
    run = run_of(client)
    assert page.status_code == 302
    assert page["Location"] == reverse("lab:run", args=[run.token])
    assert len(run.token) >= 22
    assert run.prompt == "Explain tides."
    results = list(run.results.order_by("position"))
    assert [r.model for r in results] == demo_models[:3]
    assert {r.state for r in results} == {"pending"}
    assert sorted(pk for _, pk in queued_lab_tasks()) == sorted(r.pk for r in results)


def test_the_run_page_shows_the_prompt_and_polls_only_pending_results(client, demo_models):
    run = lab_run_with(client, demo_models[:2], prompt="Why is the sky blue?")
    lab_generate.apply(args=[run.results.get(model=demo_models[0]).pk])

    page = client.get(reverse("lab:run", args=[run.token]))
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    assert "Why is the sky blue?" in html
    assert html.count('hx-trigger="every 500ms"') == 1
    assert 'http-equiv="refresh"' in html
    assert ">Refresh</a>" in html


def test_a_finished_run_stops_polling(client, demo_models):
    run = lab_run_with(client, demo_models[:2])
    for result in run.results.all():
        lab_generate.apply(args=[result.pk])
    html = client.get(reverse("lab:run", args=[run.token])).content.decode()
    assert "hx-trigger" not in html
    assert 'http-equiv="refresh"' not in html
    assert html.count("Done") >= 2


def test_the_polled_partial_is_one_result_card(client, demo_models):
    run = lab_run_with(client, demo_models[:2])
    result = run.results.first()
    pending = client.get(reverse("lab:result", args=[run.token, result.pk]), HTTP_HX_REQUEST="true")
    assert pending.content.decode().lstrip().startswith("<article")
    assert 'hx-trigger="every 500ms"' in pending.content.decode()
    assert "<html" not in pending.content.decode()

    lab_generate.apply(args=[result.pk])
    done = client.get(reverse("lab:result", args=[run.token, result.pk]), HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in done.content.decode()
    assert "Tokens in / out" in done.content.decode()


def test_another_session_gets_404_for_a_run_its_results_and_frames(client, demo_models):
    from django.test import Client

    run = lab_run_with(client, demo_models[:2], output_type="svg")
    result = run.results.first()
    lab_generate.apply(args=[result.pk])
    urls = [
        reverse("lab:run", args=[run.token]),
        reverse("lab:result", args=[run.token, result.pk]),
        reverse("lab:frame", args=[run.token, result.pk]),
    ]
    htmx = {"HTTP_HX_REQUEST": "true"}
    assert [client.get(url, **htmx).status_code for url in urls] == [200, 200, 200]
    stranger = Client()
    assert [stranger.get(url, **htmx).status_code for url in urls] == [404, 404, 404]
    stranger.post(URL, {"prompt": "mine", "models": [m.pk for m in demo_models[:2]]})
    assert stranger.session["lab_owner"], "the stranger has runs of its own now"
    assert [stranger.get(url, **htmx).status_code for url in urls] == [404, 404, 404]


def test_a_made_up_token_is_a_404(client, db):
    assert client.get(reverse("lab:run", args=["not-a-real-token-at-all"])).status_code == 404


def test_rate_limit_refuses_a_run_with_a_message_and_queues_nothing(
    client, demo_models, settings, django_capture_on_commit_callbacks
):
    settings.LAB_RATE_LIMIT_SESSION = "2/3600"
    data = {"prompt": "Explain tides.", "models": [m.pk for m in demo_models[:2]]}
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(URL, data).status_code == 302
        assert client.post(URL, data).status_code == 302
        refused = client.post(URL, data)
    assert refused.status_code == 429
    assert "Please wait a while before starting another" in refused.content.decode()
    assert LabRun.objects.count() == 2
    assert len(callbacks) == 4


def test_rate_limit_per_ip_counts_across_sessions(client, demo_models, settings):
    from django.test import Client

    settings.LAB_RATE_LIMIT_IP = "1/3600"
    data = {"prompt": "Explain tides.", "models": [m.pk for m in demo_models[:2]]}
    assert client.post(URL, data).status_code == 302
    other_session_same_ip = Client()
    refused = other_session_same_ip.post(URL, data)
    assert refused.status_code == 429
    assert LabRun.objects.count() == 1
    assert LabRun.objects.get().ip_hash not in ("", "127.0.0.1")
    assert len(LabRun.objects.get().ip_hash) == 64


def test_the_run_page_makes_a_constant_number_of_queries(
    client, demo_models, django_assert_num_queries
):
    from tests.factories import AIModelFactory

    small = lab_run_with(client, demo_models[:2])
    large = lab_run_with(client, [*demo_models, AIModelFactory()])
    for result in LabResult.objects.all():
        lab_generate.apply(args=[result.pk])
    counts = []
    for run in (small, large):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("lab:run", args=[run.token])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_num_queries(counts[0]):
        client.get(reverse("lab:run", args=[large.token]))
    assert counts[0] <= 3, "session, run, results with their models"


def test_recent_runs_of_this_session_are_listed_on_the_form(client, demo_models):
    run = lab_run_with(client, demo_models[:2], prompt="My earlier prompt")
    html = client.get(URL).content.decode()
    assert "My earlier prompt" in html
    assert reverse("lab:run", args=[run.token]) in html


def test_a_plain_visit_to_a_result_card_goes_to_its_run(client, demo_models):
    run = lab_run_with(client, demo_models[:2])
    result = run.results.first()
    page = client.get(reverse("lab:result", args=[run.token, result.pk]))
    assert page.status_code == 302
    assert page["Location"] == reverse("lab:run", args=[run.token]) + f"#result-{result.pk}"


def test_a_result_nobody_picks_up_says_the_workers_may_be_down(client, demo_models):
    from datetime import timedelta

    from django.utils import timezone

    run = lab_run_with(client, demo_models[:2])
    html = client.get(reverse("lab:run", args=[run.token])).content.decode()
    assert "Waiting for a worker…" in html
    LabRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    html = client.get(reverse("lab:run", args=[run.token])).content.decode()
    assert "background workers may be busy or stopped" in html
    assert 'hx-trigger="every 500ms"' in html
