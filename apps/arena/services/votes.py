"""Casting votes and excluding visitors whose votes should not count."""

import secrets
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.arena.models import Battle, Exclusion, ExclusionRule, ExclusionSettings, Vote
from apps.arena.selectors import latest_ratings
from apps.arena.services import exclusions

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


def _public_reason(exclusion: Exclusion) -> str:
    """What the public log says: a curator's own note may name people, so it shows only the
    rule; automatic rules wrote their reason for the public."""
    if exclusion.rule == ExclusionRule.MANUAL:
        return ExclusionRule.MANUAL.label
    return exclusion.reason[:200]


@transaction.atomic
def vote_cast(
    *,
    token: str,
    voter: str,
    outcome: str,
    ip_hash: str,
    session_started: datetime | None = None,
    user=None,
    ratings: Mapping | None = None,
) -> Vote:
    """Record `voter`'s verdict on the battle `token`; raises VoteRefused and stores nothing
    for a made-up, foreign, expired or already-voted battle or a bad outcome.

    Every vote is stored with how long after the battle appeared it came, the session's age
    (from `session_started`) and its earlier votes. Votes of excluded visitors, and votes
    the exclusion rules (services.exclusions) catch, are stored but not counted, with the
    rule and a public reason; a session caught favouring one model loses all its votes.
    `ip_hash` is the visitor's salted address-group hash (rival.web.visitors); rate limits
    are the view's concern. The visitor's page never tells whether the vote counted. A
    signed-in `user` (who verified their address to sign in) makes it a verified voter's
    vote. The one-sided rule weighs outcomes by `ratings`, the latest overall ratings
    (selectors.latest_ratings, read here unless the caller has them already). The returned
    vote's battle has its challenge, category, responses, models and creators loaded, for
    the reveal."""
    if outcome not in Vote.Outcome.values:
        raise VoteRefused("That is not one of the four choices.")
    # One query: the battle, locked (a concurrent second vote waits here; if it then misses
    # the first, the battle's unique vote refuses it below), the vote it may already have,
    # and everything the rules and the reveal read.
    battle = (
        Battle.objects.select_for_update(of=("self",))
        .select_related(
            "vote",
            "challenge__category",
            "response_a__model__provider",
            "response_b__model__provider",
        )
        .filter(token=token)
        .first()
    )
    if battle is None or not secrets.compare_digest(battle.session_key, voter or ""):
        raise VoteRefused(
            "This battle was not issued to you, so the vote was not counted. Here is a new one.",
            status=403,
        )
    if hasattr(battle, "vote"):
        raise VoteRefused(ALREADY_VOTED, 409)
    now = timezone.now()
    if battle.expires_at <= now:
        raise VoteRefused("This battle has expired, so the vote was not counted.", 410)
    decision_ms = max(0, int((now - battle.created_at).total_seconds() * 1000))
    rules = ExclusionSettings.current()
    exclusion = _exclusion_for(voter, ip_hash)
    rule, reason = "", ""
    if exclusion is not None:
        rule, reason = exclusion.rule, _public_reason(exclusion)
    elif found := exclusions.too_fast(battle, decision_ms, rules):
        rule, reason = ExclusionRule.TOO_FAST, found
    elif found := exclusions.ip_daily(ip_hash, now, rules):
        rule, reason = ExclusionRule.IP_DAILY, found
    try:
        # No savepoint: an IntegrityError (a concurrent second vote) leaves this function, and
        # rolls its transaction back, as a refusal; no query runs in between.
        vote = Vote.objects.create(
            battle=battle,
            outcome=outcome,
            model_a_id=battle.response_a.model_id,
            model_b_id=battle.response_b.model_id,
            category_id=battle.challenge.category_id,
            challenge_id=battle.challenge_id,
            response_a_id=battle.response_a_id,
            response_b_id=battle.response_b_id,
            session_key=voter,
            ip_hash=ip_hash,
            is_counted=not rule,
            exclusion=exclusion,
            user=user,
            is_verified=user is not None,
            excluded_rule=rule,
            excluded_reason=reason,
            decision_ms=decision_ms,
            session_age_s=(
                max(0, int((now - session_started).total_seconds())) if session_started else None
            ),
            session_votes_before=Vote.objects.filter(session_key=voter).count(),
        )
    except IntegrityError as exc:
        raise VoteRefused(ALREADY_VOTED, 409) from exc
    if exclusion is None:
        found = exclusions.one_sided_found(
            voter=voter,
            ip_hash=ip_hash,
            model_ids=(vote.model_a_id, vote.model_b_id),
            ratings=latest_ratings() if ratings is None else ratings,
            now=now,
            rules=rules,
        )
        if found:
            kind, value, reason = found
            exclusion_create(kind=kind, value=value, reason=reason, rule=ExclusionRule.ONE_SIDED)
            vote.refresh_from_db(fields=_EXCLUSION_FIELDS)
    _count_towards_recompute()
    return vote


# What exclusion_create changes on a vote; refreshing only these keeps `vote.battle` loaded.
_EXCLUSION_FIELDS = ["is_counted", "exclusion", "excluded_rule", "excluded_reason"]


def _count_towards_recompute() -> None:
    try:
        pending = cache.incr(VOTES_SINCE_RECOMPUTE_KEY)
    except ValueError:  # no count yet (the first vote, or evicted): start one
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
def exclusion_create(
    *, kind: str, value: str, reason: str, user=None, rule: str = ExclusionRule.MANUAL
) -> tuple[Exclusion, int]:
    """Stop counting every vote of a session or IP hash, past and future.

    Idempotent: excluding the same visitor again keeps the first exclusion. Returns the
    exclusion and how many votes it newly took out of the count. Votes are never deleted.
    """
    exclusion, _ = Exclusion.objects.get_or_create(
        kind=kind, value=value, defaults={"reason": reason, "created_by": user, "rule": rule}
    )
    field = "session_key" if kind == Exclusion.Kind.SESSION else "ip_hash"
    changed = Vote.objects.filter(**{field: value}, is_counted=True).update(
        is_counted=False,
        exclusion=exclusion,
        excluded_rule=exclusion.rule,
        excluded_reason=_public_reason(exclusion),
    )
    return exclusion, changed
