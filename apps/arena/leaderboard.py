"""What the leaderboard and Best For pages show, computed from the latest snapshot."""

import hashlib
import math
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from apps.arena import selectors
from apps.arena.models import LeaderboardSnapshot
from apps.challenges.models import Category
from apps.responses.models import Response

CHART_WIDTH = 760
CHART_LABEL_WIDTH = 250
CHART_ROW_HEIGHT = 18
CHART_TOP = 8
CHART_BOTTOM = 40
BEST_FOR_TOP = 5
BOARD_ROWS = 50
BOARD_TEMPLATE = "arena/_leaderboard_board.html"
# Bump when BOARD_TEMPLATE or its context changes, so a deploy does not serve regions
# rendered by the old template until the next recompute.
BOARD_CACHE_VERSION = 2
BOARD_CACHE_SECONDS = 24 * 60 * 60
SORTS = ("rank", "score")


@dataclass(frozen=True)
class BoardView:
    """The choices a visitor makes on the board, parsed from the query string. Only these
    values exist, so the cache holds at most 2 × 2 × 2 regions per snapshot and creator."""

    style: bool = False
    show_all: bool = False
    sort: str = "rank"
    # Whose votes: everyone's, or verified voters' only (an overall snapshot of its own).
    voters: str = LeaderboardSnapshot.Voters.ALL

    @classmethod
    def from_query(cls, query) -> "BoardView":
        sort = query.get("sort", "rank")
        voters = query.get("voters") or LeaderboardSnapshot.Voters.ALL
        return cls(
            style=query.get("style") == "1",
            show_all=query.get("all") == "1",
            sort=sort if sort in SORTS else "rank",
            voters=voters if voters in LeaderboardSnapshot.Voters.values else "all",
        )

    @property
    def key(self) -> str:
        return f"s{int(self.style)}a{int(self.show_all)}{self.sort}"


@dataclass(frozen=True)
class BoardRow:
    """A snapshot row as the board shows it: in plain or style-controlled terms."""

    row: object
    rank: int | None
    tier: int | None
    rating: float
    lower: float
    upper: float
    rank_change: int | None  # places gained with style control (plain rank − style rank)
    flips_with: object  # the next row on the plain board, for the flip explanation

    def __getattr__(self, name):
        return getattr(self.row, name)


def _nice_step(span: float) -> float:
    raw = span / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def rating_chart(rows: list[BoardRow]) -> dict | None:
    """Coordinates for a server-rendered SVG: one line per model from its lower to its upper
    bound, a dot at its rating, grid lines and labels at round numbers over the range the
    intervals span, and a shaded band behind each tier."""
    if not rows:
        return None
    low = min(r.lower for r in rows)
    high = max(r.upper for r in rows)
    if high - low < 20:
        low, high = low - 10, high + 10
    step = _nice_step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    plot_left, plot_right = CHART_LABEL_WIDTH, CHART_WIDTH - 16

    def x(value: float) -> float:
        return round(plot_left + (value - low) / (high - low) * (plot_right - plot_left), 1)

    def y(i: int) -> float:
        return CHART_TOP + i * CHART_ROW_HEIGHT + CHART_ROW_HEIGHT / 2

    items = [
        {
            "label": row.model.name,
            "y": y(i),
            "path": f"M{x(row.lower)} {y(i)}H{x(row.upper)}",
            "x": x(row.rating),
            "provisional": row.rank is None,
        }
        for i, row in enumerate(rows)
    ]
    bands = []
    for i, row in enumerate(rows):
        if row.tier is None:
            continue
        if bands and bands[-1]["tier"] == row.tier and bands[-1]["last"] == i - 1:
            bands[-1]["last"] = i
        else:
            bands.append({"tier": row.tier, "first": i, "last": i})
    for band in bands:
        band["y"] = CHART_TOP + band["first"] * CHART_ROW_HEIGHT
        band["height"] = (band["last"] - band["first"] + 1) * CHART_ROW_HEIGHT
        band["shade"] = band["tier"] % 2
    plot_bottom = CHART_TOP + len(rows) * CHART_ROW_HEIGHT
    ticks = []
    value = low
    while value <= high + 1e-9:
        ticks.append({"value": f"{value:g}", "x": x(value)})
        value += step
    return {
        "width": CHART_WIDTH,
        "height": plot_bottom + CHART_BOTTOM,
        "rows": items,
        "bands": bands,
        "ticks": ticks,
        "label_x": CHART_LABEL_WIDTH - 8,
        "plot_left": plot_left,
        "plot_right": plot_right,
        "plot_top": CHART_TOP,
        "plot_bottom": plot_bottom,
        "tick_y": plot_bottom + 14,
        "axis_y": plot_bottom + 32,
        "axis_x": (plot_left + plot_right) / 2,
    }


