"""Celery tasks for collection: thin wrappers that take ids and call services."""

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_ready
from django.conf import settings
from django.db import connections

from apps.collection import services
from apps.gateways.base import MissingAPIKey, PermanentGatewayError, TransientGatewayError
from apps.gateways.clients import clients_build
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


@worker_ready.connect
def _build_gateway_clients(**kwargs) -> None:
    """Build the gateways' clients before the worker's first calls wait on them."""
    clients_build()


@worker_ready.connect
def _resume_runs(**kwargs) -> None:
    """A worker coming up starts loops for stalled runs (services.runs_resume): the loops of a
    worker that was killed end with it, and their messages only come back after the broker's
    visibility timeout."""
    resume_runs.delay()


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never shorter than the provider's Retry-After."""
    cap = min(
        settings.COLLECTION_BACKOFF_MAX, settings.COLLECTION_BACKOFF_BASE * 2 ** (attempt - 1)
    )
    delay = random.uniform(0, cap)
    if retry_after is not None:
        delay = max(delay, retry_after + 0.1)
    return delay


def _collect(job, retry, *, finish_run: bool = True, answer=None) -> int | None:
    """Make the call for a claimed job (or take `answer`, see services.job_run) and store its
    answer, or settle the job when it fails: a transient error puts it back to pending and
    calls `retry(delay)` (while attempts remain), a permanent one fails it (and its run, when
    the gateway refuses us). Returns the response id, or None when nothing was stored."""
    try:
        response_id = services.job_run(job, finish_run=finish_run, answer=answer)
    except SlotUnavailable:
        services.job_defer(job, delay=1, refund=True)
        retry(1)
        return None
    except (TransientGatewayError, SoftTimeLimitExceeded) as exc:
        message = getattr(exc, "message", "") or "The call ran past the task's soft time limit."
        if job.attempts >= settings.COLLECTION_MAX_ATTEMPTS:
            services.job_fail(job, f"Gave up after {job.attempts} attempts: {message}")
            return None
        delay = backoff_delay(job.attempts, getattr(exc, "retry_after", None))
        logger.info("run=%s job=%s retry in %.2fs: %s", job.run_id, job.pk, delay, message)
        services.job_defer(job, delay=delay, message=message)
        retry(delay)
        return None
    except PermanentGatewayError as exc:
        services.job_fail(job, exc.message)
        if isinstance(exc, MissingAPIKey) or exc.status in RUN_STOPPING_STATUSES:
            services.run_fail(job.run_id, exc.message)
        return None
    # Debug only: Celery already logs each task's success (and the loops their totals).
    logger.debug("run=%s job=%s stored response=%s", job.run_id, job.pk, response_id)
    return response_id


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def collect_response(self, job_id: int) -> int | None:
    """Collect the response for one job: a retry after a transient error, or a job requeued by
    beat. Idempotent: a second delivery finds the job claimed or finished and does nothing;
    the published-response constraint backs that up.

    Transient errors retry with backoff (honouring Retry-After) up to COLLECTION_MAX_ATTEMPTS;
    permanent ones fail the job with the provider's message, and 401/403 or a missing key fail
    the whole run. Returns the response id, or None when nothing was stored.
    """
    job = services.job_claim(job_id)
    if job is None:
        logger.info("job=%s not claimable (done, cancelled or held elsewhere)", job_id)
        return None

    def retry(delay: float):
        raise self.retry(countdown=delay) from None

    return _collect(job, retry)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.COLLECTION_LOOP_SECONDS + settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.COLLECTION_LOOP_SECONDS + settings.CELERY_TASK_TIME_LIMIT,
)
def collect_run_jobs(run_id: int) -> int:
    """One of a run's job loops: claim a due pending job of the run, collect it, and go on
    until none is left to start. A run sends as many loops as its calls can be in flight at
    once (services.calls_at_once), so the broker carries a message per loop, not per job.

    The loop keeps its gateway slot busy: each call goes out from a thread beside the loop's
    own, and while it is out the loop stores the previous answer and claims the next job, so
    the next call starts as soon as this one ends. A failed call is settled before the next
    call starts, since it may fail the whole run (401).

    A job that fails transiently is put back with its own retry message (collect_response,
    after the backoff) and the loop goes on with the next. After COLLECTION_LOOP_SECONDS the
    loop starts no new job: it hands the rest of the run to a new loop message, at the back of
    the queue, so other runs and Lab answers get their turn. Returns the jobs it claimed.
    """
    deadline = time.monotonic() + settings.COLLECTION_LOOP_SECONDS
    out_of_time = False
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"run-{run_id}-call") as beside:
        job = services.job_claim_next(run_id)
        claimed = int(job is not None)
        unstored = None  # the previous job and its call, over but not yet settled
        while job is not None:
            call = None
            if job.published_response_id is None:
                call = beside.submit(_answer_beside, job)
            if unstored is not None:
                _settle(*unstored)
            following = None
            out_of_time = time.monotonic() >= deadline
            if not out_of_time:
                following = services.job_claim_next(run_id, ahead=True)
                claimed += following is not None
            # Waits for the call to end.
            if call is not None and call.exception() is not None:
                _settle(job, call)
                unstored = None
                if following is not None:
                    following = services.job_still_wanted(following)
            else:
                unstored = (job, call)
            job = following
        if unstored is not None:
            _settle(*unstored)
    if out_of_time:
        collect_run_jobs.delay(run_id)
    else:
        # The loop that finds nothing left after the run's last job finishes the run.
        services.run_finish_if_done(run_id)
    return claimed


def _answer_beside(job):
    """A loop's call, in its own thread (services.answer_fetch)."""
    try:
        return services.answer_fetch(job.model, job.challenge)
    finally:
        # The demo gateway reads its prices from the database on its first answer; no
        # connection is left open in a thread that ends with its loop.
        connections.close_all()


def _settle(job, call) -> None:
    """Store a loop's answer to `job` (or put the job back or fail it, as the call ended)."""

    def retry(delay: float, job_id: int = job.pk):
        collect_response.apply_async((job_id,), countdown=delay)

    _collect(job, retry, finish_run=False, answer=None if call is None else call.result)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resume_runs() -> int:
    """Start loops for stalled runs (services.runs_resume)."""
    return sum(services.runs_resume().values())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_stale_jobs() -> int:
    """Beat: re-enqueue jobs whose worker died or whose message was lost, finish runs left
    running with nothing open, and start loops for stalled runs. Safe to overlap."""
    services.runs_finish_done()
    ids = services.stale_jobs()
    for job_id in ids:
        collect_response.delay(job_id)
    services.runs_resume()
    if ids:
        logger.warning("requeued %s stale jobs: %s", len(ids), ids[:20])
    return len(ids)
