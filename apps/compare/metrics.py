"""Side-by-side values with the better one marked, in words as well as colour.

Pure functions over already-loaded objects: no queries here.
"""

from dataclasses import dataclass

from apps.arena.selectors import RatingRow
from apps.catalog.models import AIModel
from apps.challenges.models import OutputType
from apps.responses.models import Response


@dataclass
class Cell:
    display: str
    best: bool = False
    note: str = ""


def mark_best(values: list, *, prefer: str) -> list[bool]:
    """True for the single best value; nothing is marked on a tie or with fewer than two."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return [False] * len(values)
    best = min(present) if prefer == "low" else max(present)
    if present.count(best) > 1:
        return [False] * len(values)
    return [v is not None and v == best for v in values]


def cells(values: list, displays: list[str], *, prefer: str, notes: tuple[str, str]) -> list:
    """notes: the mark in words for two models and for three or more ("faster", "fastest")."""
    note = notes[0] if len(values) == 2 else notes[1]
    marks = mark_best(values, prefer=prefer)
    return [Cell(d, best=m, note=note if m else "") for d, m in zip(displays, marks, strict=True)]


def _money(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if value >= 0.1 else f"${value:.6f}".rstrip("0")


def _tokens(n: int | None) -> str:
    if n is None:
        return "—"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g}M"
    return f"{n / 1000:.0f}K" if n >= 1000 else str(n)


def _context(n: int | None) -> str:
    return f"{_tokens(n)} tokens" if n else "—"


def _params(model: AIModel) -> str:
    if model.parameters_total:
        total = _big(model.parameters_total)
        if model.parameters_active and model.parameters_active != model.parameters_total:
            return f"{total} total, {_big(model.parameters_active)} active"
        return total
    return model.parameters_note or "—"


def _big(n: int) -> str:
    for size, unit in ((10**12, "T"), (10**9, "B"), (10**6, "M")):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:,}"


@dataclass
class SpecRow:
    label: str
    cells: list[Cell]


def rating_display(row: RatingRow | None) -> str:
    if row is None:
        return "no rating yet"
    margin = (row.upper - row.lower) / 2
    text = f"{row.rating:.0f} ± {margin:.0f}"
    return f"{text} (provisional, {row.votes} votes)" if row.is_provisional else text


def rating_cells(models: list[AIModel], ratings: dict[int, RatingRow]) -> list[Cell]:
    """Higher only when its interval clears every other interval: the leaderboard's own rule."""
    found = [ratings.get(m.id) for m in models]
    marked = [Cell(rating_display(row)) for row in found]
    if any(row is None for row in found):
        return marked
    for i, row in enumerate(found):
        if all(row.lower > other.upper for j, other in enumerate(found) if j != i):
            marked[i] = Cell(marked[i].display, best=True, note="higher")
    return marked


def spec_rows(models: list[AIModel], ratings: dict[int, RatingRow]) -> list[SpecRow]:
    rows = [
        SpecRow("AI creator", [Cell(m.provider.name) for m in models]),
        SpecRow(
            "Released",
            cells(
                [m.release_date for m in models],
                [m.release_date.strftime("%b %-d, %Y") if m.release_date else "—" for m in models],
                prefer="high",
                notes=("newer", "newest"),
            ),
        ),
        SpecRow("Size class", [Cell(m.get_size_class_display() or "—") for m in models]),
        SpecRow("Parameters", [Cell(_params(m)) for m in models]),
        SpecRow(
            "Context window",
            cells(
                [m.context_length for m in models],
                [
                    f"{_tokens(m.context_length)} tokens" if m.context_length else "—"
                    for m in models
                ],
                prefer="high",
                notes=("larger", "largest"),
            ),
        ),
        SpecRow(
            "Input price / 1M tokens",
            cells(
                [m.price_input_per_mtok for m in models],
                [_money(m.price_input_per_mtok) for m in models],
                prefer="low",
                notes=("cheaper", "cheapest"),
            ),
        ),
        SpecRow(
            "Output price / 1M tokens",
            cells(
                [m.price_output_per_mtok for m in models],
                [_money(m.price_output_per_mtok) for m in models],
                prefer="low",
                notes=("cheaper", "cheapest"),
            ),
        ),
        SpecRow("Arena rating (95% interval)", rating_cells(models, ratings)),
    ]
    if any(m.status != AIModel.Status.ACTIVE for m in models):
        rows.append(SpecRow("Status", [Cell(m.get_status_display()) for m in models]))
    return rows


def output_length(response: Response) -> tuple[int | None, str]:
    """Words for prose and code, characters for markup; nothing for images and audio."""
    if response.output_type in (OutputType.TEXT, OutputType.CODE):
        words = len(response.content.split())
        return words, f"{words:,} words"
    if response.output_type in (OutputType.HTML, OutputType.SVG):
        chars = len(response.content)
        return chars, f"{chars:,} chars"
    return None, "—"


METRICS = (
    ("Length", "low", ("shorter", "shortest")),
    ("Output tokens", "low", ("fewer", "fewest")),
    ("Latency", "low", ("faster", "fastest")),
    ("Cost", "low", ("cheaper", "cheapest")),
)


def response_metrics(response: Response) -> list[tuple[object, str]]:
    length = output_length(response)
    latency = response.latency_ms
    return [
        length,
        (response.tokens_out, f"{response.tokens_out:,}" if response.tokens_out else "—"),
        (latency, f"{latency / 1000:.1f} s" if latency is not None else "—"),
        (response.cost_usd, _money(response.cost_usd)),
    ]
