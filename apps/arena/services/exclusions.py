"""The automatic exclusion rules (docs/arena.md): which votes stop counting, and why.

Each rule reads what `vote_cast` stored with the vote and returns a public reason, or None.
None of them deletes a vote; curators tune or switch them off in the admin
(ExclusionSettings). The reasons go to the public exclusions log, so they name no session,
address or model."""

import functools
import math
from collections.abc import Mapping
from datetime import timedelta

from django.db import connection
from scipy.stats import binomtest

from apps.arena.models import Battle, Exclusion, ExclusionSettings, Vote
from apps.challenges.models import OutputType

# Past this, an answer is not read to the end before voting; the floor stops growing.
READING_CHARS_CAP = 12_000
READ_OUTPUT_TYPES = (OutputType.TEXT, OutputType.CODE)
ELO_SCALE = 400.0
# How far back the one-sided test reads a network's votes.
ONE_SIDED_NETWORK_DAYS = 30


def reading_floor_ms(battle: Battle, rules: ExclusionSettings) -> int:
    """The fastest a person can decide this battle: a base, plus both answers' text skimmed
    at the configured speed (framed and image outputs are judged at a glance)."""
    chars = sum(
        len(response.content)
        for response in (battle.response_a, battle.response_b)
        if response.output_type in READ_OUTPUT_TYPES
    )
    return floor_for_chars(chars, rules)


def floor_for_chars(chars: int, rules: ExclusionSettings) -> int:
    """reading_floor_ms for answers with `chars` characters of text and code between them."""
    chars = min(chars, READING_CHARS_CAP)
    return rules.too_fast_base_ms + chars * 1000 // max(rules.too_fast_chars_per_second, 1)


def too_fast(read_chars: int, decision_ms: int, rules: ExclusionSettings) -> str | None:
    """Whether a vote `decision_ms` after a battle appeared whose answers have `read_chars`
    characters of text and code came sooner than anyone can read them (floor_for_chars)."""
    if not rules.too_fast_enabled:
        return None
    floor = floor_for_chars(read_chars, rules)
    if decision_ms >= floor:
        return None
    return (
        f"Voted {decision_ms / 1000:.1f} s after the battle appeared; "
        f"reading it takes at least {floor / 1000:.1f} s."
    )


def ip_daily(network_today: int | None, rules: ExclusionSettings) -> str | None:
    """Whether a network that cast `network_today` votes in the last 24 hours before this
    one is past the daily limit (None: not counted, the rule is off)."""
    if not rules.ip_daily_enabled or network_today is None:
        return None
    if network_today < rules.ip_daily_limit:
        return None
    return f"More than {rules.ip_daily_limit} votes from one network within a day."


def _expected_win(model_id: int, opponent_id: int, ratings: Mapping) -> float:
    """Chance `model_id` beats `opponent_id` by the current ratings (½ when either is new)."""
    mine, theirs = ratings.get(model_id), ratings.get(opponent_id)
    if mine is None or theirs is None:
        return 0.5
    return 1.0 / (1.0 + math.pow(10.0, (theirs.rating - mine.rating) / ELO_SCALE))


def one_sided_score(
    outcomes: list[tuple[float, float]], rules: ExclusionSettings
) -> tuple[float, float, float] | None:
    """(score, expected, p-value) of one model's battles, each given as (its score: 1 for a
    win, ½ for a tie or "both bad", 0 for a loss; its win chance by the ratings), or None
    under `one_sided_min_battles`. A two-sided binomial test of the score, rounded towards
    what was expected (so a half never tips it), against the mean win chance. Ties count
    because they count in the ratings too: a model expected to lose most battles gains from
    a tie in every one of them."""
    battles = len(outcomes)
    if battles < rules.one_sided_min_battles:
        return None
    score = sum(got for got, _ in outcomes)
    expected = sum(chance for _, chance in outcomes)
    wins = math.floor(score) if score >= expected else math.ceil(score)
    return score, expected, binomtest(wins, battles, expected / battles).pvalue


def one_sided(
    votes: list, model_ids: tuple[int, int], ratings: Mapping, whose: str, rules
) -> str | None:
    """Whether `votes` — (model A id, model B id, outcome) of one session's, or one network's,
    votes with either model — score battles with one of these models far beyond what the
    ratings predict (one_sided_score): its public reason, or None."""
    for model_id in model_ids:
        outcomes = []
        for model_a, model_b, outcome in votes:
            if model_id not in (model_a, model_b):
                continue
            seat = "a" if model_a == model_id else "b"
            opponent = model_b if seat == "a" else model_a
            got = 1.0 if outcome == seat else 0.0 if outcome in ("a", "b") else 0.5
            outcomes.append((got, _expected_win(model_id, opponent, ratings)))
        found = one_sided_score(outcomes, rules)
        if found and found[2] < rules.one_sided_p_value:
            score, expected, p_value = found
            return (
                f"One model scored {score:g} of a possible {len(outcomes)} in this {whose}'s "
                f"battles with it (a tie counts half), where about {expected:.0f} were "
                f"expected (p = {p_value:.1e})."
            )
    return None


@functools.cache
def _one_sided_sql(with_network: bool) -> str:
    # Plain SQL (a fixed shape): the ORM's building and compiling of this query cost more
    # than the database's running it, on every vote.
    network = "(ip_hash = %s AND created_at > %s)" if with_network else "FALSE"
    return (
        "SELECT model_a_id, model_b_id, outcome, session_key = %s AS mine, {network} AS shared"
        f" FROM {connection.ops.quote_name(Vote._meta.db_table)}"
        " WHERE (session_key = %s OR {network})"
        " AND (model_a_id IN (%s, %s) OR model_b_id IN (%s, %s))"
    ).replace("{network}", network)


def one_sided_found(
    *, voter: str, ip_hash: str, model_ids: tuple[int, int], ratings: Mapping, now, rules
) -> tuple[str, str, str] | None:
    """(exclusion kind, value, public reason) for the session — or else the network (IP
    group), over its last ONE_SIDED_NETWORK_DAYS — whose votes are one-sided; None if neither
    is. The network test is what catches a script that takes a fresh session every few
    votes: its sessions are too short to test, its network is not. One query reads both
    groups' votes with either model."""
    if not rules.one_sided_enabled:
        return None
    network = [ip_hash, now - timedelta(days=ONE_SIDED_NETWORK_DAYS)] if ip_hash else []
    with connection.cursor() as cursor:
        cursor.execute(
            _one_sided_sql(bool(ip_hash)),
            [voter, *network, voter, *network, *model_ids, *model_ids],
        )
        rows = cursor.fetchall()
    mine = [row[:3] for row in rows if row[3]]
    if found := one_sided(mine, model_ids, ratings, "session", rules):
        return Exclusion.Kind.SESSION, voter, found
    if not ip_hash:
        return None
    shared = [row[:3] for row in rows if row[4]]
    if found := one_sided(shared, model_ids, ratings, "network", rules):
        return Exclusion.Kind.IP, ip_hash, found
    return None
