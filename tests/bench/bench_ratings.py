"""Leaderboard recompute benchmark: 300 models, 1,000 bootstrap rounds, at 100k, 1M and 10M
votes.

Run with `make bench` (or `uv run python -m tests.bench.bench_ratings`) against the
PostgreSQL in DATABASE_URL: a throwaway test database is created, filled with COPY, and
dropped. First, without the database, one style-controlled fit (with its sandwich intervals)
on simulated votes of BENCH_VOTES, against a FastChat-style L-BFGS fit of the same model.
Then, at each size of BENCH_SIZES, the wall and CPU time of the whole `leaderboard_recompute`
(every snapshot the task writes, reading the vote tally), in a process that has started its
board processes and recomputed once already (on no votes, timed apart), as a worker has. Up
to BENCH_COPY_VOTES_UP_TO the votes themselves are loaded and the triggers tally them;
above, the tally rows are written straight. At BENCH_VOTES, the overall plain fit against a
FastChat-style fit (scipy L-BFGS per bootstrap round on the same data), timed on a subset of
rounds and extrapolated; the output says so. BENCH_COMPARE=0 skips both FastChat
comparisons. Other sizes: BENCH_MODELS, BENCH_ROUNDS, BENCH_LBFGS_ROUNDS.
"""

import io
import os
import time
from dataclasses import dataclass

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, F, Sum  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from apps.arena import boards, ratings  # noqa: E402
from apps.arena.services import leaderboard  # noqa: E402
from tests.bench.style_data import simulate, true_ratings  # noqa: E402

