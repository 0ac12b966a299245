"""What the leaderboard and Best For pages show, computed from the latest snapshot."""

import hashlib
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from apps.arena import selectors
from apps.arena.models import LeaderboardSnapshot
from apps.challenges.models import Category
from apps.responses.models import Response

CHART_WIDTH = 760
CHART_LABEL_WIDTH = 230
CHART_ROW_HEIGHT = 24
CHART_PAD = 28
BEST_FOR_TOP = 5
BOARD_TEMPLATE = "arena/_leaderboard_board.html"
# Bump when BOARD_TEMPLATE or its context changes, so a deploy does not serve regions
# rendered by the old template until the next recompute.
BOARD_CACHE_VERSION = 1
BOARD_CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class ChartRow:
    label: str
    y: float
    x_lower: float
    x_upper: float
    x_rating: float
    row: object


def _nice_step(span: float) -> float:
    raw = span / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def rating_chart(rows) -> dict | None:
    """Coordinates for a server-rendered SVG: one line per model from its lower to its upper
    bound, a dot at its rating, and vertical grid lines at round numbers."""
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

    chart_rows = [
        ChartRow(
            label=row.model.name,
            y=CHART_PAD + i * CHART_ROW_HEIGHT + CHART_ROW_HEIGHT / 2,
            x_lower=x(row.lower),
            x_upper=x(row.upper),
            x_rating=x(row.rating),
            row=row,
        )
        for i, row in enumerate(rows)
    ]
    height = CHART_PAD * 2 + len(rows) * CHART_ROW_HEIGHT
    ticks = []
    value = low
    while value <= high + 1e-9:
        ticks.append({"value": f"{value:g}", "x": x(value)})
        value += step
    return {
        "width": CHART_WIDTH,
        "height": height,
        "rows": chart_rows,
        "ticks": ticks,
        "label_x": CHART_LABEL_WIDTH - 8,
        "plot_top": CHART_PAD - 6,
        "plot_bottom": height - CHART_PAD + 6,
        "tick_y": height - CHART_PAD + 20,
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
                    "column": models_by_id[matrix["models"][c]],
                    "rate": rate,
                    "percent": None if rate is None else round(rate * 100),
                    "level": None if rate is None else min(10, max(0, round(rate * 10))),
                }
            )
        rows.append({"model": models_by_id[matrix["models"][r]], "cells": cells})
    return {"models": [models_by_id[i] for i in ids], "rows": rows}


def leaderboard_context(*, category: Category | None, creator: str) -> dict:
    """What leaderboard.html needs: the per-request frame (filters, chips) and the heavy
    region (meta, table, chart, heat map) pre-rendered, usually from the cache."""
    region = board_region(category=category, creator=creator)
    return {
        "category": category,
        "categories": selectors.ratings_categories(),
        "creator": creator,
        "creators": region["creators"],
        "board": mark_safe(region["html"]),  # rendered by our own template, autoescaped
        "demo_votes": region["demo_votes"],
    }


def board_region(*, category: Category | None, creator: str) -> dict:
    """{"creators": [(slug, name)], "html": the rendered region, "demo_votes": whether
    simulated votes are stored} for the newest snapshot.

    Rendering 300 table rows, a 300-line chart and a 20x20 heat map costs 100+ ms, and it is
    a pure function of the snapshot (rows only change when a recompute writes a new one),
    the category and the creator filter. So one cheap query finds the newest snapshot's id
    and the region is cached under it: a recompute means a new id, hence a fresh render,
    never a stale page. Model and creator renames show at the next recompute (or after
    BOARD_CACHE_SECONDS). Language and time zone are fixed site-wide, so they need no key.
    Creator values that are no creator of the snapshot are not cached, so made-up query
    strings cannot fill the cache."""
    snapshot_id, demo_votes = selectors.latest_snapshot_and_demo_votes(category)
    key = _board_key(snapshot_id, category, creator)
    region = cache.get(key)
    if region is None:
        context = _board_context(snapshot_id, category=category, creator=creator)
        region = {
            "creators": context["creators"],
            "html": str(render_to_string(BOARD_TEMPLATE, context)),
        }
        if not creator or creator in {slug for slug, _ in context["creators"]}:
            cache.set(key, region, BOARD_CACHE_SECONDS)
    return {**region, "demo_votes": demo_votes}


def _board_key(snapshot_id: int | None, category: Category | None, creator: str) -> str:
    creator_key = hashlib.sha256(creator.encode()).hexdigest()[:24] if creator else "all"
    return ":".join(
        (
            f"arena:board:v{BOARD_CACHE_VERSION}",
            str(snapshot_id),
            str(category.pk) if category else "overall",
            str(settings.ARENA_PROVISIONAL_VOTES),
            creator_key,
        )
    )


def _board_context(snapshot_id: int | None, *, category: Category | None, creator: str) -> dict:
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
    return {
        "category": category,
        "creator": creator,
        "creators": creators,
        "snapshot": snapshot,
        "rows": rows,
        "chart": rating_chart(rows),
        "heat": heat_map(snapshot, {r.model_id: r.model for r in all_rows}),
        "provisional_votes": settings.ARENA_PROVISIONAL_VOTES,
        "demo_votes": selectors.demo_votes_exist(),
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
        "provisional_votes": settings.ARENA_PROVISIONAL_VOTES,
        "demo_votes": selectors.demo_votes_exist(),
    }
