import logging

from celery import shared_task
from django.core.cache import cache

from apps.arena.services import battles, leaderboard, pool

logger = logging.getLogger(__name__)

LOCK_KEY = "arena:recompute-lock"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_leaderboard() -> int:
    """Write fresh leaderboard snapshots (and drop long-expired unvoted battles); returns how
    many snapshots. Safe to run twice; a run that starts while another is in progress does
    nothing (a cache lock, released at the end)."""
    if not cache.add(LOCK_KEY, "1", timeout=900):
        logger.info("leaderboard recompute skipped: another one is running")
        return 0
    try:
        pruned = battles.battles_prune()
        if pruned:
            logger.info("pruned %d expired unvoted battles", pruned)
        return len(leaderboard.leaderboard_recompute())
    finally:
        cache.delete(LOCK_KEY)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def release_responses() -> int:
    """Move responses with enough counted votes or days out of the blind pool onto the public
    pages; returns how many. Idempotent."""
    return pool.pool_release()