VOTES = int(os.environ.get("BENCH_VOTES", "1000000"))
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "100000,1000000,10000000").split(",")]
COPY_VOTES_UP_TO = int(os.environ.get("BENCH_COPY_VOTES_UP_TO", "100000"))
COMPARE = os.environ.get("BENCH_COMPARE", "1") == "1"
MODELS = int(os.environ.get("BENCH_MODELS", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1000"))
LBFGS_ROUNDS = int(os.environ.get("BENCH_LBFGS_ROUNDS", "20"))
CATEGORIES = ["coding", "writing", "web-design", "svg", "reasoning"]
SEED = 2026


def _copy(table: str, columns: list[str], lines) -> None:
    buffer = io.StringIO()
    buffer.writelines(lines)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        copy.write(buffer.getvalue())


@dataclass(frozen=True)
class Catalog:
    """The benchmark's models, one challenge per category, and every model's answer to each
    (response_id[challenge index, model index])."""

    model_id: np.ndarray
    category_id: np.ndarray
    challenge_id: np.ndarray
    response_id: np.ndarray


def catalog_create() -> Catalog:
    from apps.catalog.models import AIModel, Provider
    from apps.challenges.models import Category, Challenge
    from apps.responses.models import Response

    provider = Provider.objects.create(slug="bench", name="Bench")
    models = AIModel.objects.bulk_create(
        AIModel(slug=f"bench-{i}", name=f"Bench: Model {i}", provider=provider)
        for i in range(MODELS)
    )
    categories = Category.objects.bulk_create(Category(slug=s, name=s) for s in CATEGORIES)
    challenges = Challenge.objects.bulk_create(
        Challenge(slug=f"c-{c.slug}", title=c.name, prompt="p", category=c, is_published=True)
        for c in categories
    )
    now = timezone.now()
    rng = np.random.default_rng(SEED)
    # Answers of different lengths and markup, so style control has features to fit.
    responses = Response.objects.bulk_create(
        Response(
            model=m,
            challenge=c,
            prompt="p",
            output_type="text",
            content="# Title\n" * int(rng.integers(0, 3))
            + "- **item** words\n" * int(rng.integers(0, 8))
            + "word " * int(rng.integers(20, 400)),
            collected_at=now,
        )
        for c in challenges
        for m in models
    )
    return Catalog(
        model_id=np.array([m.pk for m in models]),
        category_id=np.array([c.pk for c in categories]),
        challenge_id=np.array([c.pk for c in challenges]),
        response_id=np.array([r.pk for r in responses]).reshape(len(challenges), MODELS),
    )


@dataclass(frozen=True)
class DrawnVotes:
    challenge: np.ndarray  # challenge index
    a: np.ndarray  # model index of side A
    b: np.ndarray
    outcome: np.ndarray  # 0 a, 1 b, 2 tie, 3 both bad
    verified: np.ndarray


def votes_draw(n: int, strength: np.ndarray, rng) -> DrawnVotes:
    """`n` votes between uniformly drawn pairs with outcomes from known strengths; a tenth
    of them cast by verified voters."""
    a = rng.integers(0, MODELS, n)
    b = (a + rng.integers(1, MODELS, n)) % MODELS
    which = rng.integers(0, len(CATEGORIES), n)
    u = rng.random(n)
    p_a = 1 / (1 + np.exp(strength[b] - strength[a]))
    outcome = np.where(u < 0.15, 2, np.where(u < 0.2, 3, np.where(rng.random(n) < p_a, 0, 1)))
    return DrawnVotes(which, a, b, outcome, rng.random(n) < 0.1)


def votes_copy(catalog: Catalog, drawn: DrawnVotes) -> None:
    """Battles and votes written with COPY; the tally triggers count them as they go in."""
    names = np.array(["a", "b", "tie", "both_bad"])
    now = timezone.now()
    stamp, expires = now.isoformat(), (now + timezone.timedelta(hours=1)).isoformat()
    n = drawn.a.size
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('arena_battle', 'id'))")
        first_battle = cursor.fetchone()[0]
    battle_ids = np.arange(first_battle, first_battle + n)
    ra = catalog.response_id[drawn.challenge, drawn.a]
    rb = catalog.response_id[drawn.challenge, drawn.b]
    challenge = catalog.challenge_id[drawn.challenge]
    _copy(
        "arena_battle",
        ["id", "token", "session_key", "challenge_id", "response_a_id", "response_b_id"]
        + ["created_at", "expires_at"],
        (
            f"{bid}\tb{bid}\ts{i % 5000}\t{c}\t{x}\t{y}\t{stamp}\t{expires}\n"
            for i, (bid, c, x, y) in enumerate(
                zip(battle_ids.tolist(), challenge.tolist(), ra.tolist(), rb.tolist(), strict=True)
            )
        ),
    )
    _copy(
        "arena_vote",
        ["battle_id", "outcome", "model_a_id", "model_b_id", "category_id", "challenge_id"]
        + ["response_a_id", "response_b_id", "session_key", "ip_hash", "created_at"]
        + ["is_counted", "is_verified", "excluded_rule", "excluded_reason"],
        (
            f"{bid}\t{o}\t{ma}\t{mb}\t{cat}\t{c}\t{x}\t{y}\ts{i % 5000}\th{i % 3000}\t{stamp}"
            f"\tt\t{'t' if v else 'f'}\t\t\n"
            for i, (bid, o, ma, mb, cat, c, x, y, v) in enumerate(
                zip(
                    battle_ids.tolist(),
                    names[drawn.outcome].tolist(),
                    catalog.model_id[drawn.a].tolist(),
                    catalog.model_id[drawn.b].tolist(),
                    catalog.category_id[drawn.challenge].tolist(),
                    challenge.tolist(),
                    ra.tolist(),
                    rb.tolist(),
                    drawn.verified.tolist(),
                    strict=True,
                )
            )
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('arena_battle', 'id'), %s)", [int(battle_ids[-1])]
        )


def tally_copy(catalog: Catalog, drawn: DrawnVotes) -> None:
    """The votes' tally rows written straight with COPY, without the votes: what the
    triggers would hold after those votes, at a fraction of the time for 10M votes."""
    key = ((drawn.challenge * MODELS + drawn.a) * MODELS + drawn.b) * 2 + drawn.verified
    keys, inverse = np.unique(key, return_inverse=True)
    counts = np.zeros((keys.size, 4), dtype=np.int64)
    np.add.at(counts, (inverse, drawn.outcome), 1)
    verified = keys % 2
    b = keys // 2 % MODELS
    a = keys // 2 // MODELS % MODELS
    which = keys // 2 // MODELS // MODELS
    _copy(
        "arena_votetally",
        ["response_a_id", "response_b_id", "category_id", "is_verified", "is_counted"]
        + ["challenge_id", "model_a_id", "model_b_id", "wins_a", "wins_b", "ties", "both_bad"],
        (
            f"{x}\t{y}\t{cat}\t{'t' if v else 'f'}\tt\t{c}\t{ma}\t{mb}\t{wa}\t{wb}\t{t}\t{z}\n"
            for x, y, cat, v, c, ma, mb, (wa, wb, t, z) in zip(
                catalog.response_id[which, a].tolist(),
                catalog.response_id[which, b].tolist(),
                catalog.category_id[which].tolist(),
                verified.tolist(),
                catalog.challenge_id[which].tolist(),
                catalog.model_id[a].tolist(),
                catalog.model_id[b].tolist(),
                counts.tolist(),
                strict=True,
            )
        ),
    )


def votes_clear() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE arena_vote, arena_livebattle, arena_battle, arena_votetally")


def fastchat_style(counts: ratings.PairCounts, rounds: int, seed: int) -> tuple[float, float]:
    """FastChat's approach: multinomial resampling of the unique (pair, outcome) rows with
    numpy, then one scipy L-BFGS-B fit of the Bradley–Terry loss per round. Returns wall and
    CPU seconds."""
    p = counts.first.size
    matchups = np.concatenate([np.stack([counts.first, counts.second], 1)] * 3)
    outcomes = np.concatenate([np.ones(p), np.zeros(p), np.full(p, 0.5)])
    weights = np.concatenate([counts.wins_first, counts.wins_second, counts.ties])
    keep = weights > 0
    matchups, outcomes, weights = matchups[keep], outcomes[keep], weights[keep]
    rng = np.random.default_rng(seed)

    def loss_and_grad(theta, weights):
        diff = theta[matchups[:, 0]] - theta[matchups[:, 1]]
        prob = 1 / (1 + np.exp(-diff))
        loss = -(weights * (outcomes * np.log(prob) + (1 - outcomes) * np.log1p(-prob))).sum()
        g = weights * (prob - outcomes)
        grad = np.bincount(matchups[:, 0], g, counts.n_models) - np.bincount(
            matchups[:, 1], g, counts.n_models
        )
        return loss / weights.sum(), grad / weights.sum()

    started, cpu_started = time.perf_counter(), time.process_time() + board_processes_cpu()
    resampled = rng.multinomial(int(weights.sum()), weights / weights.sum(), size=rounds)
    for r in range(rounds):
        minimize(
            loss_and_grad,
            np.zeros(counts.n_models),
            args=(resampled[r],),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 100, "gtol": 1e-6},
        )
    return time.perf_counter() - started, time.process_time() - cpu_started


