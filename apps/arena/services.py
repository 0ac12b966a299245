"""Writes of the arena: issuing battles, casting votes, excluding visitors, recomputing."""

import logging
import math
import random
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, TextField
from django.db.models.lookups import IContains
from django.utils import timezone

from apps.arena import ratings
from apps.arena.models import (
    Battle,
    Exclusion,
    IdentityTerm,
    LeaderboardRow,
    LeaderboardSnapshot,
    Vote,
)
from apps.catalog.models import AIModel
from apps.challenges.models import Category, Challenge
from apps.responses.models import Response
from rival import visitors

logger = logging.getLogger(__name__)

VOTES_SINCE_RECOMPUTE_KEY = "arena:votes-since-recompute"
SNAPSHOTS_KEPT_PER_CATEGORY = 20
WIN_MATRIX_SIZE = 20
# How many random candidate pairs a battle is chosen from, and how the choice leans:
# towards pairs with few votes and towards models whose ratings are close.
CANDIDATE_PAIRS = 48
CANDIDATE_CHALLENGES = 12
RATING_CLOSENESS = 150.0
ALREADY_VOTED = "You already voted on this battle; a second vote counts nothing."


class VoteRefused(Exception):
    """A vote that counts nothing; the message is safe to show to the visitor."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


# --- visitors --------------------------------------------------------------------------------


def voter_new() -> str:
    return secrets.token_urlsafe(24)


def ip_hash(ip: str) -> str:
    """Salted hash of an IP address; the address itself is never stored."""
    return visitors.ip_hash(ip, salt=settings.ARENA_IP_SALT or f"arena-ip:{settings.SECRET_KEY}")


# --- battles ---------------------------------------------------------------------------------


def _eligible_responses():
    """Published responses of listed models to published challenges, that don't name their
    own model or creator (terms in admin, plus the creator's name itself)."""
    content = ExpressionWrapper(OuterRef("content"), output_field=TextField())
    own_terms = IdentityTerm.objects.filter(
        Q(model_id=OuterRef("model_id")) | Q(provider_id=OuterRef("model__provider_id")),
        IContains(content, F("term")),
    )
    return (
        Response.objects.visible()
        .exclude(model__status=AIModel.Status.RETIRED)
        .exclude(content__icontains=F("model__provider__name"))
        .exclude(Exists(own_terms))
    )


POOL_VERSION_KEY = "arena:pool-version"
POOL_CHALLENGES_SECONDS = 60
POOL_RESPONSES_SECONDS = 300


def battle_pool_invalidate() -> None:
    """Forget the cached battle candidates (identity terms changed)."""
    try:
        cache.incr(POOL_VERSION_KEY)
    except ValueError:
        cache.set(POOL_VERSION_KEY, 2, timeout=None)


def _battle_challenges(category: Category | None, version: int) -> list[int]:
    """Published challenges with responses from at least two listed models; cached briefly."""
    key = f"arena:pool:{version}:challenges:{category.pk if category else 'all'}"
    ids = cache.get(key)
    if ids is None:
        challenges = Challenge.objects.published()
        if category is not None:
            challenges = challenges.filter(category=category)
        ids = list(
            challenges.annotate(
                n=Count(
                    "responses",
                    filter=Q(responses__is_published=True)
                    & ~Q(responses__model__status=AIModel.Status.RETIRED),
                )
            )
            .filter(n__gte=2)
            .values_list("pk", flat=True)
        )
        cache.set(key, ids, timeout=POOL_CHALLENGES_SECONDS)
    return ids


def _battle_responses(challenge_ids: list[int], version: int) -> dict[int, list]:
    """[(response id, model id)] of the eligible responses per challenge; cached, because
    the identity filter reads every response's text."""
    keys = {cid: f"arena:pool:{version}:responses:{cid}" for cid in challenge_ids}
    found = cache.get_many(list(keys.values()))
    pool = {cid: found[key] for cid, key in keys.items() if key in found}
    missing = [cid for cid in challenge_ids if cid not in pool]
    if missing:
        fresh: dict[int, list] = {cid: [] for cid in missing}
        for pk, model_id, challenge_id in (
            _eligible_responses()
            .filter(challenge_id__in=missing)
            .values_list("pk", "model_id", "challenge_id")
        ):
            fresh[challenge_id].append((pk, model_id))
        cache.set_many({keys[cid]: rows for cid, rows in fresh.items()}, POOL_RESPONSES_SECONDS)
        pool.update(fresh)
    return pool


def battle_issue(*, voter: str, category: Category | None = None) -> Battle | None:
    """Issue a battle to `voter`: two responses by different models to one challenge.

    The pair is drawn at random among candidates from a few random challenges, weighted
    towards pairs with few votes and close ratings. Returns None when no challenge has two
    eligible responses. Candidates are cached for a few minutes (identity-term edits apply
    at once), so a page view never scans every response.
    """
    from apps.arena.selectors import latest_ratings, votes_on_pairs

    rng = random.SystemRandom()
    version = cache.get_or_set(POOL_VERSION_KEY, 1, timeout=None)
    remaining = _battle_challenges(category, version)
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
    ratings_now = latest_ratings()
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
    battle = Battle.objects.create(
        session_key=voter,
        challenge_id=challenge_id,
        response_a_id=first[0],
        response_b_id=second[0],
        expires_at=timezone.now() + timedelta(seconds=settings.ARENA_BATTLE_TTL_SECONDS),
    )
    return Battle.objects.select_related("challenge__category", "response_a", "response_b").get(
        pk=battle.pk
    )


# --- votes -----------------------------------------------------------------------------------


def _exclusion_for(voter: str, hashed_ip: str) -> Exclusion | None:
    return Exclusion.objects.filter(
        Q(kind=Exclusion.Kind.SESSION, value=voter) | Q(kind=Exclusion.Kind.IP, value=hashed_ip)
    ).first()


@transaction.atomic
def vote_cast(*, token: str, voter: str, outcome: str, ip: str, user=None) -> Vote:
    """Record `voter`'s verdict on the battle `token`; raises VoteRefused and stores nothing
    for a made-up, foreign, expired or already-voted battle, a bad outcome, or a visitor over
    the rate limit. Votes of excluded visitors are stored but not counted. A signed-in `user`
    (who verified their address to sign in) makes it a verified voter's vote."""
    if outcome not in Vote.Outcome.values:
        raise VoteRefused("That is not one of the four choices.")
    hashed_ip = ip_hash(ip)
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
    if visitors.rate_limited(f"arena:session:{voter}", settings.ARENA_RATE_LIMIT_SESSION) or (
        visitors.rate_limited(f"arena:ip:{hashed_ip}", settings.ARENA_RATE_LIMIT_IP)
    ):
        raise VoteRefused("You are voting faster than we can count. Take a short break.", 429)
    exclusion = _exclusion_for(voter, hashed_ip)
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                battle=battle,
                outcome=outcome,
                model_a_id=battle.response_a.model_id,
                model_b_id=battle.response_b.model_id,
                category_id=battle.challenge.category_id,
                session_key=voter,
                ip_hash=hashed_ip,
                is_counted=exclusion is None,
                exclusion=exclusion,
                user=user,
                is_verified=user is not None,
            )
    except IntegrityError as exc:
        raise VoteRefused(
            "You already voted on this battle; a second vote counts nothing.", 409
        ) from exc
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