def heat_map(snapshot, models_by_id: dict) -> dict | None:
    """The top models' observed score shares, each cell with a colour class in tenths."""
    matrix = (snapshot.win_matrix or {}) if snapshot else {}
    ids = [i for i in matrix.get("models", []) if i in models_by_id]
    if len(ids) < 2:
        return None
    keep = [matrix["models"].index(i) for i in ids]
    rows = []
    for r in keep:
        cells = []
        for c in keep:
            rate = matrix["rates"][r][c]
            cells.append(
                {
                    "percent": None if rate is None else round(rate * 100),
                    "level": None if rate is None else min(10, max(0, round(rate * 10))),
                }
            )
        rows.append({"model": models_by_id[matrix["models"][r]], "cells": cells})
    return {"models": [models_by_id[i] for i in ids], "rows": rows}


def board_rows(rows: list, view: BoardView) -> list[BoardRow]:
    """Ranked models first (by rank, or by Rival Score), then provisional ones; in the
    style-controlled view ranks, tiers and intervals are the style-controlled ones."""
    ranked = sorted((r for r in rows if r.rank is not None), key=lambda r: -r.rating)
    plain_next = {upper.pk: lower for upper, lower in zip(ranked, ranked[1:], strict=False)}
    shown = []
    for r in rows:
        has_style = view.style and r.style_rating is not None
        shown.append(
            BoardRow(
                row=r,
                rank=r.style_rank if view.style else r.rank,
                tier=r.style_tier if view.style else r.tier,
                rating=r.style_rating if has_style else r.rating,
                lower=r.style_lower if has_style else r.lower,
                upper=r.style_upper if has_style else r.upper,
                rank_change=(
                    r.rank - r.style_rank
                    if r.rank is not None and r.style_rank is not None
                    else None
                ),
                flips_with=plain_next.get(r.pk),
            )
        )
    if view.sort == "score":
        return sorted(shown, key=lambda b: -(b.rival_score if b.rival_score is not None else -1))
    return sorted(shown, key=lambda b: (b.rank is None, -b.rating))


def _query(category: Category | None, creator: str, view: BoardView, **changes) -> str:
    values = {
        "category": category.slug if category else "",
        "creator": creator,
        "style": "1" if view.style else "",
        "all": "1" if view.show_all else "",
        "sort": "" if view.sort == "rank" else view.sort,
        "voters": "" if view.voters == LeaderboardSnapshot.Voters.ALL else view.voters,
    }
    values.update(changes)
    return urlencode({k: v for k, v in values.items() if v})


def leaderboard_context(*, category: Category | None, creator: str, view: BoardView) -> dict:
    """What leaderboard.html needs: the per-request frame (filters, chips) and the heavy
    region (meta, chart, table, heat map) pre-rendered, usually from the cache. Verified
    voters' ratings exist overall only, so that choice drops the category."""
    if view.voters == LeaderboardSnapshot.Voters.VERIFIED:
        category = None
    region = board_region(category=category, creator=creator, view=view)
    return {
        "category": category,
        "categories": selectors.ratings_categories(),
        "voters": view.voters,
        "voter_choices": LeaderboardSnapshot.Voters.choices,
        "creator": creator,
        "creators": region["creators"],
        "view": view,
        "board": mark_safe(region["html"]),  # rendered by our own template, autoescaped
        "demo_votes": region["demo_votes"],
    }


def board_region(*, category: Category | None, creator: str, view: BoardView) -> dict:
    """{"creators": [(slug, name)], "html": the rendered region, "demo_votes": whether
    simulated votes are stored} for the newest snapshot.

    Rendering a chart, a table and a 20x20 heat map costs tens of ms, and it is a pure
    function of the snapshot (rows only change when a recompute writes a new one), the
    category, the creator filter and the view. So one cheap query finds the newest
    snapshot's id and the region is cached under it: a recompute means a new id, hence a
    fresh render, never a stale page. Model and creator renames show at the next recompute
    (or after BOARD_CACHE_SECONDS). Language and time zone are fixed site-wide, so they need
    no key. Creator values that are no creator of the snapshot are not cached, so made-up
    query strings cannot fill the cache."""
    # The snapshot id differs per flavour of voters, so the key needs no more for them.
    snapshot_id, demo_votes = selectors.latest_snapshot_and_demo_votes(category, view.voters)
    key = _board_key(snapshot_id, category, creator, view)
    region = cache.get(key)
    if region is None:
        context = _board_context(snapshot_id, category=category, creator=creator, view=view)
        region = {
            "creators": context["creators"],
            "html": str(render_to_string(BOARD_TEMPLATE, context)),
        }
        if not creator or creator in {slug for slug, _ in context["creators"]}:
            cache.set(key, region, BOARD_CACHE_SECONDS)
    return {**region, "demo_votes": demo_votes}