def fastchat_style_control(votes: ratings.StyleVotes) -> tuple[np.ndarray, float, float]:
    """FastChat's style-control approach on the same rows: the contextual Bradley–Terry loss
    over (θ, γ) minimised by scipy L-BFGS-B, one row per (answer pair, outcome) weighted by
    its count, features scaled as ours. Returns (ratings, wall, CPU seconds)."""
    m = votes.n_models
    started, cpu_started = time.perf_counter(), time.process_time() + board_processes_cpu()
    features = np.asarray(votes.features, dtype=np.float64)
    weight = votes.totals
    # Scaled over votes seen from both sides, as ours (FastChat also centres them on the
    # sides as shown, which would let the side a vote was cast on move the fit).
    sd = np.sqrt(weight @ features**2 / weight.sum())
    x = np.concatenate([features / sd] * 3)
    first = np.concatenate([votes.first] * 3)
    second = np.concatenate([votes.second] * 3)
    rows = votes.first.size
    outcome = np.concatenate([np.ones(rows), np.zeros(rows), np.full(rows, 0.5)])
    weights = np.concatenate([votes.wins_first, votes.wins_second, votes.ties])
    keep = weights > 0
    x, first, second, outcome, weights = (
        x[keep],
        first[keep],
        second[keep],
        outcome[keep],
        weights[keep],
    )
    total = weights.sum()

    def loss_and_grad(params):
        theta, gamma = params[:m], params[m:]
        eta = theta[first] - theta[second] + x @ gamma
        prob = 1 / (1 + np.exp(-eta))
        loss = -(weights * (outcome * np.log(prob) + (1 - outcome) * np.log1p(-prob))).sum()
        g = weights * (prob - outcome)
        grad_theta = np.bincount(first, g, m) - np.bincount(second, g, m)
        return loss / total, np.concatenate([grad_theta, x.T @ g]) / total

    result = minimize(
        loss_and_grad,
        np.zeros(m + x.shape[1]),
        jac=True,
        method="L-BFGS-B",
        # Tight enough to agree with our Newton fit to about a hundredth of a point.
        options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15},
    )
    theta = result.x[:m]
    rating = ratings.CENTRE + ratings.SCALE * (theta - theta.mean())
    return rating, time.perf_counter() - started, time.process_time() - cpu_started


