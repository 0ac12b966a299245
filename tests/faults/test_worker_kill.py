"""Collection workers SIGKILLed twice in the middle of a run: every (model, challenge) pair
still ends with exactly one complete response — nothing lost, doubled or half-written."""

import signal
import time

import pytest
from django.db.models import Count

from apps.collection.models import CollectionRun
from apps.responses.models import Response
from tests.collection.test_reliability import FULL_ANSWER_END, pairs, run_state, start_run
from tests.faults.conftest import report, sized
from tests.utils import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_two_worker_kills_mid_run_lose_double_and_truncate_nothing(
    celery_worker_process, fake_provider, make_gateway, tmp_path, settings
):
    models, challenges = sized((10, 10), (40, 25))
    jobs = models * challenges
    # Jobs claimed or reserved by a killed worker count as lost after 3 s; beat (-B, on every
    # replacement worker) requeues them every second.
    settings.COLLECTION_QUEUE_LEASE = 3
    env = {
        "COLLECTION_BACKOFF_BASE": "0.2",
        "COLLECTION_BACKOFF_MAX": "1",
        "COLLECTION_REQUEST_TIMEOUT": "5",
        "COLLECTION_JOB_LEASE": "3",
        "COLLECTION_QUEUE_LEASE": "3",
        "COLLECTION_REQUEUE_INTERVAL": "1",
        "RIVAL_VAR_DIR": str(tmp_path),
    }
    fake = fake_provider(latency=0.05, seed=11)
    gateway = make_gateway(fake)
    _, chosen = pairs(gateway, models=models, challenges=challenges)

    def worker(n: int):
        beat = ["-B", "--schedule", str(tmp_path / f"beat-{n}")] if n else []
        return celery_worker_process("--pool", "threads", "--concurrency", "8", *beat, env=env)

    current = worker(0)
    started = time.monotonic()
    run = start_run(chosen)
    killed_at = []
    for n in (1, 2):
        wait_for(lambda n=n: Response.objects.count() >= jobs * n // 3, timeout=sized(120, 600))
        current.stop(signal.SIGKILL)
        killed_at.append(Response.objects.count())
        current = worker(n)
    wait_for(
        lambda: run_state(run) == CollectionRun.State.FINISHED,
        timeout=sized(180, 900),
        interval=0.5,
    )
    seconds = time.monotonic() - started

    stored = Response.objects.count()
    doubled = (
        Response.objects.values("model", "challenge").annotate(n=Count("id")).filter(n__gt=1)
    ).count()
    partial = sum(
        not content.endswith(FULL_ANSWER_END)
        for content in Response.objects.values_list("content", flat=True)
    )
    pairs_stored = Response.objects.values("model", "challenge").distinct().count()
    report(
        "worker-sigkill",
        jobs=jobs,
        provider_requests=len(fake.requests()),
        killed_at=killed_at,
        lost=jobs - pairs_stored,
        doubled=doubled,
        partial=partial,
        seconds=round(seconds, 1),
    )
    assert killed_at[0] < killed_at[1] < jobs
    assert (stored, pairs_stored, doubled, partial) == (jobs, jobs, 0, 0)
