"""Reliability over a real Redis broker, real worker processes and a real HTTP fake provider.

Workers run the threads pool (what production uses, see README) with short backoffs and
leases so recovery happens within the test's deadlines.
"""

import signal
from collections import Counter

import pytest
from django.db.models import Count

from apps.collection.models import CollectionJob, CollectionRun
from apps.collection.services import run_create
from apps.responses.models import Response
from tests.factories import AIModelFactory, ChallengeFactory
from tests.utils import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FAST_RETRIES = {
    "COLLECTION_BACKOFF_BASE": "0.2",
    "COLLECTION_BACKOFF_MAX": "1",
    "COLLECTION_REQUEST_TIMEOUT": "1",
    "COLLECTION_MAX_ATTEMPTS": "10",
}
FULL_ANSWER_END = "you asked for."


def pairs(gateway, models: int, challenges: int, prompt: str = "Question {i}"):
    ai_models = [
        AIModelFactory(gateway=gateway, gateway_model_id=f"acme/m{i}") for i in range(models)
    ]
    chosen = [ChallengeFactory(prompt=prompt.format(i=i)) for i in range(challenges)]
    return ai_models, chosen


def start_run(challenges) -> CollectionRun:
    return run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=challenges)


def run_state(run) -> str:
    return CollectionRun.objects.get(pk=run.pk).state


def assert_exactly_one_full_response_per_pair(expected: int):
    assert Response.objects.count() == expected
    doubled = Response.objects.values("model", "challenge").annotate(n=Count("id")).filter(n__gt=1)
    assert not doubled.exists()
    assert all(
        c.endswith(FULL_ANSWER_END) for c in Response.objects.values_list("content", flat=True)
    )


def test_200_jobs_with_transient_faults_give_exactly_200_responses(
    celery_worker_process, fake_provider, make_gateway
):
    fake = fake_provider(
        faults="429=0.02,500=0.03,malformed=0.02,cut=0.02,timeout=0.01", seed=6, retry_after=0.3
    )
    gateway = make_gateway(fake)
    _, challenges = pairs(gateway, models=20, challenges=10)
    celery_worker_process("--pool", "threads", "--concurrency", "8", env=FAST_RETRIES)

    run = start_run(challenges)

    wait_for(lambda: run_state(run) == CollectionRun.State.FINISHED, timeout=90, interval=0.2)
    assert_exactly_one_full_response_per_pair(200)
    assert run.jobs.filter(state=CollectionJob.State.DONE).count() == 200
    faults = Counter(r.fault for r in fake.requests() if r.fault)
    assert sum(faults.values()) >= 10, faults


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(
    celery_worker_process, fake_provider, make_gateway, tmp_path, settings
):
    # Messages the killed worker had reserved but not started die with it (Redis brings them
    # back only after its visibility timeout): their jobs are requeued once the queue lease,
    # set when the run is created, runs out.
    settings.COLLECTION_QUEUE_LEASE = 3
    fake = fake_provider(latency=0.05, faults="500=0.05", seed=3)
    gateway = make_gateway(fake)
    _, challenges = pairs(gateway, models=20, challenges=10)
    # Short leases: a job claimed by the killed worker counts as lost after 3 s.
    leases = {**FAST_RETRIES, "COLLECTION_JOB_LEASE": "3", "COLLECTION_QUEUE_LEASE": "3"}
    first = celery_worker_process("--pool", "threads", "--concurrency", "4", env=leases)

    run = start_run(challenges)
    wait_for(lambda: Response.objects.count() >= 40, timeout=60)
    first.stop(signal.SIGKILL)
    killed_at = Response.objects.count()
    # The next worker also runs beat (-B), whose requeue_stale_jobs recovers the lost jobs.
    second = celery_worker_process(
        "--pool",
        "threads",
        "--concurrency",
        "4",
        "-B",
        "--schedule",
        str(tmp_path / "beat-schedule"),
        env={**leases, "COLLECTION_REQUEUE_INTERVAL": "1", "RIVAL_VAR_DIR": str(tmp_path)},
    )

    try:
        wait_for(lambda: run_state(run) == CollectionRun.State.FINISHED, timeout=60, interval=0.2)
    except AssertionError:
        print("".join(second.log[-80:]))  # shown by pytest on failure
        raise
    assert killed_at < 200
    assert_exactly_one_full_response_per_pair(200)


