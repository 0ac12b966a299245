"""Casting votes and excluding visitors whose votes should not count."""

import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.arena.models import Battle, Exclusion, Vote

VOTES_SINCE_RECOMPUTE_KEY = "arena:votes-since-recompute"
ALREADY_VOTED = "You already voted on this battle; a second vote counts nothing."


class VoteRefused(Exception):
    """A vote that counts nothing; the message is safe to show to the visitor."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _exclusion_for(voter: str, hashed_ip: str) -> Exclusion | None:
    return Exclusion.objects.filter(
        Q(kind=Exclusion.Kind.SESSION, value=voter) | Q(kind=Exclusion.Kind.IP, value=hashed_ip)
    ).first()


@transaction.atomic
def vote_cast(*, token: str, voter: str, outcome: str, ip_hash: str) -> Vote:
    """Record `voter`'s verdict on the battle `token`; raises VoteRefused and stores nothing
    for a made-up, foreign, expired or already-voted battle or a bad outcome. Votes of
    excluded visitors are stored but not counted. `ip_hash` is the visitor's salted address
    hash (rival.web.visitors); rate limits are the view's concern."""
    if outcome not in Vote.Outcome.values:
        raise VoteRefused("That is not one of the four choices.")
    battle = (
        Battle.objects.select_for_update()
        .select_related("response_a", "response_b", "challenge")
        .filter(token=token)
        .first()
    )
    if battle is None or not secrets.compare_digest(battle.session_key, voter or ""):
        raise VoteRefused(
            "This battle was not issued to you, so the vote was not counted. Here is a new one.",
            status=403,
        )
    if Vote.objects.filter(battle=battle).exists():
        raise VoteRefused(ALREADY_VOTED, 409)
    if battle.expires_at <= timezone.now():
        raise VoteRefused("This battle has expired, so the vote was not counted.", 410)
    exclusion = _exclusion_for(voter, ip_hash)
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                battle=battle,
                outcome=outcome,
                model_a_id=battle.response_a.model_id,
                model_b_id=battle.response_b.model_id,
                category_id=battle.challenge.category_id,
                session_key=voter,
                ip_hash=ip_hash,
                is_counted=exclusion is None,
                exclusion=exclusion,
            )
    except IntegrityError as exc:
        raise VoteRefused(ALREADY_VOTED, 409) from exc
    _count_towards_recompute()
    return vote


def _count_towards_recompute() -> None:
    cache.add(VOTES_SINCE_RECOMPUTE_KEY, 0, timeout=None)
    try:
        pending = cache.incr(VOTES_SINCE_RECOMPUTE_KEY)
    except ValueError:
        return
    if pending >= settings.ARENA_RECOMPUTE_AFTER_VOTES:
        cache.set(VOTES_SINCE_RECOMPUTE_KEY, 0, timeout=None)
        from apps.arena.tasks import recompute_leaderboard

        transaction.on_commit(recompute_leaderboard.delay)


@transaction.atomic
def exclusion_create(*, kind: str, value: str, reason: str, user=None) -> tuple[Exclusion, int]:
    """Stop counting every vote of a session or IP hash, past and future.

    Idempotent: excluding the same visitor again keeps the first exclusion. Returns the
    exclusion and how many votes it newly took out of the count.
    """
    exclusion, _ = Exclusion.objects.get_or_create(
        kind=kind, value=value, defaults={"reason": reason, "created_by": user}
    )
    field = "session_key" if kind == Exclusion.Kind.SESSION else "ip_hash"
    changed = Vote.objects.filter(**{field: value}, is_counted=True).update(
        is_counted=False, exclusion=exclusion
    )
    return exclusion, changed
