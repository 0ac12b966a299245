from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.collection.models import CollectionJob, CollectionRun
from apps.collection.services import (
    job_claim,
    run_cancel,
    run_create,
    run_plan,
    runs_finish_done,
    runs_resume,
    stale_jobs,
)
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def test_a_run_plans_one_job_per_missing_pair():
    models = AIModelFactory.create_batch(2)
    challenge, answered = ChallengeFactory.create_batch(2)
    ResponseFactory(model=models[0], challenge=answered)

    run = run_create(scope=CollectionRun.Scope.MISSING)

    pairs = set(run.jobs.values_list("model_id", "challenge_id"))
    assert pairs == {
        (models[0].pk, challenge.pk),
        (models[1].pk, challenge.pk),
        (models[1].pk, answered.pk),
    }
    assert run.state == CollectionRun.State.RUNNING


def test_the_budget_cap_stops_planning_when_the_estimate_would_pass_it(
    fake_provider, make_gateway, settings
):
    settings.COLLECTION_ESTIMATED_OUTPUT_TOKENS = 1000
    gateway = make_gateway(fake_provider())
    # $4 per million output tokens × 1000 tokens ≈ $0.004 per call.
    AIModelFactory.create_batch(5, gateway=gateway)
    challenge = ChallengeFactory(prompt="short")

    run = run_create(
        scope=CollectionRun.Scope.CHALLENGE, challenges=[challenge], budget_usd=Decimal("0.01")
    )

    assert run.jobs.count() == 2
    assert run.skipped_over_budget == 3
    assert run.estimated_cost_usd <= Decimal("0.01")


def test_a_missing_key_fails_the_run_at_once_naming_the_variable(
    fake_provider, make_gateway, monkeypatch
):
    fake = fake_provider()
    gateway = make_gateway(fake)
    monkeypatch.delenv(gateway.api_key_env)
    AIModelFactory(gateway=gateway)
    ChallengeFactory()

    run = run_create(scope=CollectionRun.Scope.MISSING)

    assert run.state == CollectionRun.State.FAILED
    assert gateway.api_key_env in run.error
    assert run.jobs.count() == 0
    assert fake.requests() == []


def test_oversized_prompts_are_refused_before_any_call(settings):
    settings.RIVAL_MAX_PROMPT_CHARS = 100
    AIModelFactory()
    challenge = ChallengeFactory(prompt="x" * 101)

    planned, _ = run_plan(scope=CollectionRun.Scope.CHALLENGE, challenges=[challenge])
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[challenge])

    assert "limit is 100" in planned[0].refusal
    job = run.jobs.get()
    assert job.state == CollectionJob.State.FAILED and job.attempts == 0
    assert CollectionRun.objects.get(pk=run.pk).state == CollectionRun.State.FINISHED


def test_only_one_claim_of_a_job_wins():
    AIModelFactory()
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    job = run.jobs.get()

    assert job_claim(job.pk) is not None
    assert job_claim(job.pk) is None


def test_cancel_stops_pending_jobs():
    AIModelFactory.create_batch(3)
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])

    run_cancel(run)

    assert set(run.jobs.values_list("state", flat=True)) == {CollectionJob.State.CANCELLED}
    assert job_claim(run.jobs.first().pk) is None
    assert CollectionRun.objects.get(pk=run.pk).state == CollectionRun.State.CANCELLED


def test_a_claimed_job_whose_lease_ran_out_is_requeued_once(settings):
    settings.COLLECTION_JOB_LEASE = -1  # the claim's lease is already over
    AIModelFactory()
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    job = job_claim(run.jobs.get().pk)

    assert stale_jobs() == [job.pk]
    assert stale_jobs() == []
    assert CollectionJob.objects.get(pk=job.pk).state == CollectionJob.State.PENDING


def test_a_waiting_job_of_a_run_still_moving_is_left_to_the_runs_loops(settings):
    settings.COLLECTION_QUEUE_LEASE = 60
    AIModelFactory.create_batch(2)
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    finished, waiting = run.jobs.order_by("pk")
    now = timezone.now()
    # One job ended ten seconds ago; the other has waited past its queue lease.
    CollectionJob.objects.filter(pk=finished.pk).update(
        state=CollectionJob.State.DONE, finished_at=now - timedelta(seconds=10), lease_until=None
    )
    CollectionJob.objects.filter(pk=waiting.pk).update(lease_until=now - timedelta(seconds=1))

    assert stale_jobs() == []

    # Nothing of the run has ended within the lease: its loops are gone, the job is requeued.
    CollectionJob.objects.filter(pk=finished.pk).update(finished_at=now - timedelta(seconds=61))
    assert stale_jobs() == [waiting.pk]


def test_beat_finishes_a_run_left_running_with_nothing_open():
    AIModelFactory.create_batch(2)
    left = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    busy = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    # Every job of `left` done, but nobody checked the run (its loop died in between).
    left.jobs.update(state=CollectionJob.State.DONE, finished_at=timezone.now())
    busy.jobs.filter(pk=busy.jobs.first().pk).update(state=CollectionJob.State.DONE)

    assert runs_finish_done() == 1
    assert CollectionRun.objects.get(pk=left.pk).state == CollectionRun.State.FINISHED
    assert CollectionRun.objects.get(pk=busy.pk).state == CollectionRun.State.RUNNING


def test_loops_are_started_again_only_for_a_stalled_run():
    AIModelFactory.create_batch(2)
    moving = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    stalled = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    backing_off = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    # `moving` has a job in flight (its loop's); the others have none, and `backing_off`'s
    # jobs are not due yet.
    job_claim(moving.jobs.first().pk)
    backing_off.jobs.update(not_before=timezone.now() + timedelta(minutes=1))

    # Two waiting jobs on the demo gateway (cap 8): two loops.
    assert runs_resume() == {stalled.pk: 2}
