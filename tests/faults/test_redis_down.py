"""Redis stopped under a running site: pages are still served (computed, uncached), votes are
still stored (rate limits let them through), nothing answers 500, and when Redis is back the
site uses it again without a restart. /healthz is the one page that says 503 meanwhile."""

import subprocess
import sys
import time

import pytest
from django.db.models import Count

from apps.arena.models import Vote
from apps.collection.models import CollectionJob, CollectionRun
from apps.responses.models import Response
from tests.collection.test_reliability import FULL_ANSWER_END, pairs, run_state
from tests.conftest import ROOT, _database_url_of_test_db
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory
from tests.faults.conftest import Visitor, report, sized
from tests.utils import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/models/",
    "/challenges/",
    "/leaderboard/",
    "/compare/alpha-vs-bravo/",
    "/sitemap.xml",
    "/sitemap-models.xml?p=1&junk=2",
]


def some_answers():
    alpha = AIModelFactory(slug="alpha")
    bravo = AIModelFactory(slug="bravo")
    for _ in range(3):
        challenge = ChallengeFactory()
        for model in (alpha, bravo):
            ResponseFactory(model=model, challenge=challenge, blind=True)


def browse_and_vote(visitor: Visitor, rounds: int) -> dict:
    statuses: list[int] = []
    votes = 0
    for _ in range(rounds):
        statuses += [visitor.get(path).status_code for path in PAGES]
        page, vote = visitor.battle_and_vote()
        statuses += [page, vote]
        votes += vote == 200
    return {"requests": len(statuses), "errors": sum(s != 200 for s in statuses), "votes": votes}


def test_pages_and_votes_survive_redis_going_down_and_coming_back(redis_server, gunicorn):
    some_answers()
    redis = redis_server()
    site = gunicorn(
        database_url=_database_url_of_test_db(), redis_url=redis.url(0), cache_url=redis.url(1)
    )
    visitor = Visitor(site.url)
    rounds = sized(3, 20)

    before = browse_and_vote(visitor, rounds)
    redis.stop()
    started = time.monotonic()
    down = browse_and_vote(visitor, rounds)
    down_seconds = time.monotonic() - started
    health_while_down = visitor.get("/healthz").status_code

    redis.start()
    back_at = time.monotonic()
    wait_for(lambda: visitor.get("/healthz").status_code == 200, timeout=15, interval=0.2)
    recovery = time.monotonic() - back_at
    after = browse_and_vote(visitor, rounds)
    visitor.close()

    answered = before["votes"] + down["votes"] + after["votes"]
    stored = Vote.objects.count()
    report(
        "redis-down",
        requests=before["requests"] + down["requests"] + after["requests"],
        errors=before["errors"] + down["errors"] + after["errors"],
        votes=answered,
        lost=max(0, answered - stored),
        doubled=max(0, stored - answered),
        seconds_per_request_down=round(down_seconds / down["requests"], 3),
        recovery_seconds=round(recovery, 1),
    )
    assert before["errors"] == down["errors"] == after["errors"] == 0
    assert down["votes"] == rounds
    assert stored == answered == 3 * rounds
    assert health_while_down == 503


