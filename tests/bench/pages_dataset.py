"""The large dataset bench_pages runs on: generate_dataset's catalog plus 1M arena votes.

Imported by tests/bench/bench_pages.py once Django is set up on the benchmark database.
Sizes come from BENCH_MODELS, BENCH_CHALLENGES, BENCH_RESPONSES, BENCH_VOTES, BENCH_ROUNDS.
"""

import os
import sys
import time
from collections.abc import Callable

import numpy as np
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from apps.arena.models import LeaderboardSnapshot, Vote
from apps.arena.services import leaderboard
from apps.catalog.models import AIModel
from apps.challenges.models import Challenge
from apps.responses.models import Response
from tests.bench.bench_ratings import _copy

MODELS = int(os.environ.get("BENCH_MODELS", "300"))
CHALLENGES = int(os.environ.get("BENCH_CHALLENGES", "200"))
RESPONSES = int(os.environ.get("BENCH_RESPONSES", "40000"))
VOTES = int(os.environ.get("BENCH_VOTES", "1000000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1000"))
SEED = 2026


def dataset_sizes() -> dict:
    return {
        "models": AIModel.objects.filter(slug__startswith="gen-").count(),
        "challenges": Challenge.objects.filter(slug__startswith="gen-").count(),
        "responses": Response.objects.filter(model__slug__startswith="gen-").count(),
        "votes": Vote.objects.count(),
        "snapshots": LeaderboardSnapshot.objects.count(),
    }


def dataset_is_current(sizes: dict) -> bool:
    return (
        sizes["models"] == MODELS
        and sizes["challenges"] == CHALLENGES
        and abs(sizes["responses"] - RESPONSES) <= max(50, RESPONSES // 50)
        and sizes["votes"] == VOTES
        and sizes["snapshots"] > 0
    )


def votes_load() -> None:
    """VOTES battles and votes between two responses to the same challenge, with outcomes
    drawn from hidden model strengths, written with COPY (bench_ratings' loader)."""
    rng = np.random.default_rng(SEED)
    rows = np.array(
        Response.objects.filter(model__slug__startswith="gen-")
        .order_by("challenge_id", "pk")
        .values_list("pk", "challenge_id", "model_id", "challenge__category_id"),
        dtype=np.int64,
    )
    challenge_ids, offsets, counts = np.unique(rows[:, 1], return_index=True, return_counts=True)
    keep = counts >= 2
    offsets, counts = offsets[keep], counts[keep]
    model_ids = np.unique(rows[:, 2])
    strength = dict(zip(model_ids.tolist(), rng.normal(0, 1, model_ids.size).tolist(), strict=True))

    which = rng.integers(0, offsets.size, VOTES)
    n = counts[which]
    x = rng.integers(0, n)
    y = (x + rng.integers(1, n)) % n
    ra, rb = rows[offsets[which] + x], rows[offsets[which] + y]
    sa = np.array([strength[m] for m in ra[:, 2].tolist()])
    sb = np.array([strength[m] for m in rb[:, 2].tolist()])
    u = rng.random(VOTES)
    p_a = 1 / (1 + np.exp(sb - sa))
    outcome = np.where(
        u < 0.15, "tie", np.where(u < 0.2, "both_bad", np.where(rng.random(VOTES) < p_a, "a", "b"))
    )
    stamp = "2026-01-01T00:00:00+00:00"
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('arena_battle', 'id'))")
        first = cursor.fetchone()[0]
    ids = range(first, first + VOTES)
    _copy(
        "arena_battle",
        ["id", "token", "session_key", "challenge_id", "response_a_id", "response_b_id"]
        + ["created_at", "expires_at"],
        (
            f"{bid}\tbench{bid}\ts{bid % 5000}\t{c}\t{a}\t{b}\t{stamp}\t{stamp}\n"
            for bid, c, a, b in zip(
                ids, ra[:, 1].tolist(), ra[:, 0].tolist(), rb[:, 0].tolist(), strict=True
            )
        ),
    )
    _copy(
        "arena_vote",
        ["battle_id", "outcome", "model_a_id", "model_b_id", "category_id", "session_key"]
        + ["ip_hash", "created_at", "is_counted", "challenge_id", "response_a_id"]
        + ["response_b_id", "excluded_rule", "excluded_reason", "is_verified"],
        (
            f"{bid}\t{o}\t{a}\t{b}\t{cat}\ts{bid % 5000}\th{bid % 3000}\t{stamp}\tt"
            f"\t{c}\t{x}\t{y}\t\t\tf\n"
            for bid, o, a, b, cat, c, x, y in zip(
                ids,
                outcome.tolist(),
                ra[:, 2].tolist(),
                rb[:, 2].tolist(),
                ra[:, 3].tolist(),
                ra[:, 1].tolist(),
                ra[:, 0].tolist(),
                rb[:, 0].tolist(),
                strict=True,
            )
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('arena_battle', 'id'), %s)", [first + VOTES]
        )


def dataset_build(*, recreate_database: Callable[[], None]) -> None:
    """Migrate, then reuse the dataset when its sizes match, or rebuild it from scratch."""
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    sizes = dataset_sizes()
    if dataset_is_current(sizes):
        print(f"reusing the dataset in {connection.settings_dict['NAME']}: {sizes}")
        return
    if any(sizes[k] for k in ("models", "challenges", "votes")):
        print(f"dataset has other sizes ({sizes}): rebuilding")
        connection.close()
        recreate_database()
        call_command("migrate", verbosity=0)
    coverage = min(1.0, RESPONSES / max(1, MODELS * CHALLENGES))
    call_command(
        "generate_dataset",
        models=MODELS,
        challenges=CHALLENGES,
        coverage=coverage,
        seed=SEED,
        stdout=sys.stdout,
    )
    step = time.perf_counter()
    votes_load()
    print(f"loaded {VOTES:,} battles and votes with COPY in {time.perf_counter() - step:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    step = time.perf_counter()
    leaderboard.leaderboard_recompute(rounds=ROUNDS)
    print(f"leaderboard recompute ({ROUNDS} rounds) in {time.perf_counter() - step:.1f} s")
    print(f"dataset built in {time.perf_counter() - started:.0f} s: {dataset_sizes()}")


def pick_urls() -> dict[str, str]:
    """A representative URL per public page, with real slugs: the busiest model, challenge
    and pair, so every page shows its largest realistic content."""
    model = (
        AIModel.objects.filter(slug__startswith="gen-", status=AIModel.Status.ACTIVE)
        .annotate(n=Count("responses"))
        .order_by("-n", "pk")
        .select_related("provider")
        .first()
    )
    challenge = (
        Challenge.objects.filter(slug__startswith="gen-")
        .annotate(n=Count("responses"))
        .order_by("-n", "pk")
        .first()
    )
    response = Response.objects.filter(model=model).select_related("challenge").first()
    other = (
        AIModel.objects.filter(slug__startswith="gen-", status=AIModel.Status.ACTIVE)
        .exclude(pk=model.pk)
        .filter(responses__challenge__responses__model=model)
        .annotate(shared=Count("responses"))
        .order_by("-shared", "pk")
        .first()
    )
    return {
        "home": "/",
        "models": "/models/",
        "models filtered": f"/models/?sort=price&creator={model.provider.slug}",
        "model": f"/models/{model.slug}/",
        "response": f"/models/{model.slug}/responses/{response.challenge.slug}/",
        "challenges": "/challenges/",
        "challenge": f"/challenges/{challenge.slug}/",
        "compare pair": f"/compare/{model.slug}-vs-{other.slug}/",
        "leaderboard": "/leaderboard/",
        "creators": "/creators/",
    }
