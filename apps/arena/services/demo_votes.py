"""Simulated votes for a fresh site: a clearly marked set, easy to remove.

They are cast on the public answers of listed models (they stand for votes cast in the past;
the blind pool is left to real voters), by the `DEMO_VOTER` session, with
outcomes drawn from a hidden per-model strength (a stable hash of the slug, nudged by price
so the pictures look like real ones), and they count like real votes while they exist.
"""

import hashlib
import math
import random

from django.db import transaction
from django.utils import timezone

from apps.arena.models import DEMO_VOTER, Battle, Vote
from apps.arena.services.leaderboard import leaderboard_recompute
from apps.catalog.models import AIModel
from apps.responses.models import Response

# Enough for most models to pass ARENA_MIN_VOTES (300) and get a rank and tier.
PAIRS_PER_CHALLENGE = 100
VOTES_PER_PAIR = 4
TIE_SHARE = 0.12


def _strength(model) -> float:
    """A hidden skill on the rating scale's log-odds, stable for a model."""
    noise = int(hashlib.sha256(model.slug.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    price = float(model.price_output_per_mtok or 0)
    return (noise - 0.5) * 2.0 + 0.5 * math.log10(price + 0.1)


@transaction.atomic
def demo_votes_seed(*, seed: int = 7, recompute: bool = True) -> int:
    """Cast simulated votes unless some already exist; returns how many were cast.

    Idempotent: a second call finds the marked votes and casts none. Recomputes the
    leaderboard when it cast any (and `recompute` is true).
    """
    if Vote.objects.filter(session_key=DEMO_VOTER).exists():
        return 0
    rng = random.Random(seed)
    by_challenge: dict[int, list] = {}
    for response in (
        Response.objects.visible()
        .exclude(model__status=AIModel.Status.RETIRED)
        .select_related("model", "challenge")
        .only(
            "id",
            "challenge_id",
            "challenge__category_id",
            "model__slug",
            "model__price_output_per_mtok",
        )
        .order_by("challenge_id", "id")
    ):
        by_challenge.setdefault(response.challenge_id, []).append(response)
    now = timezone.now()
    battles, outcomes = [], []
    for responses in by_challenge.values():
        pairs = [(a, b) for i, a in enumerate(responses) for b in responses[i + 1 :]]
        for a, b in rng.sample(pairs, min(len(pairs), PAIRS_PER_CHALLENGE)):
            p_a = 1 / (1 + math.exp(_strength(b.model) - _strength(a.model)))
            for _ in range(VOTES_PER_PAIR):
                if rng.random() < TIE_SHARE:
                    outcome = Vote.Outcome.TIE
                else:
                    outcome = Vote.Outcome.A if rng.random() < p_a else Vote.Outcome.B
                battles.append(
                    Battle(
                        session_key=DEMO_VOTER,
                        challenge_id=a.challenge_id,
                        response_a=a,
                        response_b=b,
                        expires_at=now,
                    )
                )
                outcomes.append((outcome, a, b))
    Battle.objects.bulk_create(battles, batch_size=500)
    Vote.objects.bulk_create(
        [
            Vote(
                battle=battle,
                outcome=outcome,
                model_a_id=a.model_id,
                model_b_id=b.model_id,
                category_id=a.challenge.category_id,
                challenge_id=a.challenge_id,
                response_a_id=a.pk,
                response_b_id=b.pk,
                session_key=DEMO_VOTER,
                ip_hash=DEMO_VOTER,
            )
            for battle, (outcome, a, b) in zip(battles, outcomes, strict=True)
        ],
        batch_size=500,
    )
    if battles and recompute:
        transaction.on_commit(leaderboard_recompute)
    return len(battles)


@transaction.atomic
def demo_votes_remove(*, recompute: bool = True) -> int:
    """Delete every simulated vote (and its battle); returns how many votes went. Recomputes
    the leaderboard when any did, so the pages stop showing them."""
    removed = Vote.objects.filter(session_key=DEMO_VOTER).count()
    Battle.objects.filter(session_key=DEMO_VOTER).delete()
    if removed and recompute:
        transaction.on_commit(leaderboard_recompute)
    return removed
