"""A live battle in Chromium: type a prompt on the arena, watch two anonymous answers stream
in from a real Celery worker and the fake provider, vote, and see the reveal."""

import re
from decimal import Decimal

import pytest

from apps.catalog.models import Gateway
from apps.gateways.fakeprovider import FakeProvider
from tests.e2e.screens import screenshot
from tests.factories import AIModelFactory, ProviderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Half the latency passes before the first piece, the other half spreads over five pieces.
LATENCY = 8
BOTH_SIDES_PARTIAL = """() => {
  const texts = [...document.querySelectorAll(".live-side .prose")]
    .map((el) => el.textContent.trim()).filter((text) => text.startsWith("Answer"));
  return texts.length === 2 && texts.every((text) => !text.endsWith("you asked for."));
}"""


@pytest.fixture
def fake():
    with FakeProvider(latency=LATENCY, names_model=False) as provider:
        yield provider


def _live_models(fake):
    gateway = Gateway.objects.create(
        name="fake-live", kind=Gateway.Kind.OPENAI, base_url=fake.base_url, api_key_env=""
    )
    return [
        AIModelFactory(
            provider=ProviderFactory(name=f"{word}works", slug=f"{word.lower()}works"),
            name=f"{word}works: {word}",
            slug=word.lower(),
            gateway=gateway,
            price_input_per_mtok=Decimal("1"),
            price_output_per_mtok=Decimal("2"),
            live_battle_enabled=True,
        )
        for word in ("Quill", "Ember")
    ]


def test_a_visitor_types_a_prompt_watches_both_answers_arrive_votes_and_sees_the_reveal(
    live_server, page, browser, celery_worker_process, fake, settings
):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    settings.ARENA_LIVE_ANON_DAILY_USD = Decimal("1")
    models = _live_models(fake)
    celery_worker_process(
        "--pool", "threads", "--concurrency", "2", "-Q", "celery,lab",
        env={"LAB_ALLOW_PAID_GATEWAYS": "1"},
    )  # fmt: skip

    page.goto(live_server.url + "/arena/")
    page.get_by_text("Or battle on your own prompt").click()
    page.get_by_label("Your prompt").fill("Explain how tides work, for a child.")
    page.get_by_role("button", name="Start a live battle").click()
    page.wait_for_url(re.compile(r"/arena/live/[A-Za-z0-9_-]{20,}/$"))

    page.wait_for_function(BOTH_SIDES_PARTIAL, timeout=60_000, polling=100)
    screenshot(page, "live-battle-streaming-desktop", full_page=True)
    html = page.content()
    for model in models:
        for tell in (model.name, model.slug, model.provider.name, "fake-live"):
            assert tell.lower() not in html.lower(), f"{tell!r} named a side while streaming"

    vote_a = page.get_by_role("button", name="A is better")
    vote_a.wait_for(timeout=60_000)
    assert page.locator(".live-side .prose").nth(0).inner_text().strip().endswith("asked for.")
    assert page.locator(".live-side .prose").nth(1).inner_text().strip().endswith("asked for.")
    html = page.content()
    for model in models:
        assert model.name not in html and model.provider.name not in html

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    small.goto(page.url)
    small.get_by_role("button", name="A is better").wait_for()
    screenshot(small, "live-battle-ready-390")
    small.goto(live_server.url + "/arena/")
    small.get_by_text("Or battle on your own prompt").click()
    assert small.get_by_label("Your prompt").is_visible()
    assert small.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scroll"
    screenshot(small, "live-battle-form-390", full_page=True)
    phone.close()

    vote_a.click()
    reveal = page.locator(".arena-reveal")
    reveal.wait_for(timeout=15_000)
    text = reveal.inner_text()
    assert "response a was written by" in text.lower() and "You voted: A is better" in text
    assert all(model.name in text for model in models)
    screenshot(page, "live-battle-reveal-desktop", full_page=True)
    assert page.page_errors == []
