import pytest
from django.urls import reverse
from django.utils import timezone

from apps.catalog.models import Gateway
from apps.gateways.limits import gateway_slot
from apps.lab.models import LabResult
from apps.lab.tasks import lab_generate
from tests.factories import AIModelFactory
from tests.lab.conftest import lab_run_with, run_of
from tests.utils import wait_for


def test_a_result_is_generated_on_the_demo_gateway_with_rival_defaults(client, demo_models):
    run = lab_run_with(client, demo_models[:2], output_type="svg", prompt="Draw a lighthouse")
    result = run.results.first()

    assert lab_generate.apply(args=[result.pk]).get() is True

    result.refresh_from_db()
    assert result.state == "done"
    assert result.content.lstrip().startswith("<svg")
    assert result.tokens_out and result.latency_ms is not None
    assert result.settings["temperature"] == 0.7
    assert result.settings["top_p"] == 1.0
    assert result.settings["system_prompt"] == ""
    assert result.settings["gateway"] == "demo"
    assert result.finished_at is not None


def test_a_second_delivery_does_nothing(client, demo_models):
    run = lab_run_with(client, demo_models[:2])
    result = run.results.first()
    assert lab_generate.apply(args=[result.pk]).get() is True
    result.refresh_from_db()
    first = (result.content, result.finished_at, result.started_at)

    assert lab_generate.apply(args=[result.pk]).get() is False

    result.refresh_from_db()
    assert (result.content, result.finished_at, result.started_at) == first


def test_a_result_another_worker_is_generating_is_left_alone(client, demo_models):
    run = lab_run_with(client, demo_models[:2])
    result = run.results.first()
    LabResult.objects.filter(pk=result.pk).update(state="running", started_at=timezone.now())

    assert lab_generate.apply(args=[result.pk]).get() is False
    result.refresh_from_db()
    assert result.state == "running"
    assert result.content == ""


def test_a_claim_left_by_a_dead_worker_is_taken_over(client, demo_models, settings):
    run = lab_run_with(client, demo_models[:2])
    result = run.results.first()
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.LAB_TASK_TIME_LIMIT + 60)
    LabResult.objects.filter(pk=result.pk).update(state="running", started_at=long_ago)

    assert lab_generate.apply(args=[result.pk]).get() is True
    result.refresh_from_db()
    assert result.state == "done"


def test_an_unknown_result_id_does_nothing(db):
    assert lab_generate.apply(args=[987_654_321]).get() is False


def test_a_missing_key_on_an_opted_in_paid_gateway_names_the_variable(
    client, demo_models, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    paid = Gateway.objects.create(
        name="paid",
        kind=Gateway.Kind.OPENAI,
        base_url="http://127.0.0.1:9/v1",
        api_key_env="RIVAL_LAB_TEST_KEY",
    )
    model = AIModelFactory(name="Paid: Model", gateway=paid)
    # The key is there when the visitor picks the model, and gone when the worker runs.
    monkeypatch.setenv("RIVAL_LAB_TEST_KEY", "sk-secret-value-never-shown")
    with django_capture_on_commit_callbacks():
        client.post(
            reverse("lab:index"),
            {"prompt": "Hello", "models": [model.pk, demo_models[0].pk]},
        )
    run = run_of(client)
    monkeypatch.delenv("RIVAL_LAB_TEST_KEY")
    result = run.results.get(model=model)

    lab_generate.apply(args=[result.pk])

    result.refresh_from_db()
    assert result.state == "failed"
    assert "RIVAL_LAB_TEST_KEY" in result.error
    html = client.get(reverse("lab:run", args=[run.token])).content.decode()
    assert "set the environment variable RIVAL_LAB_TEST_KEY" in html
    assert "sk-secret-value-never-shown" not in html


def test_switching_paid_gateways_off_stops_queued_paid_results(client, demo_models, settings):
    paid = Gateway.objects.create(name="paid", kind=Gateway.Kind.OPENAI, api_key_env="")
    run = lab_run_with(client, [AIModelFactory(gateway=paid), demo_models[0]])
    result = run.results.get(model__gateway=paid)
    settings.LAB_ALLOW_PAID_GATEWAYS = False

    lab_generate.apply(args=[result.pk])

    result.refresh_from_db()
    assert result.state == "failed"
    assert "Paid gateways are switched off" in result.error


def test_the_lab_waits_for_the_gateways_limits_like_collection(
    client, demo_models, settings, fake_provider, make_gateway
):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    settings.COLLECTION_SLOT_WAIT = 0.3
    fake = fake_provider()
    gateway = make_gateway(fake, max_concurrency=1)
    run = lab_run_with(client, [AIModelFactory(gateway=gateway), demo_models[0]])
    result = run.results.get(model__gateway=gateway)

    # Another caller (a collection job, another visitor) holds the gateway's only slot.
    with gateway_slot(gateway, wait=1, lease=30):
        lab_generate.apply(args=[result.pk])

    result.refresh_from_db()
    assert result.state == "failed"
    assert "at its limits" in result.error
    assert fake.requests() == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_completes_a_run_and_the_page_shows_every_answer(
    client, demo_models, celery_worker_process
):
    celery_worker_process("--pool", "solo")

    page = client.post(
        reverse("lab:index"),
        {
            "prompt": "Write a Python function that reverses a list.",
            "models": [m.pk for m in demo_models],
            "output_type": "code",
        },
    )
    assert page.status_code == 302
    run = run_of(client)

    wait_for(lambda: not run.results.exclude(state="done").exists())

    html = client.get(page["Location"]).content.decode()
    assert "hx-trigger" not in html
    for result in run.results.all():
        assert result.model.name in html
        assert result.content
        # Code is shown highlighted by our renderer, never raw.
        assert result.safe_html in html
    assert 'class="highlight"' in html
