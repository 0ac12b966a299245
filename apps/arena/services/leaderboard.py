"""Recomputing the leaderboard: counted votes aggregated, rated, written as snapshots."""

import logging
import math
import time

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.arena import ratings
from apps.arena.models import LeaderboardRow, LeaderboardSnapshot
from apps.arena.services import tally
from apps.challenges.models import Category

logger = logging.getLogger(__name__)

SNAPSHOTS_KEPT_PER_CATEGORY = 20
WIN_MATRIX_SIZE = 20


def votes_aggregate() -> tally.Tally:
    """Counted votes per (category, model A, model B), read from the pair tally: one row per
    pair, however many votes (apps/arena/services/tally.py)."""
    return tally.tally_read()


def _snapshot_build(
    *,
    category: Category | None,
    counts: ratings.PairCounts,
    model_ids: np.ndarray,
    excluded: int,
    rounds: int,
    seed: int,
    now,
) -> LeaderboardSnapshot:
    started = time.perf_counter()
    result = ratings.rate(counts, rounds=rounds, seed=seed)
    rated = np.flatnonzero(result.rated)
    top = rated[np.argsort(-result.rating[rated], kind="stable")][:WIN_MATRIX_SIZE]
    matrix = ratings.win_rate_matrix(counts, top)
    snapshot = LeaderboardSnapshot.objects.create(
        category=category,
        computed_at=now,
        votes_used=counts.n_votes,
        excluded_votes=excluded,
        rounds=rounds,
        seed=seed,
        duration_ms=0,
        win_matrix={
            "models": [int(model_ids[i]) for i in top],
            "rates": [
                [None if math.isnan(x) else round(float(x), 4) for x in row] for row in matrix
            ],
        },
    )
    LeaderboardRow.objects.bulk_create(
        LeaderboardRow(
            snapshot=snapshot,
            model_id=int(model_ids[i]),
            rank=int(result.rank[i]),
            rating=float(result.rating[i]),
            lower=float(result.lower[i]),
            upper=float(result.upper[i]),
            votes=int(result.votes[i]),
            win_rate=float(result.win_rate[i]),
            is_provisional=bool(result.votes[i] < settings.ARENA_PROVISIONAL_VOTES),
        )
        for i in rated
    )
    snapshot.duration_ms = int((time.perf_counter() - started) * 1000)
    snapshot.save(update_fields=["duration_ms"])
    return snapshot


def leaderboard_recompute(
    *, rounds: int | None = None, seed: int = ratings.DEFAULT_SEED
) -> list[LeaderboardSnapshot]:
    """Write a snapshot overall and for every category from the counted votes.

    Safe to run twice: each run adds snapshots (pages read the newest) and prunes old ones.
    """
    rounds = settings.ARENA_BOOTSTRAP_ROUNDS if rounds is None else rounds
    votes = votes_aggregate()
    excluded = votes.uncounted
    model_ids = np.unique(np.concatenate([votes.model_a, votes.model_b]))
    index_a = np.searchsorted(model_ids, votes.model_a)
    index_b = np.searchsorted(model_ids, votes.model_b)

    def counts_where(mask) -> ratings.PairCounts:
        return ratings.PairCounts.from_rows(
            model_ids.size,
            index_a[mask],
            index_b[mask],
            votes.wins_a[mask],
            votes.wins_b[mask],
            votes.ties[mask],
        )

    now = timezone.now()
    snapshots = []
    with transaction.atomic():
        everything = np.ones(votes.category.size, dtype=bool)
        snapshots.append(
            _snapshot_build(
                category=None,
                counts=counts_where(everything),
                model_ids=model_ids,
                excluded=sum(excluded.values()),
                rounds=rounds,
                seed=seed,
                now=now,
            )
        )
        for category in Category.objects.all():
            snapshots.append(
                _snapshot_build(
                    category=category,
                    counts=counts_where(votes.category == category.pk),
                    model_ids=model_ids,
                    excluded=excluded.get(category.pk, 0),
                    rounds=rounds,
                    seed=seed,
                    now=now,
                )
            )
        _snapshots_prune()
    logger.info(
        "leaderboard recomputed: %d snapshots, %d votes", len(snapshots), snapshots[0].votes_used
    )
    return snapshots


def _snapshots_prune() -> None:
    for category_id in LeaderboardSnapshot.objects.values_list("category_id", flat=True).distinct():
        keep = LeaderboardSnapshot.objects.filter(category_id=category_id).values_list(
            "pk", flat=True
        )[:SNAPSHOTS_KEPT_PER_CATEGORY]
        LeaderboardSnapshot.objects.filter(category_id=category_id).exclude(
            pk__in=list(keep)
        ).delete()