def _board_key(
    snapshot_id: int | None, category: Category | None, creator: str, view: BoardView
) -> str:
    creator_key = hashlib.sha256(creator.encode()).hexdigest()[:24] if creator else "all"
    return ":".join(
        (
            f"arena:board:v{BOARD_CACHE_VERSION}",
            str(snapshot_id),
            str(category.pk) if category else "overall",
            view.key,
            creator_key,
        )
    )


def _board_context(
    snapshot_id: int | None, *, category: Category | None, creator: str, view: BoardView
) -> dict:
    all_rows = list(selectors.snapshot_rows(snapshot_id)) if snapshot_id else []
    if all_rows:
        snapshot = all_rows[0].snapshot
    else:
        snapshot = (
            LeaderboardSnapshot.objects.filter(pk=snapshot_id).first() if snapshot_id else None
        )
    creators = sorted(
        {(r.model.provider.slug, r.model.provider.name) for r in all_rows}, key=lambda c: c[1]
    )
    rows = [r for r in all_rows if r.model.provider.slug == creator] if creator else all_rows
    ordered = board_rows(rows, view)
    shown = ordered if view.show_all else ordered[:BOARD_ROWS]
    return {
        "category": category,
        "creator": creator,
        "creators": creators,
        "snapshot": snapshot,
        "view": view,
        "rows": shown,
        "total_rows": len(ordered),
        "hidden_rows": len(ordered) - len(shown),
        "links": {
            "plain": _query(category, creator, view, style=""),
            "style": _query(category, creator, view, style="1"),
            "all": _query(category, creator, view, all="1"),
            "top": _query(category, creator, view, all=""),
            "by_rank": _query(category, creator, view, sort=""),
            "by_score": _query(category, creator, view, sort="score"),
            "pairs": urlencode(
                {k: v for k, v in (("category", category.slug if category else ""),) if v}
                | {"pairs": "1"}
            ),
        },
        "chart": rating_chart(shown),
        "heat": heat_map(snapshot, {r.model_id: r.model for r in all_rows}),
        "min_votes": snapshot.min_votes if snapshot else settings.ARENA_MIN_VOTES,
    }


def pairs_context(*, category: Category | None, model_slug: str) -> dict:
    """One model's results against every model it met (category: that category's votes),
    with the share its rating predicts. The model defaults to the top of the board."""
    rows = list(selectors.latest_rows(category))
    by_id = {r.model_id: r for r in rows}
    chosen = next((r for r in rows if r.model.slug == model_slug), rows[0] if rows else None)
    results = []
    if chosen is not None:
        for other_id, h2h in selectors.head_to_head_all(chosen.model_id, category).items():
            other = by_id.get(other_id)
            if other is None or not h2h.total:
                continue
            expected = 1 / (1 + 10 ** ((other.rating - chosen.rating) / 400))
            results.append({"row": other, "h2h": h2h, "expected": expected})
        results.sort(key=lambda r: (r["row"].rank is None, -r["row"].rating))
    return {
        "category": category,
        "rows": rows,
        "chosen": chosen,
        "results": results,
        "snapshot": rows[0].snapshot if rows else None,
    }


def best_for_context(category: Category) -> dict:
    rows = list(selectors.latest_rows(category)[:BEST_FOR_TOP])
    examples: dict[int, Response] = {}
    if rows:
        for response in (
            Response.objects.visible()
            .filter(model_id__in=[r.model_id for r in rows], challenge__category=category)
            .select_related("challenge")
            .order_by("-challenge__featured", "challenge__title")
        ):
            examples.setdefault(response.model_id, response)
    return {
        "category": category,
        "categories": selectors.ratings_categories(),
        "snapshot": rows[0].snapshot if rows else None,
        "entries": [(row, examples.get(row.model_id)) for row in rows],
        "demo_votes": selectors.demo_votes_exist(),
    }
