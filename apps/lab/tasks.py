from celery import shared_task
from django.conf import settings

from apps.lab.services import labresult_generate


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.LAB_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.LAB_TASK_TIME_LIMIT,
)
def lab_generate(result_id: int) -> bool:
    """Generate one Lab result; a second delivery does nothing (see labresult_generate)."""
    return labresult_generate(result_id=result_id)