def test_429_retry_waits_at_least_the_retry_after(
    celery_worker_process, fake_provider, make_gateway
):
    fake = fake_provider(retry_after=2)
    gateway = make_gateway(fake)
    _, challenges = pairs(gateway, models=1, challenges=1, prompt="Slow down [[fault:429:1]]")
    celery_worker_process("--pool", "threads", "--concurrency", "2", env=FAST_RETRIES)

    run = start_run(challenges)

    wait_for(lambda: run_state(run) == CollectionRun.State.FINISHED, timeout=30)
    first, second = fake.requests()
    assert (first.status, second.status) == (429, 200)
    assert second.t - first.t >= 2.0
    assert_exactly_one_full_response_per_pair(1)


def test_malformed_json_and_cut_streams_are_retried_and_never_stored_half(
    celery_worker_process, fake_provider, make_gateway
):
    fake = fake_provider()
    gateway = make_gateway(fake)
    ai_models, _ = pairs(gateway, models=1, challenges=0)
    recovering = [
        ChallengeFactory(prompt="Tell me [[fault:malformed:2]]"),
        ChallengeFactory(prompt="Tell me more [[fault:cut:2]]"),
    ]
    never = ChallengeFactory(prompt="Never whole [[fault:cut]]")
    env = {**FAST_RETRIES, "COLLECTION_MAX_ATTEMPTS": "3"}
    celery_worker_process("--pool", "threads", "--concurrency", "4", env=env)

    run = start_run([*recovering, never])

    wait_for(lambda: run_state(run) == CollectionRun.State.FINISHED, timeout=60)
    assert_exactly_one_full_response_per_pair(2)
    assert not Response.objects.filter(challenge=never).exists()
    failed = run.jobs.get(challenge=never)
    assert failed.state == CollectionJob.State.FAILED
    assert (
        failed.attempts == 3
        and "cut short" in failed.last_error
        or "Connection" in failed.last_error
    )
    attempts = Counter(r.prompt_sha for r in fake.requests())
    assert sorted(attempts.values()) == [3, 3, 3]
    assert ai_models


def test_401_fails_the_run_with_the_message_and_no_retry_storm(
    celery_worker_process, fake_provider, make_gateway
):
    fake = fake_provider(faults="401=1")
    gateway = make_gateway(fake, max_concurrency=2)
    _, challenges = pairs(gateway, models=5, challenges=4)
    celery_worker_process("--pool", "threads", "--concurrency", "2", env=FAST_RETRIES)

    run = start_run(challenges)

    wait_for(lambda: run_state(run) == CollectionRun.State.FAILED, timeout=30)
    run.refresh_from_db()
    assert "Invalid API key provided" in run.error
    wait_for(lambda: not run.jobs.filter(state__in=["pending", "running"]).exists(), timeout=30)
    requests = fake.requests()
    assert len(requests) <= 4, "one refused call per worker slot at most, never 20"
    assert all(r.attempt == 1 for r in requests)
    assert Response.objects.count() == 0


def test_rate_limit_holds_across_two_worker_processes(
    celery_worker_process, fake_provider, make_gateway
):
    limit = 5
    fake = fake_provider()
    gateway = make_gateway(fake, requests_per_second=limit, max_concurrency=8)
    _, challenges = pairs(gateway, models=6, challenges=4)
    celery_worker_process("--pool", "threads", "--concurrency", "4", env=FAST_RETRIES)
    celery_worker_process("--pool", "threads", "--concurrency", "4", env=FAST_RETRIES)

    run = start_run(challenges)

    wait_for(lambda: run_state(run) == CollectionRun.State.FINISHED, timeout=60, interval=0.2)
    assert_exactly_one_full_response_per_pair(24)
    arrivals = sorted(r.t for r in fake.requests())
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1) for start in arrivals)
    print(
        [round(t - arrivals[0], 3) for t in arrivals],
        [(r.attempt, r.status) for r in fake.requests()],
    )
    assert busiest <= limit
