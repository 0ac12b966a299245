"""The Insights charts: numbers from the arena and responses selectors (the same reads the
API uses), drawn by `charts`, and cached per leaderboard snapshot."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from apps.arena import selectors as arena
from apps.pages import charts
from apps.responses import selectors as responses

# Bump when a chart's context changes shape, so cached charts of the old shape are not served.
CACHE_VERSION = 1
# Snapshots key the cache; the response-based charts also age out, since new responses
# arrive without a new snapshot.
CACHE_SECONDS = 60 * 60
HISTORY_MODELS = 8


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    summary: str
    build: Callable[[], dict]


def _money(value: float | Decimal) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:,.4f}".rstrip("0").rstrip(".")


def rating_vs_price() -> dict:
    rows = [
        r
        for r in arena.latest_rows()
        if r.model.price_output_per_mtok is not None and r.model.price_output_per_mtok > 0
    ]
    frontier = set(
        charts.pareto_frontier([(float(r.model.price_output_per_mtok), r.rating) for r in rows])
    )
    table = [
        {
            "model": r.model,
            "price": r.model.price_output_per_mtok,
            "rating": r.rating,
            "on_frontier": i in frontier,
        }
        for i, r in enumerate(rows)
    ]
    table.sort(key=lambda t: (not t["on_frontier"], t["price"], -t["rating"]))
    figure = None
    if rows:
        figure = charts.scatter(
            [
                charts.ScatterPoint(
                    float(t["price"]), t["rating"], t["model"].short_name, t["on_frontier"]
                )
                for t in table
            ],
            x_label="Price per 1M output tokens (USD, log scale)",
            y_label="Arena rating",
            line_through_marked=True,
        )
    on_frontier = [t["model"].short_name for t in table if t["on_frontier"]]
    return {
        "figure": figure,
        "table": table,
        "desc": (
            f"{len(table)} rated models with a known output price, plotted by price and "
            f"rating. The Pareto frontier — models no other model beats on both price and "
            f"rating — is drawn as a filled, labelled line: {', '.join(on_frontier)}."
            if table
            else "No rated models with a known price yet."
        ),
    }


def rating_history() -> dict:
    points = arena.rating_history(models=HISTORY_MODELS)
    by_model: dict[int, list] = {}
    for point in points:
        by_model.setdefault(point.model_id, []).append(point)
    ordered = sorted(by_model.values(), key=lambda ps: -ps[-1].rating)
    series = [
        charts.Series(ps[0].model_name.split(": ", 1)[-1], [(p.computed_at, p.rating) for p in ps])
        for ps in ordered
    ]
    table = [
        {
            "name": ps[0].model_name,
            "colour": charts.PALETTE[i % len(charts.PALETTE)],
            "first": ps[0],
            "latest": ps[-1],
            "change": ps[-1].rating - ps[0].rating,
            "snapshots": len(ps),
        }
        for i, ps in enumerate(ordered)
    ]
    return {
        "figure": charts.snapshot_lines(series, y_label="Arena rating") if series else None,
        "table": table,
        "desc": (
            f"Overall rating of the {len(table)} best-rated models in each of the last "
            f"{len({p.computed_at for p in points})} leaderboard snapshots, one line per model."
            if table
            else "No leaderboard snapshots yet."
        ),
    }


def speed_by_creator() -> dict:
    table = responses.speed_by_creator()
    figure = None
    if table:
        figure = charts.bars(
            [
                charts.Bar(
                    row.name,
                    (row.mean_latency_ms / 1000, row.tokens_per_second),
                    (
                        f"{row.mean_latency_ms / 1000:.1f} s",
                        f"{row.tokens_per_second:.0f}" if row.tokens_per_second else "",
                    ),
                )
                for row in table
            ],
            panels=("Mean latency (s)", "Output tokens per second"),
        )
    return {
        "figure": figure,
        "table": table,
        "desc": (
            f"Mean response latency and output tokens per second for {len(table)} AI creators, "
            f"fastest first."
            if table
            else "No timed responses yet."
        ),
    }


def cost_of_every_challenge() -> dict:
    table = responses.cost_of_every_challenge()
    figure = None
    if table:
        figure = charts.bars(
            [
                charts.Bar(
                    row.name.split(": ", 1)[-1],
                    (float(row.every_challenge_usd),),
                    (_money(row.every_challenge_usd),),
                )
                for row in table
            ],
            panels=("Cost of answering every challenge (USD)",),
        )
    return {
        "figure": figure,
        "table": table,
        "desc": (
            f"What answering every published challenge costs each of {len(table)} models, at "
            f"its mean cost per answer, cheapest first. Cheapest: {table[0].name}, "
            f"{_money(table[0].every_challenge_usd)}."
            if table
            else "No priced responses yet."
        ),
    }


def cheapest_top_tier() -> dict:
    tiers: dict[int, list] = {}
    for row in arena.top_tier_rows():
        if row.model.price_output_per_mtok is not None:
            tiers.setdefault(row.snapshot.category_id, []).append(row)
    table = []
    for rows in tiers.values():
        rows.sort(key=lambda r: (r.model.price_output_per_mtok, -r.rating))
        table.append(
            {
                "category": rows[0].snapshot.category,
                "cheapest": rows[0],
                "priciest": rows[-1],
                "tier_size": len(rows),
            }
        )
    figure = None
    if table:
        figure = charts.bars(
            [
                charts.Bar(
                    t["category"].name,
                    (float(t["cheapest"].model.price_output_per_mtok),),
                    (
                        f"{_money(t['cheapest'].model.price_output_per_mtok)} "
                        f"{t['cheapest'].model.short_name}",
                    ),
                )
                for t in table
            ],
            panels=("Cheapest top-tier model: USD per 1M output tokens",),
        )
    return {
        "figure": figure,
        "table": table,
        "desc": (
            f"For each of {len(table)} categories, the cheapest model of the top tier (the "
            f"leader and every model whose 95% interval overlaps its), by output price."
            if table
            else "No category ratings yet."
        ),
    }


CHARTS = {
    chart.slug: chart
    for chart in (
        Chart(
            "rating-vs-price",
            "Rating vs price",
            "Arena rating against price per 1M output tokens, with the Pareto frontier.",
            rating_vs_price,
        ),
        Chart(
            "rating-history",
            "Rating history",
            "How the best models' ratings moved across leaderboard snapshots.",
            rating_history,
        ),
        Chart(
            "speed",
            "Latency and speed by creator",
            "Mean latency and output tokens per second of each AI creator's models.",
            speed_by_creator,
        ),
        Chart(
            "challenge-cost",
            "Cost of answering every challenge",
            "What each model would charge to answer every published challenge.",
            cost_of_every_challenge,
        ),
        Chart(
            "cheapest-top-tier",
            "Cheapest model in the top tier",
            "Per category, the cheapest model in the top tier: the leader and every model "
            "whose interval overlaps the leader's.",
            cheapest_top_tier,
        ),
    )
}


def chart_contexts(*slugs: str) -> list[dict]:
    """Each chart's figure, data table and description, computed once per leaderboard
    snapshot (and at most CACHE_SECONDS old)."""
    snapshot_id = arena.latest_snapshot_id()
    contexts = []
    for slug in slugs:
        chart = CHARTS[slug]
        key = f"insights:v{CACHE_VERSION}:{slug}:{snapshot_id}"
        contexts.append({"chart": chart, **cache.get_or_set(key, chart.build, CACHE_SECONDS)})
    return contexts
