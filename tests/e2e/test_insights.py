"""The Insights charts in Chromium: every chart drawn at desktop and phone widths, axe clean."""

from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe

from apps.arena.services.leaderboard import leaderboard_recompute
from apps.pages.insights import CHARTS
from tests.e2e.screens import screenshot
from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ProviderFactory,
    ResponseFactory,
    votes_between,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MODELS = [
    ("Acme", "Acme: Sprint Mini", "0.40", 600, 900),
    ("Acme", "Acme: Sprint Pro", "8.00", 1400, 2200),
    ("Globex", "Globex: Atlas", "15.00", 2600, 4100),
    ("Globex", "Globex: Atlas Lite", "1.20", 900, 1500),
    ("Initech", "Initech: Deep Thought", "60.00", 5200, 9000),
    ("Initech", "Initech: Small Talk", "0.10", 400, 700),
]


@pytest.fixture
def rated_site(settings):
    settings.ARENA_MIN_VOTES = 5
    categories = [CategoryFactory(name="Coding", slug="coding"), CategoryFactory(name="Writing")]
    challenges = [ChallengeFactory(category=c) for c in categories for _ in range(2)]
    by_model = {}
    for creator, name, price, latency_fast, latency_slow in MODELS:
        model = AIModelFactory(
            name=name,
            provider=ProviderFactory(name=creator, slug=creator.lower()),
            price_output_per_mtok=Decimal(price),
        )
        by_model[name] = [
            ResponseFactory(
                challenge=challenge,
                model=model,
                latency_ms=latency_fast if index % 2 else latency_slow,
                tokens_out=300 + 40 * index,
                cost_usd=Decimal(price) * (300 + 40 * index) / 1_000_000,
            )
            for index, challenge in enumerate(challenges)
        ]
    names = [m[1] for m in MODELS]
    strength = {"Initech: Deep Thought": 5, "Globex: Atlas": 4, "Acme: Sprint Pro": 4}
    for round_ in range(2):
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                for k in range(len(challenges)):
                    diff = strength.get(a, 2) - strength.get(b, 2) + round_
                    outcomes = "a" * (4 + max(diff, 0)) + "b" * (4 + max(-diff, 0)) + "t"
                    votes_between(by_model[a][k], by_model[b][k], outcomes)
        leaderboard_recompute(rounds=50)


@pytest.mark.parametrize("width", [1280, 390])
def test_every_insights_chart_renders_and_is_axe_clean(live_server, browser, rated_site, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    axe = Axe()
    problems = {}
    for slug in ["", *CHARTS]:
        page.goto(f"{live_server.url}/insights/{slug + '/' if slug else ''}")
        svg = page.locator("figure.insight-figure svg").first
        assert svg.is_visible()
        assert svg.bounding_box()["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            problems[slug or "index"] = bad
        if slug:
            screenshot(page, f"insights-{slug}-{width}", full_page=True)
    context.close()
    assert problems == {}
