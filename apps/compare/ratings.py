"""Arena ratings as the compare pages need them, read through `apps.arena.selectors`.

The arena app owns ratings; this adapter only normalises what its selectors return, and
answers "no rating yet" while the arena has nothing to say.
"""

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Rating:
    rating: float
    lower: float | None
    upper: float | None
    votes: int

    @property
    def margin(self) -> float | None:
        if self.lower is None or self.upper is None:
            return None
        return (self.upper - self.lower) / 2

    @property
    def display(self) -> str:
        if self.margin is None:
            return f"{self.rating:.0f}"
        return f"{self.rating:.0f} ± {self.margin:.0f}"


@dataclass(frozen=True)
class HeadToHead:
    wins: tuple[int, int]
    ties: int
    both_bad: int
    total: int


def _arena_selectors():
    try:
        return import_module("apps.arena.selectors")
    except ImportError:
        return None


def _read(row, *names, default=None):
    for name in names:
        if isinstance(row, dict) and name in row:
            return row[name]
        if hasattr(row, name):
            return getattr(row, name)
    return default


def ratings_for(models, category: str | None = None) -> dict[int, Rating]:
    """The latest rating of each model that has one, keyed by model id."""
    arena = _arena_selectors()
    latest = getattr(arena, "latest_ratings", None)
    if latest is None:
        return {}
    table = latest(category=category) or {}
    found = {}
    for model in models:
        row = table.get(model.id)
        value = _read(row, "rating") if row is not None else None
        if value is None:
            continue
        found[model.id] = Rating(
            rating=float(value),
            lower=_float(_read(row, "lower")),
            upper=_float(_read(row, "upper")),
            votes=int(_read(row, "votes", default=0) or 0),
        )
    return found


def head_to_head(first, second) -> HeadToHead | None:
    """The two models' direct arena record, or None before their first counted vote."""
    arena = _arena_selectors()
    record = getattr(arena, "head_to_head", None)
    if record is None:
        return None
    row = record(first, second)
    if not row:
        return None
    wins = (int(_read(row, "wins_a", default=0)), int(_read(row, "wins_b", default=0)))
    ties = int(_read(row, "ties", default=0))
    both_bad = int(_read(row, "both_bad", default=0))
    total = int(_read(row, "total", default=sum(wins) + ties + both_bad))
    return HeadToHead(wins=wins, ties=ties, both_bad=both_bad, total=total) if total else None


def _float(value) -> float | None:
    return None if value is None else float(value)
