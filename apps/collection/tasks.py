"""Celery tasks for collection: thin wrappers that take ids and call services."""

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings

from apps.collection import services
from apps.gateways.base import MissingAPIKey, PermanentGatewayError, TransientGatewayError
from apps.gateways.limits import SlotUnavailable

logger = logging.getLogger(__name__)

# Statuses that mean the gateway itself refuses us: every other job of the run would fail the
# same way, so the run stops instead of sending more requests.
RUN_STOPPING_STATUSES = {401, 403}


@worker_init.connect
def _preload_gateway_clients(**kwargs) -> None:
    """Import the provider SDKs when the worker starts, not inside the first calls: they take
    seconds to import, during which every thread would wait on the first one."""
    from apps.gateways import anthropic_messages, openai_compat  # noqa: F401


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never shorter than the provider's Retry-After."""
    cap = min(
        settings.COLLECTION_BACKOFF_MAX, settings.COLLECTION_BACKOFF_BASE * 2 ** (attempt - 1)
    )
    delay = random.uniform(0, cap)
    if retry_after is not None:
        delay = max(delay, retry_after + 0.1)
    return delay


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def collect_response(self, job_id: int) -> int | None:
    """Collect the response for one job. Idempotent: a second delivery finds the job claimed
    or finished and does nothing; the published-response constraint backs that up.

    Transient errors retry with backoff (honouring Retry-After) up to COLLECTION_MAX_ATTEMPTS;
    permanent ones fail the job with the provider's message, and 401/403 or a missing key fail
    the whole run. Returns the response id, or None when nothing was stored.
    """
    job = services.job_claim(job_id)
    if job is None:
        logger.info("job=%s not claimable (done, cancelled or held elsewhere)", job_id)
        return None
    try:
        response_id = services.job_run(job)
    except SlotUnavailable:
        services.job_defer(job, delay=1, refund=True)
        raise self.retry(countdown=1) from None
    except (TransientGatewayError, SoftTimeLimitExceeded) as exc:
        message = getattr(exc, "message", "") or "The call ran past the task's soft time limit."
        if job.attempts >= settings.COLLECTION_MAX_ATTEMPTS:
            services.job_fail(job, f"Gave up after {job.attempts} attempts: {message}")
            return None
        delay = backoff_delay(job.attempts, getattr(exc, "retry_after", None))
        logger.info("run=%s job=%s retry in %.2fs: %s", job.run_id, job.pk, delay, message)
        services.job_defer(job, delay=delay, message=message)
        raise self.retry(countdown=delay) from None
    except PermanentGatewayError as exc:
        services.job_fail(job, exc.message)
        if isinstance(exc, MissingAPIKey) or exc.status in RUN_STOPPING_STATUSES:
            services.run_fail(job.run_id, exc.message)
        return None
    # Debug only: Celery already logs each task's success with its result (the response id).
    logger.debug("run=%s job=%s stored response=%s", job.run_id, job.pk, response_id)
    return response_id


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_stale_jobs() -> int:
    """Beat: re-enqueue jobs whose worker died or whose message was lost. Safe to overlap."""
    ids = services.stale_jobs()
    for job_id in ids:
        collect_response.delay(job_id)
    if ids:
        logger.warning("requeued %s stale jobs: %s", len(ids), ids[:20])
    return len(ids)
