"""Issuing battles: which two responses a visitor is shown, and pruning unvoted ones."""

import functools
import math
import random
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, TextField
from django.db.models.lookups import IContains
from django.utils import timezone

from apps.arena.models import Battle, IdentityTerm, new_battle_token
from apps.arena.selectors import (
    battle_shown,
    battle_shown_sql,
    battle_with_answers,
    latest_ratings,
    votes_on_pairs,
)
from apps.catalog.models import AIModel
from apps.challenges.models import Category
from apps.responses.models import Response
from rival.sqlrows import table

# How many random candidate pairs a battle is chosen from, and how the choice leans:
# towards pairs with few votes and towards models whose ratings are close.
CANDIDATE_PAIRS = 48
CANDIDATE_CHALLENGES = 12
RATING_CLOSENESS = 150.0


def voter_new() -> str:
    return secrets.token_urlsafe(24)


def _eligible_responses():
    """Responses in the blind pool (published, not shown on any public page yet) of listed
    models, that don't name their own model or creator (terms in admin, plus the creator's
    name itself)."""
    content = ExpressionWrapper(OuterRef("content"), output_field=TextField())
    own_terms = IdentityTerm.objects.filter(
        Q(model_id=OuterRef("model_id")) | Q(provider_id=OuterRef("model__provider_id")),
        IContains(content, F("term")),
    )
    return (
        Response.objects.blind()
        .exclude(model__status=AIModel.Status.RETIRED)
        .exclude(content__icontains=F("model__provider__name"))
        .exclude(Exists(own_terms))
    )


POOL_VERSION_KEY = "arena:pool-version"
POOL_CHALLENGES_SECONDS = 60
POOL_RESPONSES_SECONDS = 300


def _pool_version_new() -> int:
    # Random, not 1: a version names one state of the pool for good, so the memory of this
    # process (_battle_responses) never takes a restarted count (a flushed cache, a test's
    # cleared one) for the version it remembers.
    return secrets.randbits(48)


def battle_pool_invalidate() -> None:
    """Forget the cached battle candidates (identity terms changed, responses released)."""
    try:
        cache.incr(POOL_VERSION_KEY)
    except ValueError:
        cache.set(POOL_VERSION_KEY, _pool_version_new(), timeout=None)


def _pool_version_and_challenges(category: Category | None) -> tuple[int, list[int]]:
    """The pool's version, and the challenges with blind responses from at least two listed
    models; cached briefly. The list is kept with the version it was read under, so the
    two come in one round trip and a new version (battle_pool_invalidate) drops it at once."""
    key = f"arena:pool:challenges:{category.pk if category else 'all'}"
    found = cache.get_many([POOL_VERSION_KEY, key])
    version = found.get(POOL_VERSION_KEY) or cache.get_or_set(
        POOL_VERSION_KEY, _pool_version_new, timeout=None
    )
    cached_version, ids = found.get(key) or (None, None)
    if cached_version != version:
        blind = Response.objects.blind().exclude(model__status=AIModel.Status.RETIRED)
        if category is not None:
            blind = blind.filter(challenge__category=category)
        ids = list(
            blind.order_by()
            .values("challenge_id")
            .annotate(n=Count("pk"))
            .filter(n__gte=2)
            .values_list("challenge_id", flat=True)
        )
        cache.set(key, (version, ids), timeout=POOL_CHALLENGES_SECONDS)
    return version, ids


# ((database, pool version), {challenge id: (expiry as time.time(), [(response id, model
# id)])}) in this process: the lists a worker drew from recently, so most battles read none
# from Redis. Replaced whole, never updated in place across versions, so a thread still
# working on an older version fills that version's dict, not the new one.
_pool_memo: list = [(None, {})]


def _battle_responses(challenge_ids: list[int], version: int) -> dict[int, list]:
    """[(response id, model id)] of the eligible responses per challenge; cached, because
    the identity filter reads every response's text. Kept in this process's memory under the
    pool's version (a new version forgets them at once) and in Redis for the other workers,
    each list with the time it was read from the database, so it is dropped
    POOL_RESPONSES_SECONDS after that wherever it is kept."""
    now = time.time()
    key = (connection.settings_dict["NAME"], version)
    remembered, memo = _pool_memo[0]
    if remembered != key:
        memo = {}
        _pool_memo[0] = (key, memo)
    pool = {cid: memo[cid][1] for cid in challenge_ids if cid in memo and memo[cid][0] > now}
    missing = [cid for cid in challenge_ids if cid not in pool]
    if not missing:
        return pool
    keys = {cid: f"arena:pool:{version}:eligible:{cid}" for cid in missing}
    found = cache.get_many(list(keys.values()))
    for cid in missing:
        entry = found.get(keys[cid])
        if entry is not None and entry[0] > now:
            memo[cid] = entry
            pool[cid] = entry[1]
    missing = [cid for cid in missing if cid not in pool]
    if missing:
        fresh: dict[int, list] = {cid: [] for cid in missing}
        for pk, model_id, challenge_id in (
            _eligible_responses()
            .filter(challenge_id__in=missing)
            .values_list("pk", "model_id", "challenge_id")
        ):
            fresh[challenge_id].append((pk, model_id))
        expires = now + POOL_RESPONSES_SECONDS
        entries = {cid: (expires, rows) for cid, rows in fresh.items()}
        cache.set_many({keys[cid]: entry for cid, entry in entries.items()}, POOL_RESPONSES_SECONDS)
        memo.update(entries)
        pool.update(fresh)
    return pool


