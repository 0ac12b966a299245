"""Rigging benchmark: how many votes an attacker needs to lift one mid-table model one rank,
with the arena's defences off and on, and how many honest votes the defences wrongly drop.

Run with `make bench` (or `uv run python -m tests.bench.bench_rigging`) against the
PostgreSQL in DATABASE_URL: a throwaway database is created and dropped. Everything goes
through the real services — `battle_issue` draws each battle from the blind pool,
`vote_cast` stores each vote with its timing, session and salted address group and applies
the exclusion rules — only the clock is simulated: a battle's `created_at` is moved back by
the voter's reading time instead of sleeping.

An honest electorate (sessions of 15 votes, one IPv4 address each, reading times around 45 s,
choices drawn from known Bradley–Terry strengths) votes once, with the defences on, which
measures the honest votes they wrongly exclude; for the runs with the defences off the same
votes all count (the rules decide only whether a vote counts). Then, from that same state, an
attacker who wants the mid-table target to overtake the model just above it votes until the
target's fitted rating passes its neighbour's, or BENCH_ATTACK_MAX votes (default 10,000).

The attacker is a script on one machine that has read docs/arena.md: it has one IPv6 /64
(a random address in it for every vote), takes a fresh session every ATTACK_SESSION_VOTES
votes (too few for the per-session test), and waits just past the published reading floor
before each vote (the clock is simulated, so waiting is free).
- target-only: re-rolls battles until the target shows, votes for it;
- omnipresent: votes in every battle it gets: for the target when it shows, against the
  neighbour when that shows, otherwise honestly (to look normal);
- stealthy (defences on only, against the undefended omnipresent attack): omnipresent, but it
  runs the public one-sided test on its own network's votes and calls the battle a tie (or,
  failing that, the other way) whenever the rigged choice would bring a p-value under twice
  the rule's threshold; its network is never excluded, so it casts every vote, up to
  BENCH_STEALTHY_MAX (default 2,000).
A quarter of the honest sessions share one of five office addresses, which the per-network
rules judge together.
Once the attacker's network is excluded, none of its later votes can count (exclusions are
never lifted by the rules), so the run stops there and reports "never" unless
BENCH_RIGGING_FULL=1 asks for every vote to be cast anyway. View-level rate limits (votes and
battles per session and per address group) come on top in production and are not counted.
"""

import math
import os
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# Its own cache keys: a test run sharing the Redis database must not feed it battle
# candidates from another database.
settings.CACHES["default"]["KEY_PREFIX"] = "bench-rigging"

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.arena import ratings  # noqa: E402

SEED = 10
STRENGTHS = [1200.0, 1140.0, 1080.0, 1030.0, 960.0, 900.0]  # Elo scale, best first
# The attacker reads the public board after the honest votes: its target is the model ranked
# fourth there, to pass the one ranked third (set in honest_state; true ranks 4 and 3 unless
# the honest votes say otherwise).
TARGET, NEIGHBOUR = 3, 2
CHALLENGES = 12
ANSWER_CHARS = 600
HONEST_VOTES = int(os.environ.get("BENCH_HONEST_VOTES", "1500"))
HONEST_SESSION_VOTES = 15
OFFICES = 5
ATTACK_MAX = int(os.environ.get("BENCH_ATTACK_MAX", "10000"))
# The stealthy attacker never gets its network excluded, so every vote is cast: a lower cap.
STEALTHY_MAX = int(os.environ.get("BENCH_STEALTHY_MAX", "2000"))
# It keeps its network's test above this p-value (twice the rule's default threshold).
STEALTHY_MARGIN = 0.002
STRATEGIES = ("target-only", "omnipresent", "stealthy")
ATTACK_SESSION_VOTES = 5
ATTACK_FULL = os.environ.get("BENCH_RIGGING_FULL") == "1"
ATTACK_NETWORK = "2001:db8:bad:1"
CHECK_EVERY = 10


def p_win(i: int, j: int) -> float:
    return 1.0 / (1.0 + math.pow(10.0, (STRENGTHS[j] - STRENGTHS[i]) / 400.0))


