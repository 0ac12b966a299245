"""Run job loops (tasks.collect_run_jobs): a run sends one broker message per call it can have
in flight, not one per job, and each loop takes the run's jobs one after another."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.catalog.models import Gateway
from apps.collection.models import CollectionJob, CollectionRun
from apps.collection.services import (
    calls_at_once,
    job_claim_next,
    run_cancel,
    run_create,
)
from apps.collection.tasks import collect_run_jobs
from apps.responses.models import Response
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory
from tests.utils import wait_for


def make_run(gateway, *, models=2, challenges=3, prompt="Question {i}?") -> CollectionRun:
    for _ in range(models):
        AIModelFactory(gateway=gateway)
    chosen = [
        ChallengeFactory(prompt=prompt.format(i=i), is_published=True) for i in range(challenges)
    ]
    return run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=chosen)


def test_calls_at_once_is_each_gateways_cap_or_its_calls_whichever_is_smaller(db):
    narrow = Gateway.objects.create(name="narrow", max_concurrency=2)
    wide = Gateway.objects.create(name="wide", max_concurrency=8)
    calls = [narrow] * 5 + [wide] * 3 + [None]
    # narrow: 2 of its 5 at once; wide: all 3; a model without a gateway fails on its own.
    assert calls_at_once(calls) == 2 + 3 + 1
    assert calls_at_once([]) == 0


def test_one_loop_collects_every_job_of_its_run_and_finishes_it(db, fake_provider, make_gateway):
    fake = fake_provider()
    run = make_run(make_gateway(fake))

    claimed = collect_run_jobs.apply(args=[run.pk]).get()

    assert claimed == 6
    assert Response.objects.filter(collection_jobs__run=run).count() == 6
    assert set(run.jobs.values_list("state", flat=True)) == {CollectionJob.State.DONE}
    assert len(fake.requests("/v1/chat/completions")) == 6
    run.refresh_from_db()
    assert run.state == CollectionRun.State.FINISHED and run.finished_at is not None
    # A loop arriving after the run is over finds nothing and calls nobody.
    assert collect_run_jobs.apply(args=[run.pk]).get() == 0
    assert len(fake.requests("/v1/chat/completions")) == 6


def test_a_transient_failure_is_put_back_for_its_own_retry_and_the_loop_goes_on(
    db, fake_provider, make_gateway
):
    fake = fake_provider()
    gateway = make_gateway(fake)
    model = AIModelFactory(gateway=gateway)
    # A 429 with Retry-After: 2, so the job is not due again while the loop still runs.
    failing = ChallengeFactory(prompt="Fails once [[fault:429:1]]", is_published=True)
    fine = [ChallengeFactory(prompt=f"Fine {i}", is_published=True) for i in range(2)]
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[failing, *fine])

    before = timezone.now()
    claimed = collect_run_jobs.apply(args=[run.pk]).get()

    assert claimed == 3
    assert Response.objects.filter(model=model, challenge__in=fine).count() == 2
    deferred = run.jobs.get(challenge=failing)
    assert deferred.state == CollectionJob.State.PENDING and deferred.attempts == 1
    assert deferred.last_error
    # Claimable again only after its backoff; until then the run is not finished.
    assert deferred.not_before > before + timedelta(seconds=2)
    run.refresh_from_db()
    assert run.state == CollectionRun.State.RUNNING


def test_a_refused_call_stops_the_run_before_the_job_claimed_ahead_is_sent(
    db, fake_provider, make_gateway
):
    # The loop claims its next job while a call is out; when that call is refused (401), the
    # run fails before the next call would start, and the job claimed ahead is cancelled.
    fake = fake_provider()
    model = AIModelFactory(gateway=make_gateway(fake, max_concurrency=1))
    refused = ChallengeFactory(prompt="Who am I? [[fault:401]]", is_published=True)
    later = [ChallengeFactory(prompt=f"Later {i}", is_published=True) for i in range(3)]
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[refused, *later])

    assert collect_run_jobs.apply(args=[run.pk]).get() == 2

    assert len(fake.requests("/v1/chat/completions")) == 1
    run.refresh_from_db()
    assert run.state == CollectionRun.State.FAILED and "Invalid API key" in run.error
    states = dict(run.jobs.values_list("challenge_id", "state"))
    assert states.pop(refused.pk) == CollectionJob.State.FAILED
    assert set(states.values()) == {CollectionJob.State.CANCELLED}
    assert not Response.objects.filter(model=model).exists()


def test_a_pair_answered_meanwhile_is_settled_by_the_loop_without_a_call(
    db, fake_provider, make_gateway
):
    fake = fake_provider()
    model = AIModelFactory(gateway=make_gateway(fake))
    challenges = [ChallengeFactory(prompt=f"Q {i}", is_published=True) for i in range(3)]
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=challenges)
    # Stored after the run was planned (another run, an import): the job finds it at its claim.
    existing = ResponseFactory(model=model, challenge=challenges[1])

    assert collect_run_jobs.apply(args=[run.pk]).get() == 3

    assert len(fake.requests("/v1/chat/completions")) == 2
    assert run.jobs.get(challenge=challenges[1]).response_id == existing.pk
    assert set(run.jobs.values_list("state", flat=True)) == {CollectionJob.State.DONE}
    assert Response.objects.filter(model=model).count() == 3
    run.refresh_from_db()
    assert run.state == CollectionRun.State.FINISHED


def test_a_job_claimed_ahead_holds_a_lease_of_two_calls(db, settings):
    # It waits for at most the rest of the loop's current call, then makes its own: a lease
    # of one call could run out while it waits, and the job be sent a second time.
    settings.COLLECTION_JOB_LEASE = 100
    AIModelFactory()  # on the demo gateway
    challenges = [ChallengeFactory(is_published=True) for _ in range(2)]
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=challenges)

    before = timezone.now()
    now_job = job_claim_next(run.pk)
    ahead_job = job_claim_next(run.pk, ahead=True)
    after = timezone.now()

    assert before + timedelta(seconds=100) <= now_job.lease_until <= after + timedelta(seconds=100)
    assert before + timedelta(seconds=200) <= ahead_job.lease_until
    assert ahead_job.lease_until <= after + timedelta(seconds=200)


def test_a_cancelled_run_gives_its_loops_nothing(db, fake_provider, make_gateway):
    fake = fake_provider()
    run = make_run(make_gateway(fake))
    run_cancel(run)

    assert collect_run_jobs.apply(args=[run.pk]).get() == 0
    assert fake.requests("/v1/chat/completions") == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_loops_each_claim_a_different_job(fake_provider, make_gateway):
    run = make_run(make_gateway(fake_provider()), models=4, challenges=10)
    claims: list[int] = []
    lock = threading.Lock()

    def loop():
        try:
            while (job := job_claim_next(run.pk)) is not None:
                with lock:
                    claims.append(job.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=loop) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(claims) == sorted(run.jobs.values_list("pk", flat=True))
    assert run.jobs.filter(state=CollectionJob.State.RUNNING, attempts=1).count() == 40


@pytest.mark.django_db(transaction=True)
def test_a_loop_claims_its_next_job_while_its_call_is_out(fake_provider, make_gateway):
    # One slot, so one loop; the provider takes a second per answer. The loop's database work
    # happens while its call is out, so the next call can start as soon as this one ends.
    fake = fake_provider(latency=1.0)
    run = make_run(make_gateway(fake, max_concurrency=1), models=1, challenges=3)
    running = CollectionJob.objects.filter(run=run, state=CollectionJob.State.RUNNING)

    def loop():
        try:
            collect_run_jobs.apply(args=[run.pk])
        finally:
            connection.close()

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        wait_for(lambda: running.count() == 2, timeout=10, interval=0.01)
        # Two jobs held by the one loop before its first answer came back: the one whose call
        # is out, and the next, claimed ahead.
        assert not Response.objects.filter(collection_jobs__run=run).exists()
    finally:
        thread.join()

    assert set(run.jobs.values_list("state", flat=True)) == {CollectionJob.State.DONE}
    assert len(fake.requests("/v1/chat/completions")) == 3


def test_a_job_waiting_out_its_backoff_is_not_claimed_before_its_time(db):
    challenge = ChallengeFactory(is_published=True)
    AIModelFactory()  # on the demo gateway
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[challenge])
    later = timezone.now() + timedelta(minutes=5)
    run.jobs.update(not_before=later)

    assert job_claim_next(run.pk) is None
    run.jobs.filter(pk=run.jobs.first().pk).update(not_before=timezone.now())
    assert job_claim_next(run.pk).not_before is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_loop_out_of_time_hands_the_rest_of_the_run_to_a_new_message(
    celery_worker_process, fake_provider, make_gateway
):
    # One slot, so one loop; each loop starts no new job after 0.1 s, so the run's eight
    # answers of 0.2 s each take several loop messages, handed on one to the next.
    fake = fake_provider(latency=0.2)
    run = make_run(make_gateway(fake, max_concurrency=1), models=2, challenges=4)
    celery_worker_process(
        "--pool", "threads", "--concurrency", "2", env={"COLLECTION_LOOP_SECONDS": "0.1"}
    )

    wait_for(lambda: CollectionRun.objects.get(pk=run.pk).state == CollectionRun.State.FINISHED)
    assert Response.objects.filter(collection_jobs__run=run).count() == 8
    assert len(fake.requests("/v1/chat/completions")) == 8


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_coming_up_resumes_a_run_whose_loops_are_gone(
    celery_worker_process, fake_provider, make_gateway
):
    # Jobs waiting in a running run with no loop message anywhere: what a killed worker leaves.
    fake = fake_provider()
    gateway = make_gateway(fake)
    run = CollectionRun.objects.create(scope=CollectionRun.Scope.CHALLENGE)
    models = [AIModelFactory(gateway=gateway) for _ in range(2)]
    challenges = [ChallengeFactory(is_published=True) for _ in range(2)]
    CollectionJob.objects.bulk_create(
        CollectionJob(run=run, model=model, challenge=challenge)
        for model in models
        for challenge in challenges
    )

    celery_worker_process("--pool", "threads", "--concurrency", "4")

    wait_for(lambda: CollectionRun.objects.get(pk=run.pk).state == CollectionRun.State.FINISHED)
    assert Response.objects.filter(collection_jobs__run=run).count() == 4
    assert len(fake.requests("/v1/chat/completions")) == 4
