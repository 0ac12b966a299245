"""How the whole leaderboard recompute (overall and every category) grows with the votes.

Run with `make bench` (or `uv run python -m tests.bench.bench_tally`) against the PostgreSQL in
DATABASE_URL, in a throwaway database of its own. At 100k and 1M votes, real battles and
votes are written with COPY (the vote table's triggers fold them into the pair tally, and the
load time includes that); at 10M the pair tally is BUILT DIRECTLY from 10M simulated votes
(multinomial counts over the same pairs and outcome odds), because writing 10M vote rows
takes longer than the benchmark should. The recompute reads the tally either way, so its
time depends on the number of model pairs, not on the votes behind them.

Sizes: BENCH_TALLY_SIZES (comma-separated, default 100000,1000000,10000000); models and
bootstrap rounds as bench_ratings (BENCH_MODELS, BENCH_ROUNDS).
"""

import io
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from apps.arena.services import leaderboard, tally  # noqa: E402
from apps.catalog.models import AIModel  # noqa: E402
from apps.challenges.models import Category  # noqa: E402
from tests.bench import bench_ratings  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_TALLY_SIZES", "100000,1000000,10000000").split(",")]
# Beyond this many votes the tally is built directly instead of from vote rows.
MAX_VOTE_ROWS = int(os.environ.get("BENCH_TALLY_MAX_ROWS", "1000000"))
TARGETS = {1_000_000: 2.0, 10_000_000: 3.0}


def tally_build_directly(votes: int, strength: np.ndarray) -> None:
    """Replace the tally with the counts of `votes` simulated votes: pairs and categories
    drawn uniformly as bench_ratings draws them, outcomes from the same strengths."""
    rng = np.random.default_rng(bench_ratings.SEED + votes)
    model_ids = np.array(
        AIModel.objects.filter(slug__startswith="bench-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    categories = np.array(
        Category.objects.filter(slug__in=bench_ratings.CATEGORIES).values_list("pk", flat=True)
    )
    n = model_ids.size
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    off_diagonal = a != b
    a, b = a[off_diagonal], b[off_diagonal]
    pairs = np.repeat(np.arange(a.size)[None, :], categories.size, 0).ravel()
    cats = np.repeat(categories, a.size)
    per_row = rng.multinomial(votes, np.full(pairs.size, 1 / pairs.size))
    p_a = 1 / (1 + np.exp(strength[b[pairs]] - strength[a[pairs]]))
    ties = rng.binomial(per_row, 0.2)
    wins_a = rng.binomial(per_row - ties, p_a)
    wins_b = per_row - ties - wins_a
    buffer = io.StringIO()
    for row in zip(
        cats.tolist(),
        model_ids[a[pairs]].tolist(),
        model_ids[b[pairs]].tolist(),
        wins_a.tolist(),
        wins_b.tolist(),
        ties.tolist(),
        strict=True,
    ):
        buffer.write("\t".join(map(str, row)) + "\t0\n")
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tally.TALLY}")
        with cursor.cursor.copy(
            f"COPY {tally.TALLY} (category_id, model_a_id, model_b_id, wins_a, wins_b, ties,"
            " uncounted) FROM STDIN"
        ) as copy:
            copy.write(buffer.getvalue())
        cursor.execute(f"VACUUM ANALYZE {tally.TALLY}")


def measure(votes: int, how: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    rows = tally.tally_read()
    read = time.perf_counter() - started
    started = time.perf_counter()
    leaderboard.leaderboard_recompute(rounds=bench_ratings.ROUNDS)
    whole = time.perf_counter() - started
    pairs = rows.wins_a.size
    target = TARGETS.get(votes)
    verdict = (
        f" — target ≤ {target:g} s: {'met' if whole <= target else 'MISSED'}" if target else ""
    )
    print(
        f"{votes:>11,} votes ({how}): {pairs:,} pair rows; reading the tally {read * 1000:.0f} ms;"
        f" whole recompute {whole:.2f} s{verdict}"
    )
    return read, whole, pairs


def main() -> None:
    setup_test_environment()
    if connection.vendor != "postgresql":
        raise SystemExit("bench_tally needs PostgreSQL: set DATABASE_URL=postgres://…")
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"bench_tally_{old_name}"
    print(
        f"{bench_ratings.MODELS} models, {len(bench_ratings.CATEGORIES)} categories, "
        f"{bench_ratings.ROUNDS} bootstrap rounds per snapshot, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    strength = None
    for votes in SIZES:
        if votes <= MAX_VOTE_ROWS or strength is None:
            connection.close()  # the previous size's database is dropped and made anew
            connection.settings_dict["NAME"] = old_name
            connection.creation.create_test_db(verbosity=0, autoclobber=True)
            bench_ratings.VOTES = min(votes, MAX_VOTE_ROWS)
            strength = bench_ratings.populate()
        if votes <= MAX_VOTE_ROWS:
            measure(votes, "real vote rows, tallied by the triggers")
        else:
            started = time.perf_counter()
            tally_build_directly(votes, strength)
            print(
                f"pair tally BUILT DIRECTLY for {votes:,} simulated votes (not vote rows) in "
                f"{time.perf_counter() - started:.1f} s"
            )
            measure(votes, "tally built directly")
    connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