@pytest.mark.worker
def test_collection_pauses_while_redis_is_away_and_resumes_with_nothing_lost_or_doubled(
    redis_server, celery_worker_process, fake_provider, make_gateway, tmp_path
):
    """A real worker (with beat) on a throwaway Redis as broker; a run started as an operator
    starts one (`manage.py collect`). Redis is killed mid-run and comes back empty (compose
    runs it without persistence, so queued messages are gone): stored answers stop growing
    while it is away, and once it is back the run finishes with exactly one complete response
    per (model, challenge) pair and one provider call per job."""
    models, challenges = sized((8, 8), (20, 20))
    jobs = models * challenges
    redis = redis_server()
    fake = fake_provider(latency=0.1, seed=17)
    gateway = make_gateway(fake)
    pairs(gateway, models=models, challenges=challenges)
    # Short leases: a job whose message died with Redis is requeued by beat 3 s after its
    # queue lease (production: half an hour), one whose task failed on Redis 10 s after it was
    # claimed (production: the task time limit + a minute).
    env = {
        "REDIS_URL": redis.url(0),
        "CACHE_URL": redis.url(1),
        "COLLECTION_BACKOFF_BASE": "0.2",
        "COLLECTION_BACKOFF_MAX": "1",
        "COLLECTION_REQUEST_TIMEOUT": "5",
        "COLLECTION_JOB_LEASE": "10",
        "COLLECTION_QUEUE_LEASE": "3",
        "COLLECTION_REQUEUE_INTERVAL": "1",
        "RIVAL_VAR_DIR": str(tmp_path),
    }
    worker = celery_worker_process(
        "--pool", "threads", "--concurrency", "4", "-B", "--schedule", str(tmp_path / "beat"),
        env=env,
    )  # fmt: skip

    def wait(condition, timeout: float, waiting_for: str) -> None:
        try:
            wait_for(condition, timeout=timeout, interval=0.2)
        except AssertionError:
            print(f"waited {timeout} s for {waiting_for}; the worker's log:")
            print("".join(worker.log[-150:]))  # shown by pytest on failure
            raise

    started = time.monotonic()
    collect = subprocess.run(
        [sys.executable, "manage.py", "collect", "--missing"],
        cwd=ROOT,
        env={**worker.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collect.returncode == 0, collect.stderr[-2000:]
    run = CollectionRun.objects.get()
    assert run.jobs.count() == jobs

    wait(lambda: Response.objects.count() >= jobs // 3, sized(60, 300), "a third of the answers")
    redis.stop()
    down_at = time.monotonic()
    # Paused: once the calls in flight have ended, no new answer is stored while Redis is away
    # (no gateway slot, no broker), for `outage` seconds in a row.
    outage = sized(5, 15)
    flat = {"count": -1, "since": 0.0}

    def paused() -> bool:
        count, now = Response.objects.count(), time.monotonic()
        if count != flat["count"]:
            flat.update(count=count, since=now)
        return now - flat["since"] >= outage

    wait(paused, outage + 30, "the pause")
    stored_while_down = flat["count"]
    assert stored_while_down < jobs
    down_seconds = time.monotonic() - down_at

    redis.start()
    back_at = time.monotonic()
    # The worker's broker reconnects back off up to 30 s between tries; two of those, and beat's
    # requeue, fit in this bound with room for a busy machine.
    wait(lambda: Response.objects.count() > stored_while_down, 120, "a new answer")
    recovery = time.monotonic() - back_at
    wait(lambda: run_state(run) == CollectionRun.State.FINISHED, sized(120, 600), "the run's end")
    seconds = time.monotonic() - started

    doubled = (
        Response.objects.values("model", "challenge").annotate(n=Count("id")).filter(n__gt=1)
    ).count()
    partial = sum(
        not content.endswith(FULL_ANSWER_END)
        for content in Response.objects.values_list("content", flat=True)
    )
    pairs_stored = Response.objects.values("model", "challenge").distinct().count()
    done = run.jobs.filter(state=CollectionJob.State.DONE).count()
    provider_requests = len(fake.requests())
    report(
        "redis-down-collection",
        jobs=jobs,
        provider_requests=provider_requests,
        paid_twice=provider_requests - jobs,
        stored_when_killed=stored_while_down,
        lost=jobs - pairs_stored,
        doubled=doubled,
        partial=partial,
        down_seconds=round(down_seconds, 1),
        recovery_seconds=round(recovery, 1),
        seconds=round(seconds, 1),
    )
    assert (Response.objects.count(), pairs_stored, doubled, partial) == (jobs, jobs, 0, 0)
    assert done == jobs
    # Calls in flight when Redis went away kept their answers: none was asked (and paid) twice.
    assert provider_requests == jobs
