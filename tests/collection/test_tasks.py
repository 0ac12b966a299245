import pytest

from apps.collection.models import CollectionJob, CollectionRun
from apps.collection.services import run_create
from apps.collection.tasks import collect_response
from apps.responses.models import Response
from tests.factories import AIModelFactory, ChallengeFactory
from tests.utils import wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_collects_a_demo_response(celery_worker_process):
    model = AIModelFactory()
    challenge = ChallengeFactory(output_type="svg")
    celery_worker_process("--pool", "solo")

    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[challenge])

    response = wait_for(lambda: Response.objects.filter(model=model, challenge=challenge).first())
    assert response.content.startswith("<svg")
    assert response.source == Response.Source.DEMO
    assert response.settings["temperature"] == 0.7
    assert response.settings["gateway"] == "demo"
    wait_for(lambda: CollectionRun.objects.get(pk=run.pk).state == CollectionRun.State.FINISHED)


@pytest.mark.django_db(transaction=True)
def test_running_a_job_twice_stores_one_response():
    model = AIModelFactory()
    challenge = ChallengeFactory()
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[challenge])
    job = run.jobs.get()

    first = collect_response.apply(args=[job.pk]).get()
    second = collect_response.apply(args=[job.pk]).get()

    assert first is not None and second is None
    assert Response.objects.filter(model=model, challenge=challenge).count() == 1
    job.refresh_from_db()
    assert job.state == CollectionJob.State.DONE and job.attempts == 1


def test_a_job_costs_six_queries_and_finishes_its_run(
    db, fake_provider, make_gateway, django_assert_max_num_queries
):
    # The worker's CPU bounds collection throughput, and each query costs some (README,
    # "Worker pool: threads"): claim with everything the call needs, store, mark done, finish.
    model = AIModelFactory(gateway=make_gateway(fake_provider()))
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])
    job = run.jobs.get()

    with django_assert_max_num_queries(6):
        response_id = collect_response.apply(args=[job.pk]).get()

    response = Response.objects.get(pk=response_id)
    assert response.model == model and response.content
    job.refresh_from_db()
    assert job.state == CollectionJob.State.DONE and job.response_id == response_id
    assert job.lease_until is None and job.finished_at is not None
    run.refresh_from_db()
    assert run.state == CollectionRun.State.FINISHED and run.finished_at is not None
