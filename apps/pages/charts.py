"""Geometry for server-rendered SVG charts: scales, round ticks, and figures as lists of
marks that one template (`pages/_figure.svg.html`) draws. No Django, no data access: the
Insights page feeds it numbers from selectors."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

WIDTH = 640
FONT = 12
PALETTE = ("#4338ca", "#b45309", "#047857", "#be123c", "#0369a1", "#7e22ce", "#4d7c0f", "#374151")
INK = "#111827"
MUTED = "#4b5563"
GRID = "#e5e7eb"


@dataclass(frozen=True)
class Mark:
    """One SVG element: its tag, attributes, and text content for <text>."""

    tag: str
    attrs: dict
    text: str = ""


@dataclass
class Figure:
    width: int
    height: int
    marks: list[Mark] = field(default_factory=list)

    def add(self, tag: str, text: str = "", **attrs) -> None:
        self.marks.append(Mark(tag, {k.replace("_", "-"): _fmt(v) for k, v in attrs.items()}, text))


def _fmt(value):
    return round(value, 1) if isinstance(value, float) else value


def nice_step(span: float, target: int = 6) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^n) giving about `target` intervals over `span`."""
    raw = max(span, 1e-9) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def linear_ticks(low: float, high: float, target: int = 6) -> tuple[float, float, list[float]]:
    """Round bounds enclosing [low, high] and the ticks between them."""
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    step = nice_step(high - low, target)
    start, stop = math.floor(low / step) * step, math.ceil(high / step) * step
    count = round((stop - start) / step)
    return start, stop, [start + i * step for i in range(count + 1)]


