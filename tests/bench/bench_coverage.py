"""How often the leaderboard's 95% intervals cover the true ratings, by simulation.

Known strengths, uneven exposure (lognormal weights per model), ties likelier between close
models, and answers whose style differs by model (tests/bench/style_data.py). Two worlds:
voters who ignore style, and voters who prefer longer, more formatted answers. In each, many
independent leaderboards are simulated and fitted plainly (bootstrap intervals, as the board)
and with style control (sandwich intervals); coverage is the share of (model, leaderboard)
intervals that contain the truth. Pure numpy: no database. Sizes: BENCH_COVERAGE_RUNS,
BENCH_COVERAGE_MODELS, BENCH_COVERAGE_VOTES, BENCH_COVERAGE_ROUNDS.

Run with `make bench` or `uv run python -m tests.bench.bench_coverage`.
"""

import os
import time
from datetime import UTC, datetime

import numpy as np

from apps.arena import ratings
from tests.bench.style_data import simulate, true_ratings

RUNS = int(os.environ.get("BENCH_COVERAGE_RUNS", "40"))
MODELS = int(os.environ.get("BENCH_COVERAGE_MODELS", "30"))
VOTES = int(os.environ.get("BENCH_COVERAGE_VOTES", "20000"))
ROUNDS = int(os.environ.get("BENCH_COVERAGE_ROUNDS", "300"))


def coverage(gamma) -> tuple[float, float, float, float]:
    """(plain coverage, style coverage, plain median width, style median width)."""
    plain_hits, style_hits, plain_width, style_width = [], [], [], []
    for run in range(RUNS):
        sim = simulate(n_models=MODELS, n_votes=VOTES, gamma=gamma, seed=1000 + run)
        truth = true_ratings(sim.strength)
        plain = ratings.rate(sim.counts, rounds=ROUNDS, seed=run)
        style = ratings.style_fit(sim.style, initial=plain.theta)
        plain_hits.append((plain.lower <= truth) & (truth <= plain.upper))
        style_hits.append((style.lower <= truth) & (truth <= style.upper))
        plain_width.append(plain.upper - plain.lower)
        style_width.append(style.upper - style.lower)
    return (
        float(np.mean(plain_hits)),
        float(np.mean(style_hits)),
        float(np.median(plain_width)),
        float(np.median(style_width)),
    )


def main() -> None:
    started = time.perf_counter()
    print(
        f"{RUNS} simulated leaderboards per world: {MODELS} models, {VOTES:,} votes each, "
        f"uneven exposure, ties likelier between close models; plain fit with {ROUNDS} "
        f"bootstrap rounds, style-controlled fit with sandwich intervals"
    )
    for world, gamma in (
        ("voters ignore style", (0.0, 0.0, 0.0, 0.0)),
        ("voters prefer long, formatted answers", (0.4, 0.05, 0.15, 0.1)),
    ):
        plain, style, plain_width, style_width = coverage(gamma)
        print(
            f"  {world}: 95% intervals cover the truth — plain {plain:.1%} "
            f"(median width {plain_width:.0f} points), style-controlled {style:.1%} "
            f"(median width {style_width:.0f} points)"
        )
    print(
        f"measured {datetime.now(UTC):%Y-%m-%d} in {time.perf_counter() - started:.0f} s; "
        f"target: both near 95% when voters ignore style"
    )


if __name__ == "__main__":
    main()
