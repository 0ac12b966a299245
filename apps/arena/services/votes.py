"""Casting votes and excluding visitors whose votes should not count."""

import functools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.arena.models import Battle, Exclusion, ExclusionRule, ExclusionSettings, Vote
from apps.arena.selectors import latest_ratings
from apps.arena.services import exclusions
from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Challenge
from apps.responses.models import Response
from rival.sqlrows import Columns, insert, table

VOTES_SINCE_RECOMPUTE_KEY = "arena:votes-since-recompute"
ALREADY_VOTED = "You already voted on this battle; a second vote counts nothing."


class VoteRefused(Exception):
    """A vote that counts nothing; the message is safe to show to the visitor."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


# What vote_cast reads of the battle, its challenge and answers, and of the two models and
# creators the reveal names; with the rules' settings, the visitor's exclusion, the network's
# votes of the day (when that rule is on) and the session's votes: one statement.
_BATTLE = (
    "id",
    "session_key",
    "created_at",
    "expires_at",
    "challenge_id",
    "response_a_id",
    "response_b_id",
)
_CHALLENGE = ("id", "category_id", "slug", "origin")
_RESPONSE = ("id", "model_id", "challenge_id", "output_type")
_MODEL = ("id", "slug", "name", "provider_id")
_CREATOR = ("id", "slug", "name")


@functools.cache
def _read() -> dict[str, Columns]:
    """The columns the vote reads, per table alias."""
    return {
        "b": Columns.of(Battle, "b", _BATTLE),
        "c": Columns.of(Challenge, "c", _CHALLENGE),
        "ra": Columns.of(Response, "ra", _RESPONSE),
        "rb": Columns.of(Response, "rb", _RESPONSE),
        "m": Columns.of(AIModel, "m", _MODEL),
        "ma": Columns.of(AIModel, "ma", _MODEL),
        "mb": Columns.of(AIModel, "mb", _MODEL),
        # The creators' id, slug and name, read through the models' subqueries.
        "creator": Columns.of(Provider, "p", _CREATOR),
        "s": Columns.of(ExclusionSettings, "s"),
    }


def _model_and_creator(vendor: str, alias: str, answer: str) -> str:
    """The join of `answer`'s model and creator as `alias`. On PostgreSQL a fenced (OFFSET 0)
    lateral subquery, planned on its own: as four more tables of the one join, PostgreSQL
    spent a millisecond choosing their order on every vote."""
    read = (
        f"SELECT {_read()['m'].select}, p.slug AS creator_slug,"
        f" p.name AS creator_name FROM {table(AIModel)} m"
        f" JOIN {table(Provider)} p ON p.id = m.provider_id"
    )
    if vendor == "postgresql":
        return f" CROSS JOIN LATERAL ({read} WHERE m.id = {answer}.model_id OFFSET 0) {alias}"
    return f" JOIN ({read}) {alias} ON {alias}.id = {answer}.model_id"


@functools.cache
def _battle_sql(vendor: str, with_network: bool) -> str:
    texts = ", ".join(f"'{t}'" for t in exclusions.READ_OUTPUT_TYPES)
    votes = table(Vote)
    read = _read()
    one_sided = exclusions.one_sided_rows_sql(vendor, with_network, ("ra.model_id", "rb.model_id"))
    return (
        f"SELECT {read['b'].select},"
        f" EXISTS (SELECT 1 FROM {votes} WHERE battle_id = b.id),"
        f" {read['c'].select}, {read['ra'].select}, {read['rb'].select},"
        f" {read['ma'].select}, {read['mb'].select},"
        " ma.provider_id, ma.creator_slug, ma.creator_name,"
        " mb.provider_id, mb.creator_slug, mb.creator_name,"
        f" CASE WHEN ra.output_type IN ({texts}) THEN length(ra.content) ELSE 0 END"
        f" + CASE WHEN rb.output_type IN ({texts}) THEN length(rb.content) ELSE 0 END,"
        f" {read['s'].select},"
        f" (SELECT id FROM {table(Exclusion)} WHERE (kind = %s AND value = %s)"
        " OR (kind = %s AND value = %s) ORDER BY id LIMIT 1),"
        f" CASE WHEN s.ip_daily_enabled THEN (SELECT count(*) FROM {votes}"
        " WHERE ip_hash = %s AND created_at > %s) END,"
        f" (SELECT count(*) FROM {votes} WHERE session_key = %s),"
        f" CASE WHEN s.one_sided_enabled THEN ({one_sided}) END"
        f" FROM {table(Battle)} b"
        f" JOIN {table(Challenge)} c ON c.id = b.challenge_id"
        f" JOIN {table(Response)} ra ON ra.id = b.response_a_id"
        f" JOIN {table(Response)} rb ON rb.id = b.response_b_id"
        f"{_model_and_creator(vendor, 'ma', 'ra')}{_model_and_creator(vendor, 'mb', 'rb')}"
        f" LEFT JOIN {table(ExclusionSettings)} s ON s.id = 1"
        " WHERE b.token = %s"
    )


@dataclass
class _Found:
    """What vote_cast reads in one statement besides the battle (see _battle_read)."""

    voted: bool
    read_chars: int
    rules: ExclusionSettings
    exclusion_id: int | None
    network_today: int | None
    session_votes: int
    # The session's and the network's votes with either model (exclusions.one_sided_rows);
    # None when the rule was off as read, or no rules were stored yet.
    one_sided_rows: list | None


def _battle_read(token: str, voter: str, ip_hash: str, now: datetime):
    """(battle, _Found) or None for an unknown token. The battle comes with its challenge,
    answers, models and creators for the reveal."""
    params = [
        Exclusion.Kind.SESSION.value,
        voter,
        Exclusion.Kind.IP.value,
        ip_hash,
        ip_hash,
        now - timedelta(days=1),
        voter,
        *exclusions.one_sided_rows_params(voter=voter, ip_hash=ip_hash, now=now),
        token,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_battle_sql(connection.vendor, bool(ip_hash)), params)
        row = cursor.fetchone()
    if row is None:
        return None
    values, read = iter(row), _read()
    battle = read["b"].take(values)
    voted = bool(next(values))
    battle.challenge = read["c"].take(values)
    battle.response_a = read["ra"].take(values)
    battle.response_b = read["rb"].take(values)
    battle.response_a.model = read["ma"].take(values)
    battle.response_b.model = read["mb"].take(values)
    battle.response_a.model.provider = read["creator"].take(values)
    battle.response_b.model.provider = read["creator"].take(values)
    read_chars = next(values)
    rules = read["s"].take(values)
    exclusion_id, network_today, session_votes, one_sided = (next(values) for _ in range(4))
    if rules.pk is None:  # no row yet: the defaults, stored (the one-sided rows were not read)
        rules, one_sided = ExclusionSettings.current(), None
    elif rules.one_sided_enabled:
        one_sided = exclusions.one_sided_rows(one_sided)
    return battle, _Found(
        voted=voted,
        read_chars=read_chars,
        rules=rules,
        exclusion_id=exclusion_id,
        network_today=network_today,
        session_votes=session_votes,
        one_sided_rows=one_sided,
    )


def _public_reason(exclusion: Exclusion) -> str:
    """What the public log says: a curator's own note may name people, so it shows only the
    rule; automatic rules wrote their reason for the public."""
    if exclusion.rule == ExclusionRule.MANUAL:
        return ExclusionRule.MANUAL.label
    return exclusion.reason[:200]


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
    vote's battle has what the reveal names loaded: the challenge's slug and origin, the
    answers' models and their creators (other fields are deferred; the answers' text is not
    read).

    The usual vote is one INSERT that commits on its own, and the battle's unique vote keeps
    it to one per battle (of concurrent votes one is stored, the others refused with 409). A
    vote that makes its session or network one-sided is stored in one transaction with the
    exclusion it triggers (the rule is tested before the INSERT, on the rows read with the
    battle and this vote)."""
    if outcome not in Vote.Outcome.values:
        raise VoteRefused("That is not one of the four choices.")
    now = timezone.now()
    # One query: the battle, whether it has a vote, and everything the rules and the reveal
    # read, the one-sided rule's votes included.
    found = _battle_read(token, voter or "", ip_hash, now)
    if found is None or not secrets.compare_digest(found[0].session_key, voter or ""):
        raise VoteRefused(
            "This battle was not issued to you, so the vote was not counted. Here is a new one.",
            status=403,
        )
    battle, read = found
    if read.voted:
        raise VoteRefused(ALREADY_VOTED, 409)
    if battle.expires_at <= now:
        raise VoteRefused("This battle has expired, so the vote was not counted.", 410)
    decision_ms = max(0, int((now - battle.created_at).total_seconds() * 1000))
    exclusion = Exclusion.objects.get(pk=read.exclusion_id) if read.exclusion_id else None
    rule, reason = "", ""
    if exclusion is not None:
        rule, reason = exclusion.rule, _public_reason(exclusion)
    elif found := exclusions.too_fast(read.read_chars, decision_ms, read.rules):
        rule, reason = ExclusionRule.TOO_FAST, found
    elif found := exclusions.ip_daily(read.network_today, read.rules):
        rule, reason = ExclusionRule.IP_DAILY, found
    session_age_s = (
        max(0, int((now - session_started).total_seconds())) if session_started else None
    )
    model_ids = (battle.response_a.model_id, battle.response_b.model_id)
    one_sided = None
    if exclusion is None and read.rules.one_sided_enabled:
        # Decided before the vote is stored, with the vote among the rows it tests, so that a
        # vote which makes its voter one-sided is stored in one transaction with the
        # exclusion it triggers: never counted, even for a moment, even if the request dies.
        rows = read.one_sided_rows
        if rows is None:  # the rules were not stored yet when the battle was read
            rows = exclusions.one_sided_rows_read(
                voter=voter, ip_hash=ip_hash, model_ids=model_ids, now=now
            )
        rows = [*rows, [*model_ids, outcome, True, bool(ip_hash)]]
        one_sided = exclusions.one_sided_found(
            voter=voter,
            ip_hash=ip_hash,
            model_ids=model_ids,
            ratings=latest_ratings() if ratings is None else ratings,
            now=now,
            rules=read.rules,
            rows=rows,
        )
    row = Vote(
        battle=battle,
        outcome=outcome,
        model_a_id=model_ids[0],
        model_b_id=model_ids[1],
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
        session_age_s=session_age_s,
        session_votes_before=read.session_votes,
    )
    if one_sided is None:
        # The usual vote: one INSERT that commits on its own (no BEGIN or COMMIT around it);
        # the battle's unique vote refuses a concurrent second one.
        vote = _vote_insert(row)
    else:
        kind, value, reason = one_sided
        with transaction.atomic():
            vote = _vote_insert(row)
            exclusion_create(kind=kind, value=value, reason=reason, rule=ExclusionRule.ONE_SIDED)
        vote.refresh_from_db(fields=_EXCLUSION_FIELDS)
    _count_towards_recompute()
    return vote


def _vote_insert(row: Vote) -> Vote:
    try:
        return insert(row)
    except IntegrityError as exc:  # the battle has its vote already
        raise VoteRefused(ALREADY_VOTED, 409) from exc


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
