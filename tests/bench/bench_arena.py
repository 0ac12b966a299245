"""Arena round-trip benchmark: server time of a battle (GET) plus a vote (POST), one client.

Run with `make bench` (or `uv run python -m tests.bench.bench_arena`). On bench_pages' large
dataset (same database, same builder: 300 models, 200 challenges, 40k responses, 1M votes)
it drives Django's test client in this process with production settings (`rival.settings`,
DEBUG=0, the Redis cache in CACHE_URL or REDIS_URL under a key prefix of its own, the page
cache off — the arena is never cached anyway — and the arena's rate limits lifted: one
client asks for more than they allow). Each round trip is what a visitor's browser does:

1. GET /arena/ — a battle is issued (the pool, 48 candidate pairs weighed by their votes and
   ratings, the page rendered);
2. the battle's `created_at` is moved back 60 s (not timed): the visitor read both answers,
   so the vote takes the path most votes take (not "too fast", the daily and one-sided
   rules all run), as bench_rigging simulates its clock;
3. POST /arena/vote/ with a random outcome — the vote stored, the exclusion rules applied,
   the reveal rendered.

It runs BENCH_ARENA_TRIPS round trips (default 50, after 3 warm-up trips) in the htmx flow
(`HX-Request`: the partial, as the page's buttons do once JavaScript runs) and again as
plain full pages (no JavaScript), each from a fresh session and a random address, and prints
per request the p50 of the wall time through the whole middleware stack (the server time,
without a network), the p50 of CPU time (time.process_time) and the queries of one request,
then the round trip's p50 against the budget (issue 16: ≤ 25 ms) and the load average.

bench_pages' dataset has released every response, so the blind pool is empty: for the run,
BENCH_ARENA_CHALLENGES challenges (default 40, ~8,000 responses) are made arena-only, which
puts their responses in the pool. It also writes battles, votes and sometimes an exclusion
(the one-sided rule); all of it is undone when done, so bench_pages finds its dataset as it
left it. Do not point it
at a database others read while it runs; measure on a copy
(`createdb -T rival_perf_bench rival_<you>_bench`, BENCH_DATABASE_URL).
"""