def style_control_benchmark() -> None:
    """One style-controlled fit with its intervals at VOTES votes and MODELS models, against
    a FastChat-style L-BFGS fit of the same contextual model on the same rows."""
    sim = simulate(n_models=MODELS, n_votes=VOTES, seed=SEED)
    rows = sim.style.first.size
    print(f"style control: {VOTES:,} votes, {MODELS} models, {rows:,} rows (pairs of answers)")
    plain = ratings.fit(sim.counts)
    started, cpu_started = time.perf_counter(), time.process_time() + board_processes_cpu()
    fitted = ratings.style_fit(sim.style, initial=plain)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"  Newton fit + sandwich 95% intervals: {wall:.2f} s wall, {cpu:.2f} s CPU, "
        f"{fitted.iterations} iterations — budget fit <= 1 s, with intervals <= 5 s: "
        f"{'met' if cpu <= 1 else 'MISSED'} (judged on CPU time)"
    )
    truth = true_ratings(sim.strength)
    covered = np.mean((fitted.lower <= truth) & (truth <= fitted.upper))
    print(
        f"  style coefficients {np.round(fitted.coefficient, 3).tolist()} "
        f"(true {sim.gamma.tolist()}); intervals cover {covered:.1%} of true ratings"
    )
    reference, lbfgs_wall, lbfgs_cpu = fastchat_style_control(sim.style)
    print(
        f"  FastChat-style L-BFGS contextual fit (no intervals): {lbfgs_wall:.2f} s wall, "
        f"{lbfgs_cpu:.2f} s CPU; largest rating difference from ours "
        f"{np.abs(reference - fitted.rating).max():.3f} points"
    )
    print(
        f"  speed-up: {lbfgs_cpu / cpu:.1f}x in CPU time, {lbfgs_wall / wall:.1f}x wall "
        f"(ours includes the intervals, L-BFGS does not)"
    )


def overall_against_fastchat(strength: np.ndarray) -> None:
    """The overall plain fit with its bootstrap, against FastChat's L-BFGS per round."""
    started, cpu_started = time.perf_counter(), time.process_time() + board_processes_cpu()
    votes = leaderboard.votes_aggregate()
    aggregation = time.perf_counter() - started
    model_ids = np.unique(np.concatenate([votes.model_a, votes.model_b]))
    counts = ratings.PairCounts.from_rows(
        model_ids.size,
        np.searchsorted(model_ids, votes.model_a),
        np.searchsorted(model_ids, votes.model_b),
        votes.wins_a,
        votes.wins_b,
        votes.ties,
    )
    result = ratings.rate(counts, rounds=ROUNDS)
    overall = time.perf_counter() - started
    cpu = (
        time.process_time() + board_processes_cpu() - cpu_started
    )  # PostgreSQL's share runs in its own process
    print(
        f"overall plain fit: {overall:.2f} s wall — tally read {aggregation:.2f} s, "
        f"fit + {ROUNDS} bootstrap refits {overall - aggregation:.2f} s; CPU {cpu:.2f} s"
    )
    order = np.argsort(model_ids)
    print(
        f"  Spearman with the true strengths "
        f"{spearmanr(result.rating[order], strength).statistic:.4f}; "
        f"median 95% interval width {np.median(result.upper - result.lower):.1f} points"
    )
    lbfgs, lbfgs_cpu = fastchat_style(counts, LBFGS_ROUNDS, seed=1)
    extrapolated = lbfgs / LBFGS_ROUNDS * ROUNDS + aggregation
    extrapolated_cpu = lbfgs_cpu / LBFGS_ROUNDS * ROUNDS
    print(
        f"FastChat-style (L-BFGS per round): {lbfgs / LBFGS_ROUNDS * 1000:.0f} ms per round, "
        f"timed on {LBFGS_ROUNDS} rounds and EXTRAPOLATED to {ROUNDS}: {extrapolated:.1f} s "
        f"wall with the same tally read ({extrapolated_cpu:.1f} s CPU without it)"
    )
    # Both sides run single-process here, so CPU time compares them fairly even when the
    # machine is shared; wall time depends on what else runs at each moment.
    print(
        f"speed-up over L-BFGS per round: {extrapolated_cpu / cpu:.1f}x in CPU time, "
        f"{extrapolated / overall:.1f}x wall — target >= 10x: "
        f"{'met' if extrapolated_cpu / cpu >= 10 else 'MISSED'} (judged on CPU time)"
    )


