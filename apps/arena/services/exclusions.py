"""The automatic exclusion rules (docs/arena.md): which votes stop counting, and why.

Each rule reads what `vote_cast` stored with the vote and returns a public reason, or None.
None of them deletes a vote; curators tune or switch them off in the admin
(ExclusionSettings). The reasons go to the public exclusions log, so they name no session,
address or model."""

import json
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


def one_sided_rows_sql(vendor: str, with_network: bool, models: tuple[str, str]) -> str:
    """A scalar subquery: the session's votes (and, `with_network`, the network's over its
    last ONE_SIDED_NETWORK_DAYS) with either of the two `models` (SQL expressions, so the
    read of a battle can name its answers' models), as one JSON array of [model A id, model B
    id, outcome, mine, shared] (none: NULL, or on SQLite "[]"). Parameters: the session twice,
    and each time with the network, its hash and cutoff (one_sided_rows_params)."""
    network = "(v.ip_hash = %s AND v.created_at > %s)" if with_network else "FALSE"
    row = f"v.model_a_id, v.model_b_id, v.outcome, v.session_key = %s, {network}"
    rows = (
        f"json_agg(json_build_array({row}))"
        if vendor == "postgresql"
        else f"json_group_array(json_array({row}))"
    )
    either = ", ".join(models)
    return (
        f"SELECT {rows} FROM {connection.ops.quote_name(Vote._meta.db_table)} v"
        f" WHERE (v.session_key = %s OR {network})"
        f" AND (v.model_a_id IN ({either}) OR v.model_b_id IN ({either}))"
    )


def one_sided_rows_params(*, voter: str, ip_hash: str, now) -> list:
    network = [ip_hash, now - timedelta(days=ONE_SIDED_NETWORK_DAYS)] if ip_hash else []
    return [voter, *network, voter, *network]


def one_sided_rows(value) -> list:
    """The rows of one_sided_rows_sql's value (None or a list; SQLite's: JSON text)."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value


def one_sided_rows_read(*, voter: str, ip_hash: str, model_ids: tuple[int, int], now) -> list:
    """The session's and the network's stored votes with either model, as one_sided_rows
    gives them: one query."""
    models = ("%s", "%s")
    with connection.cursor() as cursor:
        cursor.execute(
            one_sided_rows_sql(connection.vendor, bool(ip_hash), models),
            [
                *one_sided_rows_params(voter=voter, ip_hash=ip_hash, now=now),
                *model_ids,
                *model_ids,
            ],
        )
        found = cursor.fetchone()
    return one_sided_rows(found[0] if found else None)


def one_sided_found(
    *,
    voter: str,
    ip_hash: str,
    model_ids: tuple[int, int],
    ratings: Mapping,
    now,
    rules,
    rows: list | None = None,
) -> tuple[str, str, str] | None:
    """(exclusion kind, value, public reason) for the session — or else the network (IP
    group), over its last ONE_SIDED_NETWORK_DAYS — whose votes are one-sided; None if neither
    is. The network test is what catches a script that takes a fresh session every few
    votes: its sessions are too short to test, its network is not. `rows`: both groups'
    votes with either model as one_sided_rows gives them, when the caller read them with
    its own statement; otherwise one query reads them."""
    if not rules.one_sided_enabled:
        return None
    if rows is None:
        rows = one_sided_rows_read(voter=voter, ip_hash=ip_hash, model_ids=model_ids, now=now)
    mine = [row[:3] for row in rows if row[3]]
    if found := one_sided(mine, model_ids, ratings, "session", rules):
        return Exclusion.Kind.SESSION, voter, found
    if not ip_hash:
        return None
    shared = [row[:3] for row in rows if row[4]]
    if found := one_sided(shared, model_ids, ratings, "network", rules):
        return Exclusion.Kind.IP, ip_hash, found
    return None
