from celery import shared_task

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge
from apps.collection.services import response_collect


@shared_task(acks_late=True, reject_on_worker_lost=True)
def collect_response(model_id: int, challenge_id: int) -> int:
    """Collect one response; safe to run twice (the second run stores nothing)."""
    model = AIModel.objects.select_related("gateway").get(pk=model_id)
    challenge = Challenge.objects.get(pk=challenge_id)
    response, _ = response_collect(model=model, challenge=challenge)
    return response.pk
