import pytest

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

    collect_response.delay(model.pk, challenge.pk)

    response = wait_for(lambda: Response.objects.filter(model=model, challenge=challenge).first())
    assert response.content.startswith("<svg")
    assert response.source == Response.Source.DEMO
    assert response.settings["temperature"] == 0.7
    assert response.settings["gateway"] == "demo"


@pytest.mark.django_db
def test_collecting_twice_stores_one_response():
    model = AIModelFactory()
    challenge = ChallengeFactory()
    first = collect_response.apply(args=[model.pk, challenge.pk]).get()
    second = collect_response.apply(args=[model.pk, challenge.pk]).get()
    assert first == second
    assert Response.objects.filter(model=model, challenge=challenge).count() == 1