def populate() -> list[int]:
    """Six models answering twelve challenges; every answer in the blind pool."""
    from apps.responses.models import Response
    from tests.factories import AIModelFactory, ChallengeFactory

    models = [AIModelFactory(slug=f"bench-m{i}", name=f"Bench: M{i}") for i in range(6)]
    rng = np.random.default_rng(SEED)
    words = ["answer", "detail", "example", "reason", "result", "method", "value", "point"]
    rows = []
    for c in range(CHALLENGES):
        challenge = ChallengeFactory(slug=f"bench-c{c}")
        for model in models:
            text = " ".join(rng.choice(words, ANSWER_CHARS // 7))
            rows.append(
                Response(
                    model=model,
                    challenge=challenge,
                    prompt=challenge.prompt,
                    output_type="text",
                    content=text,
                    collected_at=timezone.now(),
                    source=Response.Source.DEMO,
                )
            )
    Response.objects.bulk_create(rows)
    return [m.pk for m in models]


class Arena:
    """The real services, with the reading time simulated by back-dating the battle."""

    def __init__(self, model_ids: list[int]):
        from apps.arena.models import Battle
        from apps.arena.services import battles, votes
        from rival.web import visitors

        self.index = {pk: i for i, pk in enumerate(model_ids)}
        self.Battle, self.battles, self.votes, self.visitors = Battle, battles, votes, visitors
        self.since_recompute = 0

    def battle(self, voter: str):
        battle = self.battles.battle_issue(voter=voter)
        return (
            battle,
            self.index[battle.response_a.model_id],
            self.index[battle.response_b.model_id],
        )

    def floor_seconds(self, battle) -> float:
        """The published reading floor of this battle (the attacker read docs/arena.md)."""
        from apps.arena.models import ExclusionSettings
        from apps.arena.services.exclusions import reading_floor_ms

        return reading_floor_ms(battle, ExclusionSettings.current()) / 1000

    def vote(self, battle, voter: str, outcome: str, ip: str, seconds: float):
        self.Battle.objects.filter(pk=battle.pk).update(
            created_at=timezone.now() - timedelta(seconds=seconds)
        )
        vote = self.votes.vote_cast(
            token=battle.token,
            voter=voter,
            outcome=outcome,
            ip_hash=self.visitors.ip_hash(ip, purpose="arena"),
            session_started=timezone.now() - timedelta(minutes=10),
        )
        # What the worker does in production after every ARENA_RECOMPUTE_AFTER_VOTES votes
        # (vote_cast queues it; no worker runs here): the ratings the one-sided rule reads.
        self.since_recompute += 1
        if self.since_recompute >= settings.ARENA_RECOMPUTE_AFTER_VOTES:
            self.since_recompute = 0
            self.recompute()
        return vote

    def recompute(self) -> None:
        from apps.arena.services.leaderboard import leaderboard_recompute

        leaderboard_recompute(rounds=20)


def honest_outcome(rng, a: int, b: int) -> str:
    return "a" if rng.random() < p_win(a, b) else "b"


def fitted(model_ids: list[int]) -> np.ndarray:
    """Ratings (Elo scale) fitted to the counted votes, in the order of `model_ids`."""
    from apps.arena.services.leaderboard import votes_aggregate

    votes = votes_aggregate()
    index = {pk: i for i, pk in enumerate(model_ids)}
    counts = ratings.PairCounts.from_rows(
        len(model_ids),
        np.array([index[m] for m in votes.model_a], dtype=np.int64),
        np.array([index[m] for m in votes.model_b], dtype=np.int64),
        votes.wins_a,
        votes.wins_b,
        votes.ties,
    )
    return ratings.to_scale(ratings.fit(counts), np.ones(len(model_ids), dtype=bool))


def defences_set(on: bool) -> None:
    from apps.arena.models import ExclusionSettings

    ExclusionSettings.objects.update_or_create(
        pk=1,
        defaults={"too_fast_enabled": on, "ip_daily_enabled": on, "one_sided_enabled": on},
    )


def honest_electorate(arena: Arena, rng) -> list[int]:
    cast = []
    for n in range(HONEST_VOTES):
        session = n // HONEST_SESSION_VOTES
        voter = f"honest-{session}"
        battle, a, b = arena.battle(voter)
        seconds = float(rng.lognormal(math.log(45), 0.5))
        # One address per voter, except that every fourth session votes from one of a few
        # shared addresses (offices, campuses): their votes are judged together.
        if session % 4 == 0:
            ip = f"198.19.0.{session % OFFICES + 1}"
        else:
            ip = f"198.18.{session // 250}.{session % 250 + 1}"
        cast.append(arena.vote(battle, voter, honest_outcome(rng, a, b), ip, seconds).pk)
    return cast


def attack(arena: Arena, rng, model_ids: list[int], strategy: str) -> dict:
    """Attacker votes until the target's rating passes the neighbour's. Returns the votes
    needed (None if never), the attacker's counted votes, and after how many votes its
    network was excluded (None if it was not)."""
    from apps.arena.models import Exclusion, Vote

    network_hash = arena.visitors.ip_hash(f"{ATTACK_NETWORK}::1", purpose="arena")
    ids = []
    result = {"needed": None, "excluded_after": None}
    stealth = Stealth(model_ids) if strategy == "stealthy" else None
    for n in range(1, (STEALTHY_MAX if stealth else ATTACK_MAX) + 1):
        voter = f"attacker-{n // ATTACK_SESSION_VOTES}"
        ip = f"{ATTACK_NETWORK}:{rng.integers(1, 65535):x}::{rng.integers(1, 65535):x}"
        while True:
            battle, a, b = arena.battle(voter)
            if strategy != "target-only" or TARGET in (a, b):
                break
        if TARGET in (a, b):
            outcome = "a" if a == TARGET else "b"
        elif NEIGHBOUR in (a, b):
            outcome = "b" if a == NEIGHBOUR else "a"
        else:
            outcome = honest_outcome(rng, a, b)
        if stealth is not None:
            outcome = stealth.choose(a, b, outcome)
        seconds = arena.floor_seconds(battle) + float(rng.uniform(0.5, 2.0))
        ids.append(arena.vote(battle, voter, outcome, ip, seconds).pk)
        if n % CHECK_EVERY:
            continue
        rated = fitted(model_ids)
        if rated[TARGET] > rated[NEIGHBOUR]:
            result["needed"] = n
            break
        caught = Exclusion.objects.filter(kind=Exclusion.Kind.IP, value=network_hash).first()
        if result["excluded_after"] is None and caught is not None:
            result["excluded_after"], result["reason"] = n, caught.reason
            if not ATTACK_FULL:
                break
    result["cast"] = len(ids)
    result["counted"] = Vote.objects.filter(pk__in=ids, is_counted=True).count()
    result["rules"] = dict(
        Vote.objects.filter(pk__in=ids, is_counted=False)
        .order_by()
        .values_list("excluded_rule")
        .annotate(n=Count("pk"))
    )
    return result


class Stealth:
    """An omnipresent attacker that also runs the one-sided test (the rule, its threshold and
    the ratings it compares against are all public) on its own network's votes before each
    vote: when its rigged choice would bring either model's p-value under STEALTHY_MARGIN it
    calls the battle a tie instead, or, if even that would, the other way."""

    def __init__(self, model_ids: list[int]):
        from apps.arena.models import ExclusionSettings

        self.model_ids = model_ids
        self.rules = ExclusionSettings.current()
        self.history: list[list[tuple[int, float]]] = [[] for _ in model_ids]  # (opponent, score)

    def _safe(self, rating: list[float], a: int, b: int, outcome: str) -> bool:
        from apps.arena.services.exclusions import one_sided_score

        def p_win(i: int, j: int) -> float:
            return 1.0 / (1.0 + math.pow(10.0, (rating[j] - rating[i]) / 400.0))

        for model, opponent, seat in ((a, b, "a"), (b, a, "b")):
            got = 1.0 if outcome == seat else 0.0 if outcome in ("a", "b") else 0.5
            history = [*self.history[model], (opponent, got)]
            found = one_sided_score([(s, p_win(model, o)) for o, s in history], self.rules)
            if found and found[2] < STEALTHY_MARGIN:
                return False
        return True

    def choose(self, a: int, b: int, rigged: str) -> str:
        from apps.arena.selectors import latest_ratings

        published = latest_ratings()  # the public leaderboard, as the rule reads it
        rating = [published[pk].rating if pk in published else 1000.0 for pk in self.model_ids]
        opposite = {"a": "b", "b": "a"}.get(rigged, rigged)
        outcome = next((o for o in (rigged, "tie") if self._safe(rating, a, b, o)), opposite)
        for model, opponent, seat in ((a, b, "a"), (b, a, "b")):
            got = 1.0 if outcome == seat else 0.0 if outcome in ("a", "b") else 0.5
            self.history[model].append((opponent, got))
        return outcome


def attacker_forget() -> None:
    """Drop the last attack's battles, votes and exclusions; the honest votes stay."""
    from django.db.models import Q

    from apps.arena.models import Battle, Exclusion
    from rival.web import visitors

    Battle.objects.filter(session_key__startswith="attacker-").delete()
    network_hash = visitors.ip_hash(f"{ATTACK_NETWORK}::1", purpose="arena")
    Exclusion.objects.filter(Q(value__startswith="attacker-") | Q(value=network_hash)).delete()


def honest_state(model_ids: list[int]) -> tuple[float, list[int]]:
    """The honest electorate, cast once with the defences on; returns the share excluded and
    the excluded votes."""
    from apps.arena.models import Vote

    defences_set(True)
    arena = Arena(model_ids)
    started = time.perf_counter()
    honest = honest_electorate(arena, np.random.default_rng(SEED))
    arena.recompute()
    dropped = list(
        Vote.objects.filter(pk__in=honest, is_counted=False).values_list("pk", flat=True)
    )
    excluded = len(dropped) / len(honest)
    why = (
        Vote.objects.filter(pk__in=dropped)
        .order_by()
        .values_list("excluded_rule", "exclusion__kind")
        .annotate(n=Count("pk"))
    )
    rated = fitted(model_ids)
    global TARGET, NEIGHBOUR
    by_rating = [int(i) for i in np.argsort(-rated)]
    NEIGHBOUR, TARGET = by_rating[2], by_rating[3]
    print(
        f"{len(honest):,} honest votes, {excluded:.2%} of them excluded by the defences"
        f"{' (' + ', '.join(f'{r} by {k or "vote"} {n}' for r, k, n in why) + ')' if why else ''}; "
        f"target M{TARGET} {rated[TARGET]:.0f} vs neighbour M{NEIGHBOUR} {rated[NEIGHBOUR]:.0f} "
        f"[{time.perf_counter() - started:.0f} s]"
    )
    return excluded, dropped


def run(model_ids: list[int], defences: bool, honest_dropped: list[int]) -> dict[str, dict]:
    """Each strategy in turn from the honest state; prints one line per strategy."""
    from apps.arena.models import Vote

    defences_set(defences)
    # The rules decide only whether a vote counts: with them off, every honest vote does.
    Vote.objects.filter(pk__in=honest_dropped).update(is_counted=defences)
    arena = Arena(model_ids)
    rng = np.random.default_rng(SEED + 1)
    print(f"defences {'on' if defences else 'off'}:")
    results = {}
    # Without defences there is nothing to hide from: stealth is measured against the
    # undefended omnipresent attack.
    for strategy in STRATEGIES if defences else STRATEGIES[:2]:
        started = time.perf_counter()
        found = results[strategy] = attack(arena, rng, model_ids, strategy)
        attacker_forget()
        arena.since_recompute = 0
        arena.recompute()  # the honest ratings again
        if found["needed"]:
            verdict = f"lifted after {found['needed']:,} attacker votes"
        elif found["excluded_after"] and not ATTACK_FULL:
            verdict = (
                f"never: its network was excluded after {found['excluded_after']:,} votes, "
                f"so none of its later votes can count (“{found['reason']}”)"
            )
        else:
            verdict = f"NOT lifted in {found['cast']:,} attacker votes"
        rules = ", ".join(f"{rule} {n:,}" for rule, n in sorted(found["rules"].items()))
        print(
            f"  {strategy:<12} {verdict} ({found['counted']:,} of {found['cast']:,} counted"
            f"{'; excluded: ' + rules if rules else ''}) [{time.perf_counter() - started:.0f} s]"
        )
    return results


def main() -> None:
    from apps.arena.services.battles import battle_pool_invalidate

    began = time.perf_counter()
    setup_test_environment()
    if connection.vendor != "postgresql":
        raise SystemExit("bench_rigging needs PostgreSQL: set DATABASE_URL=postgres://…")
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"bench_rigging_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        model_ids = populate()
        battle_pool_invalidate()  # candidates cached by an earlier run are of another database
        print(
            f"{len(model_ids)} models (Elo {', '.join(f'{s:.0f}' for s in STRENGTHS)}), "
            f"M0–M5 by true strength; {HONEST_VOTES:,} honest votes"
        )
        excluded, dropped = honest_state(model_ids)
        off = run(model_ids, defences=False, honest_dropped=dropped)
        on = run(model_ids, defences=True, honest_dropped=dropped)
        for strategy in STRATEGIES:
            needed_off = off[strategy if strategy in off else "omnipresent"]["needed"]
            found = on[strategy]
            if found["needed"] is None and found["excluded_after"] and not ATTACK_FULL:
                after = found["excluded_after"]
                verdict, met = f"never (its network stops counting after {after:,} votes)", True
            elif found["needed"] is None and found["cast"] >= ATTACK_MAX:
                verdict, met = f"never within {ATTACK_MAX:,} votes", True
            elif found["needed"] is None:
                ratio = found["cast"] / needed_off if needed_off else math.inf
                verdict = f"not within {found['cast']:,} votes: over {ratio:.0f}x more"
                met = ratio >= 10
            else:
                ratio = found["needed"] / needed_off if needed_off else math.inf
                verdict, met = f"{ratio:.1f}x more attacker votes", ratio >= 10
            outcome = "met" if met else "MISSED"
            print(f"{strategy}: with the defences on, {verdict} — target >= 10x: {outcome}")
        print(
            f"honest votes wrongly excluded: {excluded:.2%} — target <= 1%: "
            f"{'met' if excluded <= 0.01 else 'MISSED'}"
        )
        print(f"total {time.perf_counter() - began:.0f} s")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