def board_processes_cpu() -> float:
    """CPU seconds used so far by the board processes (they outlive each recompute, so the
    usual accounting of children does not see them)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in boards.processes_pids():
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def recompute_at(n: int, catalog: Catalog, strength: np.ndarray) -> None:
    """Load `n` votes (through the triggers up to COPY_VOTES_UP_TO, straight into the tally
    above) and time the whole leaderboard_recompute."""
    from apps.arena.models import VoteTally

    votes_clear()
    drawn = votes_draw(n, strength, np.random.default_rng(SEED + n))
    started = time.perf_counter()
    if n <= COPY_VOTES_UP_TO:
        votes_copy(catalog, drawn)
        how = "votes with COPY, tallied by the triggers"
    else:
        tally_copy(catalog, drawn)
        how = "tally rows with COPY (no vote rows)"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE arena_votetally")
    tallied = VoteTally.objects.aggregate(
        n=Sum(F("wins_a") + F("wins_b") + F("ties") + F("both_bad")), rows=Count("pk")
    )
    assert tallied["n"] == n, tallied
    print(
        f"{n:,} votes: loaded {how} in {time.perf_counter() - started:.1f} s; "
        f"{tallied['rows']:,} tally rows"
    )
    started, cpu_started = time.perf_counter(), time.process_time() + board_processes_cpu()
    votes = leaderboard.votes_aggregate()
    read = time.perf_counter() - started
    snapshots = leaderboard.leaderboard_recompute(rounds=ROUNDS)
    wall = time.perf_counter() - started - read  # the recompute reads the tally again
    cpu = time.process_time() + board_processes_cpu() - cpu_started
    target = 2 if n <= 1_000_000 else 3
    print(
        f"  whole recompute ({len(snapshots)} snapshots: overall, {len(snapshots) - 2} "
        f"categories, verified voters; style control, {ROUNDS}-round bootstrap intervals, "
        f"Rival Score, tiers, flip counts): {wall:.2f} s wall, {cpu - read:.2f} s CPU (our "
        f"process and its board processes); tally read {read:.2f} s of it "
        f"({votes.wins_a.size:,} rows)"
        + (f" — target <= {target} s: {'met' if wall <= target else 'MISSED'}" if n >= 1e6 else "")
    )
    print(
        "  per snapshot (ms computing and writing it): "
        + ", ".join(str(s.duration_ms) for s in snapshots)
        + f"; load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    if COMPARE:
        style_control_benchmark()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        raise SystemExit("bench_ratings needs PostgreSQL: set DATABASE_URL=postgres://…")
    # Its own database, so a benchmark never collides with a test run on the same server.
    connection.settings_dict["TEST"]["NAME"] = f"bench_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        if settings.ARENA_BOARD_PROCESSES:
            # Started once per worker process, then reused by every recompute: the first
            # recompute after a worker starts pays this, the ones measured here do not.
            started = time.perf_counter()
            boards.processes_warm(settings.ARENA_BOARD_PROCESSES)
            print(
                f"{settings.ARENA_BOARD_PROCESSES} board processes started in "
                f"{time.perf_counter() - started:.1f} s (once per worker process)"
            )
        catalog = catalog_create()
        # A worker recomputes every few minutes: what its first recompute pays once (imports
        # on first use, such as the cache client's) is timed here and kept out of the sizes.
        started = time.perf_counter()
        leaderboard.leaderboard_recompute(rounds=ROUNDS)
        print(
            f"first recompute in this process (no votes yet): "
            f"{time.perf_counter() - started:.2f} s (once per worker process)"
        )
        strength = np.random.default_rng(SEED).normal(0, 1, MODELS)
        print(
            f"{MODELS} models, {len(CATEGORIES)} categories, {ROUNDS} bootstrap rounds, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        for n in SIZES:
            recompute_at(n, catalog, strength)
            if COMPARE and n == VOTES:
                overall_against_fastchat(strength)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