def battle_issue(
    *, voter: str, category: Category | None = None, ratings: Mapping | None = None
) -> Battle | None:
    """Issue a battle to `voter`: two responses by different models to one challenge.

    The pair is drawn at random among candidates from a few random challenges, weighted
    towards pairs with few votes and close ratings. Returns None when no challenge has two
    eligible responses. Candidates are cached for a few minutes (identity-term edits apply
    at once), so a page view never scans every response. `ratings`: the latest overall
    ratings (selectors.latest_ratings), when the caller has read them already.
    """
    # Seeded from the OS once per battle, not a SystemRandom: that reads the OS for each of
    # the ~300 numbers a draw takes. A fresh seed per battle keeps draws unpredictable and
    # workers forked from one process from drawing alike.
    rng = random.Random(secrets.randbits(128))
    version, remaining = _pool_version_and_challenges(category)
    rng.shuffle(remaining)
    responses: dict[int, list] = {}
    while remaining and not responses:
        batch, remaining = remaining[:CANDIDATE_CHALLENGES], remaining[CANDIDATE_CHALLENGES:]
        pool = _battle_responses(batch, version)
        responses = {cid: rows for cid, rows in pool.items() if len(rows) >= 2}
    if not responses:
        return None
    challenge_ids = list(responses)
    candidates = []
    for _ in range(CANDIDATE_PAIRS):
        challenge_id = rng.choice(challenge_ids)
        first, second = rng.sample(responses[challenge_id], 2)
        candidates.append((challenge_id, first, second))
    ratings_now = latest_ratings() if ratings is None else ratings
    pair_votes = votes_on_pairs({tuple(sorted((a[1], b[1]))) for _, a, b in candidates})
    weights = []
    for _, (_, model_1), (_, model_2) in candidates:
        votes = pair_votes.get((min(model_1, model_2), max(model_1, model_2)), 0)
        r1, r2 = ratings_now.get(model_1), ratings_now.get(model_2)
        gap = abs(r1.rating - r2.rating) if r1 and r2 else 0.0
        weights.append(math.exp(-((gap / RATING_CLOSENESS) ** 2)) / math.sqrt(1 + votes))
    challenge_id, first, second = rng.choices(candidates, weights=weights)[0]
    if rng.random() < 0.5:
        first, second = second, first
    return _battle_create(voter, challenge_id, first[0], second[0])


@functools.cache
def _battle_sql() -> str:
    """PostgreSQL: the battle written and read back with what the page shows in one
    statement (the INSERT's RETURNING joined)."""
    written = [f for f in Battle._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    return (
        f"WITH b AS (INSERT INTO {table(Battle)} ({', '.join(quote(f.column) for f in written)})"
        f" VALUES ({', '.join(['%s'] * len(written))}) RETURNING *) "
    ) + battle_shown_sql("b")


def _battle_create(voter: str, challenge_id: int, response_a_id: int, response_b_id: int):
    """Store the battle; returned with what the page shows (selectors.battle_shown_sql), in
    one query on PostgreSQL."""
    now = timezone.now()
    values = {
        "token": new_battle_token(),
        "session_key": voter,
        "challenge_id": challenge_id,
        "response_a_id": response_a_id,
        "response_b_id": response_b_id,
        "created_at": now,
        "expires_at": now + timedelta(seconds=settings.ARENA_BATTLE_TTL_SECONDS),
    }
    if connection.vendor != "postgresql":
        return battle_with_answers(Battle.objects.create(**values).pk)
    params = [values[f.attname] for f in Battle._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(_battle_sql(), params)
        return battle_shown(cursor.fetchone())


def battles_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete battles that expired unvoted more than `older_than` ago; returns how many.
    Every arena page view issues a battle, so without this they pile up."""
    deleted, _ = Battle.objects.filter(
        expires_at__lt=timezone.now() - older_than, vote__isnull=True
    ).delete()
    return deleted
