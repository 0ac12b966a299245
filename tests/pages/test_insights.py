from decimal import Decimal

import pytest
from django.urls import reverse

from apps.arena.services.leaderboard import leaderboard_recompute
from apps.catalog.models import AIModel
from apps.pages import charts
from tests.factories import ChallengeFactory, ProviderFactory, ResponseFactory, votes_between

pytestmark = pytest.mark.django_db

CHART_SLUGS = ["rating-vs-price", "rating-history", "speed", "challenge-cost", "cheapest-top-tier"]


def test_pareto_frontier_keeps_the_best_rating_at_each_price():
    points = [(1.0, 1000), (2.0, 1100), (0.5, 900), (3.0, 1050), (10.0, 1200)]
    assert charts.pareto_frontier(points) == [2, 0, 1, 4]


def test_log_ticks_enclose_the_prices_on_a_one_three_ladder():
    low, high, ticks = charts.log_ticks(0.4, 15)
    assert (round(low, 6), high) == (0.3, 30)
    assert [round(t, 6) for t in ticks] == [0.3, 1, 3, 10, 30]


@pytest.fixture
def rated_site(settings):
    """Three priced models with votes: cheap-and-good, dear-and-best, dear-and-worst (enough
    votes each to be ranked and tiered)."""
    settings.ARENA_MIN_VOTES = 5
    acme = ProviderFactory(name="Acme", slug="acme")
    globex = ProviderFactory(name="Globex", slug="globex")
    challenge = ChallengeFactory(title="Explain tides")
    ChallengeFactory(title="Second challenge")
    cheap = ResponseFactory(
        challenge=challenge,
        model__name="Acme: Cheap",
        model__provider=acme,
        model__price_output_per_mtok=Decimal("0.50"),
        cost_usd=Decimal("0.001"),
        latency_ms=1000,
        tokens_out=100,
    )
    best = ResponseFactory(
        challenge=challenge,
        model__name="Globex: Best",
        model__provider=globex,
        model__price_output_per_mtok=Decimal("15"),
        cost_usd=Decimal("0.030"),
        latency_ms=4000,
        tokens_out=200,
    )
    worst = ResponseFactory(
        challenge=challenge,
        model__name="Globex: Worst",
        model__provider=globex,
        model__price_output_per_mtok=Decimal("20"),
        cost_usd=Decimal("0.040"),
        latency_ms=6000,
        tokens_out=200,
    )
    votes_between(best, cheap, "aaaaaaab")
    votes_between(cheap, worst, "aaaaaaab")
    votes_between(best, worst, "aaaaaaaa")
    leaderboard_recompute(rounds=50)
    return {"cheap": cheap.model, "best": best.model, "worst": worst.model}


def _section(html: str, slug: str) -> str:
    return html.split(f'id="{slug}"', 1)[1].split("</section>", 1)[0]


def _row(section: str, name: str) -> str:
    """The data-table row whose header cell is `name`."""
    return section.split("<tbody>", 1)[1].split(f">{name}</a></th>", 1)[1].split("</tr>", 1)[0]


def test_insights_page_draws_every_chart_with_a_title_a_description_and_a_table(client, rated_site):
    html = client.get(reverse("pages:insights")).content.decode()
    for slug in CHART_SLUGS:
        section = _section(html, slug)
        assert f'aria-labelledby="{slug}-title {slug}-desc"' in section
        assert f'<title id="{slug}-title">' in section
        assert f'<desc id="{slug}-desc">' in section
        assert "<table>" in section
        assert reverse("pages:insight", args=[slug]) in section


def test_rating_vs_price_marks_the_cheap_and_the_best_model_as_the_frontier(client, rated_site):
    section = _section(client.get(reverse("pages:insights")).content.decode(), "rating-vs-price")
    rows = {name: _row(section, name) for name in ("Acme: Cheap", "Globex: Best", "Globex: Worst")}
    assert "<td>Yes</td>" in rows["Acme: Cheap"]
    assert "<td>Yes</td>" in rows["Globex: Best"]
    assert "<td>No</td>" in rows["Globex: Worst"]
    assert "frontier" in section and "Cheap, Best" in section


def test_speed_and_cost_charts_give_per_creator_and_per_model_numbers(client, rated_site):
    html = client.get(reverse("pages:insights")).content.decode()
    speed = _section(html, "speed")
    # Acme: one response, 100 tokens in 1 s; Globex: 400 tokens in 10 s over two.
    assert _row(speed, "Acme") == "<td>1</td><td>1,000 ms</td><td>100</td>"
    assert _row(speed, "Globex") == "<td>2</td><td>5,000 ms</td><td>40</td>"
    cost = _section(html, "challenge-cost")
    # Two published challenges, each model answered one: twice its one answer's cost.
    assert _row(cost, "Acme: Cheap") == "<td>1</td><td>0.0010</td><td>0.0020</td>"
    assert _row(cost, "Globex: Worst") == "<td>1</td><td>0.0400</td><td>0.0800</td>"


def test_cheapest_top_tier_names_the_cheapest_model_no_one_clearly_beats(client, rated_site):
    section = _section(client.get(reverse("pages:insights")).content.decode(), "cheapest-top-tier")
    cheapest = {
        row.split("</a></th>", 1)[0].rsplit(">", 1)[1]: row.split("<td>", 2)[1]
        for row in section.split("<tbody>", 1)[1].split("<tr>")[1:]
    }
    assert cheapest
    for category, cell in cheapest.items():
        assert "Worst" not in cell, category


def test_each_chart_has_a_permalink_page_and_unknown_charts_are_404(client, rated_site):
    for slug in CHART_SLUGS:
        page = client.get(reverse("pages:insight", args=[slug]))
        assert page.status_code == 200
        assert f'<h1 id="{slug}-heading">' in page.content.decode()
    assert client.get("/insights/nope/").status_code == 404


def test_charts_are_cached_until_the_next_snapshot(client, rated_site):
    url = reverse("pages:insight", args=["rating-vs-price"])
    assert "Acme: Cheap" in client.get(url).content.decode()
    AIModel.objects.filter(pk=rated_site["cheap"].pk).update(name="Acme: Renamed")
    assert "Acme: Renamed" not in client.get(url).content.decode()
    leaderboard_recompute(rounds=50)
    assert "Acme: Renamed" in client.get(url).content.decode()


def test_insights_without_votes_or_responses_explain_what_is_missing(client):
    html = client.get(reverse("pages:insights")).content.decode()
    assert "No rated models with a known price yet." in html
    assert "<svg role" not in html


def test_insights_runs_a_constant_number_of_queries(
    client, rated_site, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        client.get(reverse("pages:insights"))
    with django_assert_max_num_queries(2):
        client.get(reverse("pages:insights"))


def test_insights_is_linked_from_the_footer(client):
    html = client.get(reverse("pages:home")).content.decode()
    assert f'href="{reverse("pages:insights")}"' in html