def log_ticks(low: float, high: float) -> tuple[float, float, list[float]]:
    """Bounds on the 1-3-10 ladder enclosing [low, high] (both > 0) and the rungs between."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    ladder = [m * 10.0**e for e in range(first, last + 1) for m in (1, 3)]
    start = max(v for v in ladder if v <= low * (1 + 1e-9))
    stop = min(v for v in ladder if v >= high * (1 - 1e-9))
    if stop <= start:
        stop = next(v for v in ladder if v > start)
    return start, stop, [v for v in ladder if start <= v <= stop]


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point dominates (as cheap or cheaper *and* as good or
    better, strictly one of the two), by rising x: the best rating for each price."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    frontier, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            frontier.append(i)
            best = points[i][1]
    return frontier


def tick_label(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:g}"


@dataclass(frozen=True)
class Plot:
    """The plotting area of a figure and the mapping of data onto it."""

    left: float
    right: float
    top: float
    bottom: float
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    x_log: bool = False

    def x(self, value: float) -> float:
        if self.x_log:
            value, low, high = (math.log10(v) for v in (value, self.x_low, self.x_high))
        else:
            low, high = self.x_low, self.x_high
        return self.left + (value - low) / (high - low) * (self.right - self.left)

    def y(self, value: float) -> float:
        span = self.y_high - self.y_low
        return self.bottom - (value - self.y_low) / span * (self.bottom - self.top)


def _axes(
    figure: Figure, plot: Plot, x_ticks, y_ticks, x_label: str, y_label: str, x_text=tick_label
):
    for tick in y_ticks:
        y = plot.y(tick)
        figure.add("line", x1=plot.left, x2=plot.right, y1=y, y2=y, stroke=GRID)
        figure.add(
            "text",
            tick_label(tick),
            x=plot.left - 6,
            y=y + 4,
            text_anchor="end",
            font_size=FONT,
            fill=MUTED,
        )
    for tick in x_ticks:
        x = plot.x(tick)
        figure.add("line", x1=x, x2=x, y1=plot.top, y2=plot.bottom, stroke=GRID)
        figure.add(
            "text",
            x_text(tick),
            x=x,
            y=plot.bottom + 16,
            text_anchor="middle",
            font_size=FONT,
            fill=MUTED,
        )
    figure.add(
        "text",
        x_label,
        x=(plot.left + plot.right) / 2,
        y=plot.bottom + 34,
        text_anchor="middle",
        font_size=FONT + 1,
        fill=INK,
    )
    figure.add(
        "text",
        y_label,
        x=14,
        y=(plot.top + plot.bottom) / 2,
        text_anchor="middle",
        font_size=FONT + 1,
        fill=INK,
        transform=f"rotate(-90 14 {(plot.top + plot.bottom) / 2:.1f})",
    )


@dataclass(frozen=True)
class ScatterPoint:
    x: float
    y: float
    label: str
    marked: bool


def scatter(
    points: Sequence[ScatterPoint], *, x_label: str, y_label: str, line_through_marked: bool
) -> Figure:
    """A scatter on a log x axis; marked points are filled, labelled and (optionally) joined
    by a line in x order; the rest are open circles."""
    figure = Figure(WIDTH, 440)
    x_low, x_high, x_ticks = log_ticks(min(p.x for p in points), max(p.x for p in points))
    y_low, y_high, y_ticks = linear_ticks(min(p.y for p in points), max(p.y for p in points))
    plot = Plot(64, WIDTH - 24, 16, 440 - 48, x_low, x_high, y_low, y_high, x_log=True)
    _axes(figure, plot, x_ticks, y_ticks, x_label, y_label)
    marked = sorted((p for p in points if p.marked), key=lambda p: p.x)
    if line_through_marked and len(marked) > 1:
        path = " ".join(f"{plot.x(p.x):.1f},{plot.y(p.y):.1f}" for p in marked)
        figure.add("polyline", points=path, fill="none", stroke=PALETTE[1], stroke_width=2)
    for point in points:
        figure.add(
            "circle",
            cx=plot.x(point.x),
            cy=plot.y(point.y),
            r=5,
            fill=PALETTE[1] if point.marked else "#ffffff",
            stroke=PALETTE[1] if point.marked else PALETTE[0],
            stroke_width=2,
        )
    for point in marked:
        x = plot.x(point.x)
        right_half = x > (plot.left + plot.right) / 2
        figure.add(
            "text",
            point.label,
            x=x - 8 if right_half else x + 8,
            y=plot.y(point.y) - 8,
            text_anchor="end" if right_half else "start",
            font_size=FONT,
            fill=INK,
        )
    return figure


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[datetime, float]]


def snapshot_lines(series: Sequence[Series], *, y_label: str) -> Figure:
    """One coloured line per series across snapshots, with a dot per value and the series'
    label at its last point; colours follow PALETTE in order (the table uses the same).
    Snapshots are evenly spaced, in time order: they come when votes do, not on a clock."""
    figure = Figure(WIDTH, 420)
    times = sorted({t for s in series for t, _ in s.points})
    position = {t: i for i, t in enumerate(times)}
    values = [v for s in series for _, v in s.points]
    y_low, y_high, y_ticks = linear_ticks(min(values), max(values))
    last = max(len(times) - 1, 1)
    plot = Plot(64, WIDTH - 150, 16, 420 - 48, -0.05 * last, 1.05 * last, y_low, y_high)
    x_ticks = sorted({0, len(times) - 1, (len(times) - 1) // 2})
    _axes(
        figure,
        plot,
        x_ticks,
        y_ticks,
        "Leaderboard snapshot",
        y_label,
        x_text=lambda i: times[int(i)].strftime("%d %b %H:%M"),
    )
    for index, line in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        coords = [(plot.x(position[t]), plot.y(v)) for t, v in line.points]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            figure.add("polyline", points=path, fill="none", stroke=colour, stroke_width=2)
        for x, y in coords:
            figure.add("circle", cx=x, cy=y, r=3, fill=colour)
        x, y = coords[-1]
        figure.add("text", line.label, x=x + 8, y=y + 4, font_size=FONT, fill=colour)
    return figure


@dataclass(frozen=True)
class Bar:
    label: str
    values: Sequence[float | None]
    notes: Sequence[str]


BAR_ROW = 24


def bars(rows: Sequence[Bar], *, panels: Sequence[str]) -> Figure:
    """Horizontal bars, one row per item and one panel per value (sharing the label
    column); each bar carries its note as text. A missing value leaves its panel empty."""
    label_width, gap = 150, 12
    height = 36 + BAR_ROW * len(rows) + 8
    figure = Figure(WIDTH, height)
    panel_width = (WIDTH - label_width - gap * len(panels)) / len(panels)
    for index, title in enumerate(panels):
        left = label_width + gap + index * (panel_width + gap)
        figure.add("text", title, x=left, y=16, font_size=FONT + 1, fill=INK, font_weight="bold")
        top_value = max((r.values[index] or 0 for r in rows), default=0) or 1
        longest_note = max((len(r.notes[index]) for r in rows), default=0)
        usable = panel_width - 10 - longest_note * FONT * 0.6
        for row_index, row in enumerate(rows):
            value = row.values[index]
            if value is None:
                continue
            y = 36 + row_index * BAR_ROW
            width = max(usable * value / top_value, 1)
            figure.add(
                "rect",
                x=left,
                y=y + 3,
                width=width,
                height=BAR_ROW - 8,
                fill=PALETTE[index % len(PALETTE)],
                rx=2,
            )
            figure.add(
                "text",
                row.notes[index],
                x=left + width + 5,
                y=y + BAR_ROW / 2 + 3,
                font_size=FONT,
                fill=INK,
            )
    for row_index, row in enumerate(rows):
        y = 36 + row_index * BAR_ROW + BAR_ROW / 2 + 3
        figure.add(
            "text", row.label, x=label_width, y=y, text_anchor="end", font_size=FONT, fill=INK
        )
    return figure
