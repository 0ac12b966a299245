"""axe-core in Chromium: no serious or critical violations on the main browse pages."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from apps.catalog.models import AIModel
from tests.factories import (
    AIModelFactory,
    CapabilityFactory,
    ChallengeFactory,
    ResponseFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site():
    model = AIModelFactory(name="Acme: Rocket", description="Fast and small.")
    model.capabilities.add(CapabilityFactory(name="Reasoning"))
    AIModelFactory(name="Acme: Old", status=AIModel.Status.RETIRED, retired_on="2025-01-01")
    text = ResponseFactory(
        model=model,
        challenge=ChallengeFactory(title="Explain", featured=True),
        content=(
            "## Answer\n\n```python\nprint('hi')  # a comment long enough to scroll on a phone"
            " screen, which makes the block a scrollable region\n```\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n"
        ),
    )
    html = ResponseFactory(
        model=model,
        challenge=ChallengeFactory(title="Timer", output_type="html"),
        content="<!doctype html><title>Timer</title><h1>Timer</h1>",
    )
    ResponseFactory(challenge=text.challenge)
    return {
        "home": "/",
        "models": "/models/",
        "model": model.get_absolute_url(),
        "response": text.get_absolute_url(),
        "html response": html.get_absolute_url(),
        "challenges": "/challenges/",
        "challenge": text.challenge.get_absolute_url(),
        "html challenge": html.challenge.get_absolute_url(),
        "creators": "/creators/",
        "graveyard": "/graveyard/",
        "methodology": "/methodology/",
        "sign up": "/accounts/signup/",
        "sign in": "/accounts/login/",
        "password reset": "/accounts/password/reset/",
        "not found": "/models/nope/",
    }


@pytest.mark.parametrize("width", [1280, 390])
def test_main_pages_have_no_serious_or_critical_axe_violations(live_server, browser, site, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    axe = Axe()
    problems = {}
    for name, url in site.items():
        page.goto(live_server.url + url)
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            problems[name] = bad
    context.close()
    assert problems == {}


def test_pages_log_no_console_errors_including_csp_reports(live_server, page, site):
    for url in site.values():
        if url == "/models/nope/":
            continue
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
    errors = [m.text for m in page.console_messages if m.type == "error"]
    assert errors == [], errors
