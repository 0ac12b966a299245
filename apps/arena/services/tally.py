"""Pair tallies: counted votes per (category, model A, model B), kept as votes change.

On PostgreSQL three statement-level triggers on the vote table (migration
arena/0003_pair_tally.py) fold every insert, update and delete into `PairTally` in the
same transaction, whatever wrote it: `vote_cast`, an exclusion's bulk update, a cascade from
a deleted model, a COPY. A leaderboard recompute then reads one row per pair instead of every
vote, so its cost grows with the number of model pairs, not votes.

Elsewhere (the SQLite of the embedded default, small by nature) there are no triggers and
the tally is aggregated from the votes on each read.
"""

from dataclasses import dataclass

import numpy as np
import psycopg
from django.db import connection
from django.db.models import Count, Q

from apps.arena.models import PairTally, Vote

TALLY = PairTally._meta.db_table
VOTES = Vote._meta.db_table


@dataclass(frozen=True)
class Tally:
    """Counted votes per (category, model A, model B) as numpy columns (category -1: none),
    and the uncounted votes per category id (None: no category)."""

    category: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray
    uncounted: dict


def tally_read() -> Tally:
    """The whole tally in one query; ties and both-bad are both ties."""
    if connection.vendor != "postgresql":
        return _tally_from_votes()
    # The rows are packed into one bytea (seven big-endian int8 per pair) and read into numpy
    # at once: hundreds of thousands of result rows cost more in per-row client overhead
    # than the reading itself.
    query = (
        "SELECT string_agg(int8send(coalesce(category_id, -1)) || int8send(model_a_id)"
        " || int8send(model_b_id) || int8send(wins_a) || int8send(wins_b) || int8send(ties)"
        f" || int8send(uncounted), ''::bytea) FROM {TALLY}"
        " WHERE wins_a <> 0 OR wins_b <> 0 OR ties <> 0 OR uncounted <> 0"
    )
    connection.ensure_connection()
    # A cursor of its own with server-side binding, so the bytea arrives as binary: Django's
    # client-side cursors receive it as hex text, four times slower to send and decode.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(query, binary=True)
        packed = cursor.fetchone()[0] or b""
    table = np.frombuffer(bytes(packed), dtype=">i8").astype(np.int64).reshape(-1, 7)
    return _tally(table)


def _tally(table: np.ndarray) -> Tally:
    some = table[:, 6] != 0
    categories, which = np.unique(table[some, 0], return_inverse=True)
    sums = np.bincount(which, weights=table[some, 6], minlength=categories.size)
    uncounted = {
        (None if c == -1 else c): int(n)
        for c, n in zip(categories.tolist(), sums.tolist(), strict=True)
    }
    counted = (table[:, 3] + table[:, 4] + table[:, 5]) > 0
    table = table[counted]
    return Tally(*(table[:, i] for i in range(6)), uncounted=uncounted)


def _tally_from_votes() -> Tally:
    """What the triggers keep in PairTally, aggregated from the votes themselves."""
    rows = (
        Vote.objects.values_list("category_id", "model_a_id", "model_b_id")
        .annotate(
            wins_a=Count("pk", filter=Q(is_counted=True, outcome=Vote.Outcome.A)),
            wins_b=Count("pk", filter=Q(is_counted=True, outcome=Vote.Outcome.B)),
            ties=Count(
                "pk",
                filter=Q(is_counted=True, outcome__in=[Vote.Outcome.TIE, Vote.Outcome.BOTH_BAD]),
            ),
            uncounted=Count("pk", filter=Q(is_counted=False)),
        )
        .order_by()
    )
    table = np.array(
        [(-1 if c is None else c, *rest) for c, *rest in rows], dtype=np.int64
    ).reshape(-1, 7)
    return _tally(table)
