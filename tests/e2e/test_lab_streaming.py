"""Streaming end to end: Chromium, the run page, a real Celery worker, and the fake provider
speaking the OpenAI wire protocol over real HTTP, slowly enough to watch."""

import re
from decimal import Decimal

import pytest

from apps.catalog.models import Gateway
from apps.gateways.fakeprovider import FakeProvider
from apps.lab.models import LabResult
from tests.factories import AIModelFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Half the latency passes before the first piece, the other half spreads over five pieces.
LATENCY = 10
WORKER_ENV = {"LAB_ALLOW_PAID_GATEWAYS": "1"}
BOTH_COLUMNS_PARTIAL = """() => {
  const texts = [...document.querySelectorAll("article.lab-running .lab-text")]
    .map((el) => el.textContent.trim()).filter((text) => text.startsWith("Answer"));
  return texts.length >= 2 && texts.every((text) => !text.endsWith("you asked for."));
}"""


@pytest.fixture
def fake():
    with FakeProvider(latency=LATENCY) as provider:
        yield provider


@pytest.fixture
def lab_settings(settings):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    settings.LAB_ANON_DAILY_USD = Decimal("1")
    return settings


def _streaming_models(fake, *names):
    gateway = Gateway.objects.create(
        name="fake", kind=Gateway.Kind.OPENAI, base_url=fake.base_url, api_key_env=""
    )
    return [AIModelFactory(name=f"Fake: {n}", gateway=gateway) for n in names]


def _start_run(page, live_server, *names):
    page.goto(live_server.url + "/lab/")
    page.get_by_label("Prompt").fill("Explain how tides work.")
    for name in names:
        page.get_by_label(name).check()
    page.get_by_role("button", name="Run the prompt").click()
    page.wait_for_url(re.compile(r"/lab/[A-Za-z0-9_-]{20,}/$"))


def test_answers_stream_into_their_columns_and_a_failing_column_breaks_nothing(
    live_server, page, celery_worker_process, fake, lab_settings
):
    _streaming_models(fake, "Alpha", "Beta")
    broken = Gateway.objects.create(
        name="broken", kind=Gateway.Kind.OPENAI, base_url="http://127.0.0.1:9/v1", api_key_env=""
    )
    AIModelFactory(name="Broken: Gamma", gateway=broken)
    celery_worker_process(
        "--pool", "threads", "--concurrency", "4", "-Q", "celery,lab", env=WORKER_ENV
    )

    _start_run(page, live_server, "Fake: Alpha", "Fake: Beta", "Broken: Gamma")

    page.wait_for_function(BOTH_COLUMNS_PARTIAL, timeout=60_000, polling=100)
    failed = page.locator("article.lab-failed")
    failed.wait_for(timeout=30_000)
    assert "could not answer this time" in failed.inner_text()
    assert "127.0.0.1:9" not in page.content() and "Connection" not in failed.inner_text()

    page.locator("article.lab-done").nth(1).wait_for(timeout=60_000)
    for column in page.locator("article.lab-done").all():
        assert column.locator(".lab-text").inner_text().strip().endswith("you asked for.")
        metrics = column.locator(".lab-metrics").inner_text().lower()
        assert "first token" in metrics and "tokens/s" in metrics and "stop" in metrics
    assert page.locator("[hx-trigger]").count() == 0
    assert page.page_errors == []


def test_stop_ends_one_columns_call_and_keeps_its_text_so_far(
    live_server, page, celery_worker_process, fake, lab_settings
):
    _streaming_models(fake, "Alpha", "Beta")
    celery_worker_process(
        "--pool", "threads", "--concurrency", "4", "-Q", "celery,lab", env=WORKER_ENV
    )
    _start_run(page, live_server, "Fake: Alpha", "Fake: Beta")

    page.wait_for_function(BOTH_COLUMNS_PARTIAL, timeout=60_000, polling=100)
    page.get_by_role("button", name="Stop Fake: Alpha").click()

    alpha = page.locator("article", has=page.get_by_role("heading", name="Fake: Alpha"))
    alpha.get_by_text("Stopped", exact=True).wait_for(timeout=15_000)
    page.locator("article.lab-done").nth(1).wait_for(timeout=60_000)

    stopped = LabResult.objects.get(model__name="Fake: Alpha")
    finished = LabResult.objects.get(model__name="Fake: Beta")
    assert stopped.finish_reason == "stopped"
    assert stopped.content.startswith("Answer") and not stopped.content.endswith("asked for.")
    assert alpha.locator(".lab-text").inner_text().strip() == stopped.content.strip()
    assert finished.finish_reason == "stop" and finished.content.endswith("you asked for.")
