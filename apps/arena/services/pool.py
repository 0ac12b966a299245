"""The blind pool (docs/arena.md): responses leave the arena for the public pages once they
have enough counted votes or are old enough."""

import logging

from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from apps.arena.models import Vote
from apps.arena.services.battles import battle_pool_invalidate
from apps.responses.models import Response
from apps.responses.services import responses_release, responses_release_due

logger = logging.getLogger(__name__)


def _counted_votes(seat: str):
    votes = (
        Vote.objects.filter(is_counted=True, **{f"battle__{seat}": OuterRef("pk")})
        .order_by()
        .values(f"battle__{seat}")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(votes, output_field=IntegerField()), 0)


def pool_release(*, votes: int | None = None) -> int:
    """Release every blind response whose counted votes reach its challenge's threshold
    (`votes`, default ARENA_BLIND_VOTES, unless the curator set one), then every one old
    enough; returns how many.
    Arena-only challenges keep theirs. Idempotent; the battle pool forgets what left it."""
    voted = (
        Response.objects.filter(public_from__isnull=True, challenge__arena_only=False)
        .annotate(
            counted=_counted_votes("response_a") + _counted_votes("response_b"),
            needed=Coalesce(
                "challenge__blind_votes",
                Value(settings.ARENA_BLIND_VOTES if votes is None else votes),
            ),
        )
        .filter(counted__gte=F("needed"))
        .values_list("pk", flat=True)
    )
    released = responses_release(ids=voted) + responses_release_due()
    if released:
        battle_pool_invalidate()
        logger.info("released %d responses from the blind pool", released)
    return released