import os
import re
import secrets
import statistics
import time
from datetime import timedelta

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rival.settings")
os.environ.setdefault("CACHE_URL", os.environ["REDIS_URL"])
os.environ.update(
    {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CACHE_KEY_PREFIX": f"rival-bench-arena-{secrets.token_hex(4)}",
        "RIVAL_PLAIN_STATIC": "1",
        "ALLOWED_HOSTS": "testserver",
        "PAGE_CACHE_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
)
for limit in ("RATE_LIMIT_SESSION", "RATE_LIMIT_IP", "ISSUE_LIMIT_SESSION", "ISSUE_LIMIT_IP"):
    os.environ[f"ARENA_{limit}"] = "1000000000/60"

from tests.bench import bench_pages as pages  # noqa: E402  (sets up Django on the bench DB)

# isort: split

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.arena.models import Battle, Exclusion, Vote  # noqa: E402
from apps.challenges.models import Challenge  # noqa: E402
from tests.bench.pages_dataset import dataset_build  # noqa: E402

TRIPS = int(os.environ.get("BENCH_ARENA_TRIPS", "50"))
POOL_CHALLENGES = int(os.environ.get("BENCH_ARENA_CHALLENGES", "40"))
WARMUP = 10
BUDGET_MS = 25
TOKEN = re.compile(rb'name="battle" value="([^"]+)"')
OUTCOMES = ("a", "b", "tie", "both_bad")


class Visitor:
    """One browser: its own session and address; records every battle and vote it made."""

    def __init__(self, htmx: bool):
        address = (
            f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        )
        self.client = Client(REMOTE_ADDR=address, headers={"HX-Request": "true"} if htmx else {})
        self.battles: list[int] = []

    def battle(self) -> str:
        page = self.client.get("/arena/")
        found = TOKEN.search(page.content)
        if page.status_code != 200 or found is None:
            raise SystemExit(f"GET /arena/ gave {page.status_code} and no battle to vote on")
        return found[1].decode()

    def read(self, token: str) -> None:
        battle = Battle.objects.get(token=token)
        self.battles.append(battle.pk)
        Battle.objects.filter(pk=battle.pk).update(
            created_at=timezone.now() - timedelta(seconds=60)
        )

    def vote(self, token: str) -> None:
        outcome = OUTCOMES[secrets.randbelow(len(OUTCOMES))]
        answer = self.client.post("/arena/vote/", {"battle": token, "outcome": outcome})
        if answer.status_code != 200 or b"You voted" not in answer.content:
            raise SystemExit(f"POST /arena/vote/ gave {answer.status_code} without a reveal")


def timed(call, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = call(*args)
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def queries_of(call, *args) -> tuple[object, int]:
    """`call`'s result and its queries (transaction control, which Django logs too, left out)."""
    with CaptureQueriesContext(connection) as captured:
        result = call(*args)
    queries = [q for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]
    return result, len(queries)


def run(visitor: Visitor) -> dict:
    for _ in range(WARMUP):
        token = visitor.battle()
        visitor.read(token)
        visitor.vote(token)
    token, get_queries = queries_of(visitor.battle)
    visitor.read(token)
    _, post_queries = queries_of(visitor.vote, token)
    samples = {"get": [], "post": [], "get cpu": [], "post cpu": [], "trip": []}
    for _ in range(TRIPS):
        token, get_ms, get_cpu = timed(visitor.battle)
        visitor.read(token)
        _, post_ms, post_cpu = timed(visitor.vote, token)
        for name, value in (
            ("get", get_ms),
            ("post", post_ms),
            ("get cpu", get_cpu),
            ("post cpu", post_cpu),
            ("trip", get_ms + post_ms),
        ):
            samples[name].append(value)
    p50 = {name: statistics.median(values) for name, values in samples.items()}
    p50["trip p90"] = statistics.quantiles(samples["trip"], n=10)[-1]
    return {"p50": p50, "queries": (get_queries, post_queries)}


def pool_open() -> list[int]:
    """Make POOL_CHALLENGES of the dataset's challenges arena-only (their responses join the
    blind pool); returns the ones changed, for pool_close."""
    ids = list(
        Challenge.objects.filter(slug__startswith="gen-", arena_only=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:POOL_CHALLENGES]
    )
    Challenge.objects.filter(pk__in=ids).update(arena_only=True)
    return ids


def pool_close(ids: list[int]) -> None:
    Challenge.objects.filter(pk__in=ids).update(arena_only=False)


def clean(visitors: list[Visitor]) -> None:
    """Delete what the run wrote: its battles, their votes, exclusions of its sessions."""
    battle_ids = [pk for visitor in visitors for pk in visitor.battles]
    sessions = list(
        Battle.objects.filter(pk__in=battle_ids).values_list("session_key", flat=True).distinct()
    )
    hashes = list(
        Vote.objects.filter(battle_id__in=battle_ids).values_list("ip_hash", flat=True).distinct()
    )
    Exclusion.objects.filter(value__in=sessions + hashes).delete()
    Vote.objects.filter(battle_id__in=battle_ids).delete()
    Battle.objects.filter(session_key__in=sessions).delete()


def main() -> None:
    dataset_build(recreate_database=pages.recreate_database)
    print(
        f"{TRIPS} round trips per flow after {WARMUP} warm-up ones, one client, DEBUG=0, "
        f"Redis cache; server time = the whole request in-process, no network"
    )
    visitors = []
    opened = pool_open()
    try:
        for flow, htmx in (("htmx", True), ("full page", False)):
            visitor = Visitor(htmx)
            visitors.append(visitor)
            result = run(visitor)
            p50, (get_q, post_q) = result["p50"], result["queries"]
            verdict = "met" if p50["trip"] <= BUDGET_MS else "missed"
            print(
                f"{flow:>9}: battle GET p50 {p50['get']:5.1f} ms (cpu {p50['get cpu']:4.1f}, "
                f"{get_q} queries) · vote POST p50 {p50['post']:5.1f} ms "
                f"(cpu {p50['post cpu']:4.1f}, {post_q} queries) · round trip p50 "
                f"{p50['trip']:5.1f} ms, p90 {p50['trip p90']:5.1f} ms — budget "
                f"{BUDGET_MS} ms {verdict}"
            )
    finally:
        clean(visitors)
        pool_close(opened)
    one, five, fifteen = os.getloadavg()
    print(f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}")


if __name__ == "__main__":
    main()