# --- exclusions ------------------------------------------------------------------------------


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


def battles_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete battles that expired unvoted more than `older_than` ago; returns how many.
    Every arena page view issues a battle, so without this they pile up."""
    deleted, _ = Battle.objects.filter(
        expires_at__lt=timezone.now() - older_than, vote__isnull=True
    ).delete()
    return deleted


# --- leaderboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregatedVotes:
    """Counted votes per (category, model A, model B) as numpy columns."""

    category: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray


def votes_aggregate(*, verified_only: bool = False) -> AggregatedVotes:
    """One GROUP BY over the counted votes (only verified voters' with `verified_only`); ties
    and both-bad are both ties.

    On PostgreSQL the grouped rows come back as binary COPY and are read straight into numpy;
    elsewhere (the SQLite default) through the ORM."""
    if connection.vendor == "postgresql":
        return _aggregate_postgresql(verified_only=verified_only)
    counted = Vote.objects.filter(is_counted=True)
    if verified_only:
        counted = counted.filter(is_verified=True)
    rows = list(
        counted.values_list("category_id", "model_a_id", "model_b_id")
        .annotate(
            wins_a=Count("pk", filter=Q(outcome=Vote.Outcome.A)),
            wins_b=Count("pk", filter=Q(outcome=Vote.Outcome.B)),
            ties=Count("pk", filter=Q(outcome__in=[Vote.Outcome.TIE, Vote.Outcome.BOTH_BAD])),
        )
        .order_by()
    )
    table = np.array(
        [(c if c is not None else -1, a, b, wa, wb, t) for c, a, b, wa, wb, t in rows],
        dtype=np.int64,
    ).reshape(-1, 6)
    return AggregatedVotes(*(table[:, i] for i in range(6)))


def _aggregate_postgresql(*, verified_only: bool) -> AggregatedVotes:
    # The grouped rows are packed into one bytea (six big-endian int8 per group) and read
    # into numpy at once: a result set or COPY of hundreds of thousands of rows costs more
    # in per-row client overhead than the aggregation itself.
    table = Vote._meta.db_table
    query = (
        "SELECT string_agg(int8send(category) || int8send(model_a) || int8send(model_b)"
        " || int8send(wins_a) || int8send(wins_b) || int8send(ties), ''::bytea) FROM ("
        " SELECT COALESCE(category_id, -1)::bigint AS category, model_a_id::bigint AS model_a,"
        " model_b_id::bigint AS model_b, count(*) FILTER (WHERE outcome = 'a') AS wins_a,"
        " count(*) FILTER (WHERE outcome = 'b') AS wins_b,"
        " count(*) FILTER (WHERE outcome IN ('tie', 'both_bad')) AS ties"
        f" FROM {table} WHERE is_counted{' AND is_verified' if verified_only else ''}"
        " GROUP BY category_id, model_a_id, model_b_id"
        ") AS grouped"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Read the groups in order from the vote_tally index (several times faster than
        # hashing every vote, which the planner would choose), with room in work_mem should
        # it hash anyway, and without JIT, which costs more than it saves here.
        cursor.execute("SET LOCAL enable_hashagg = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(query)
        packed = cursor.fetchone()[0] or b""
    columns = np.frombuffer(bytes(packed), dtype=">i8").astype(np.int64).reshape(-1, 6)
    return AggregatedVotes(*(columns[:, i] for i in range(6)))


def _snapshot_build(
    *,
    category: Category | None,
    voters: str = LeaderboardSnapshot.Voters.ALL,
    counts: ratings.PairCounts,
    model_ids: np.ndarray,
    excluded: int,
    rounds: int,
    seed: int,
    now,
) -> LeaderboardSnapshot:
    started = time.perf_counter()
    result = ratings.rate(counts, rounds=rounds, seed=seed)
    rated = np.flatnonzero(result.rated)
    top = rated[np.argsort(-result.rating[rated], kind="stable")][:WIN_MATRIX_SIZE]
    matrix = ratings.win_rate_matrix(counts, top)
    snapshot = LeaderboardSnapshot.objects.create(
        category=category,
        voters=voters,
        computed_at=now,
        votes_used=counts.n_votes,
        excluded_votes=excluded,
        rounds=rounds,
        seed=seed,
        duration_ms=0,
        win_matrix={
            "models": [int(model_ids[i]) for i in top],
            "rates": [
                [None if math.isnan(x) else round(float(x), 4) for x in row] for row in matrix
            ],
        },
    )
    LeaderboardRow.objects.bulk_create(
        LeaderboardRow(
            snapshot=snapshot,
            model_id=int(model_ids[i]),
            rank=int(result.rank[i]),
            rating=float(result.rating[i]),
            lower=float(result.lower[i]),
            upper=float(result.upper[i]),
            votes=int(result.votes[i]),
            win_rate=float(result.win_rate[i]),
            is_provisional=bool(result.votes[i] < settings.ARENA_PROVISIONAL_VOTES),
        )
        for i in rated
    )
    snapshot.duration_ms = int((time.perf_counter() - started) * 1000)
    snapshot.save(update_fields=["duration_ms"])
    return snapshot


def leaderboard_recompute(
    *, rounds: int | None = None, seed: int = ratings.DEFAULT_SEED
) -> list[LeaderboardSnapshot]:
    """Write a snapshot overall and for every category from the counted votes, and one
    overall from verified voters' votes only.

    Safe to run twice: each run adds snapshots (pages read the newest) and prunes old ones.
    """
    rounds = settings.ARENA_BOOTSTRAP_ROUNDS if rounds is None else rounds
    votes = votes_aggregate()
    excluded = dict(
        Vote.objects.filter(is_counted=False)
        .values_list("category_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    model_ids = np.unique(np.concatenate([votes.model_a, votes.model_b]))
    index_a = np.searchsorted(model_ids, votes.model_a)
    index_b = np.searchsorted(model_ids, votes.model_b)

    def counts_where(mask) -> ratings.PairCounts:
        return ratings.PairCounts.from_rows(
            model_ids.size,
            index_a[mask],
            index_b[mask],
            votes.wins_a[mask],
            votes.wins_b[mask],
            votes.ties[mask],
        )

    now = timezone.now()
    snapshots = []
    with transaction.atomic():
        everything = np.ones(votes.category.size, dtype=bool)
        snapshots.append(
            _snapshot_build(
                category=None,
                counts=counts_where(everything),
                model_ids=model_ids,
                excluded=sum(excluded.values()),
                rounds=rounds,
                seed=seed,
                now=now,
            )
        )
        for category in Category.objects.all():
            snapshots.append(
                _snapshot_build(
                    category=category,
                    counts=counts_where(votes.category == category.pk),
                    model_ids=model_ids,
                    excluded=excluded.get(category.pk, 0),
                    rounds=rounds,
                    seed=seed,
                    now=now,
                )
            )
        snapshots.append(_verified_snapshot_build(rounds=rounds, seed=seed, now=now))
        _snapshots_prune()
    logger.info(
        "leaderboard recomputed: %d snapshots, %d votes", len(snapshots), snapshots[0].votes_used
    )
    return snapshots


def _verified_snapshot_build(*, rounds: int, seed: int, now) -> LeaderboardSnapshot:
    votes = votes_aggregate(verified_only=True)
    model_ids = np.unique(np.concatenate([votes.model_a, votes.model_b]))
    counts = ratings.PairCounts.from_rows(
        model_ids.size,
        np.searchsorted(model_ids, votes.model_a),
        np.searchsorted(model_ids, votes.model_b),
        votes.wins_a,
        votes.wins_b,
        votes.ties,
    )
    return _snapshot_build(
        category=None,
        voters=LeaderboardSnapshot.Voters.VERIFIED,
        counts=counts,
        model_ids=model_ids,
        excluded=Vote.objects.filter(is_counted=False, is_verified=True).count(),
        rounds=rounds,
        seed=seed,
        now=now,
    )


def _snapshots_prune() -> None:
    flavours = LeaderboardSnapshot.objects.values_list("category_id", "voters").distinct()
    for category_id, voters in flavours:
        same = LeaderboardSnapshot.objects.filter(category_id=category_id, voters=voters)
        keep = same.values_list("pk", flat=True)[:SNAPSHOTS_KEPT_PER_CATEGORY]
        same.exclude(pk__in=list(keep)).delete()
