"""Writes of the Prompt Lab: starting a run and generating one model's result."""

import logging
import secrets
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.catalog.models import AIModel, Gateway
from apps.gateways.base import GatewayError, PermanentGatewayError
from apps.gateways.calls import complete, completion_request
from apps.lab.models import LabResult, LabRun

logger = logging.getLogger(__name__)


def owner_new() -> str:
    return secrets.token_urlsafe(24)


def labrun_create(
    *, owner: str, ip_hash: str, prompt: str, models: list[AIModel], output_type: str
) -> LabRun:
    """Store a run with one pending result per model and queue one task per result once the
    transaction commits. The caller validates the prompt and the models (LabForm) and applies
    the rate limits (the view)."""
    with transaction.atomic():
        run = LabRun.objects.create(
            owner=owner, ip_hash=ip_hash, prompt=prompt, output_type=output_type
        )
        results = LabResult.objects.bulk_create(
            LabResult(run=run, model=model, position=index) for index, model in enumerate(models)
        )
        from apps.lab.tasks import lab_generate

        for result in results:
            transaction.on_commit(lambda pk=result.pk: lab_generate.delay(pk))
    logger.info("lab run %s started with %d models", run.token[:8], len(results))
    return run


def _check_allowed(gateway: Gateway | None) -> Gateway:
    """The Lab's own policy, checked again at call time: the operator may have switched the
    gateway or paid gateways off since the run was started. (A removed key is caught by the
    call itself, before any request.)"""
    if gateway is None or not gateway.is_enabled:
        raise PermanentGatewayError("This model's gateway is switched off.")
    if gateway.kind == Gateway.Kind.DEMO:
        return gateway
    if not settings.LAB_ALLOW_PAID_GATEWAYS:
        raise PermanentGatewayError("Paid gateways are switched off for the Lab on this site.")
    return gateway


def _claim(result_id: int) -> bool:
    """Move a result from pending to running; True only for the one caller that did it.

    A claim older than the task's hard time limit belongs to a worker that died, so it may be
    taken over (the task is acks_late and redelivered after such a loss)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.LAB_TASK_TIME_LIMIT + 30)
    return (
        LabResult.objects.filter(
            Q(state=LabResult.State.PENDING)
            | Q(state=LabResult.State.RUNNING, started_at__lt=stale),
            pk=result_id,
        ).update(state=LabResult.State.RUNNING, started_at=now)
        == 1
    )


def _finish(result_id: int, **fields) -> None:
    LabResult.objects.filter(pk=result_id, state=LabResult.State.RUNNING).update(
        finished_at=timezone.now(), **fields
    )


def labresult_generate(*, result_id: int) -> bool:
    """Ask one model for its answer to the run's prompt and store it, or the error.

    Idempotent: only the caller that claims the pending result calls the gateway; any other
    delivery returns False and changes nothing. Gateway errors are stored on the result, not
    retried: the visitor is watching, and a retry minutes later helps no one."""
    if not _claim(result_id):
        logger.info("lab result %s already claimed; nothing to do", result_id)
        return False
    result = LabResult.objects.select_related("run", "model__gateway").get(pk=result_id)
    model = result.model
    request = completion_request(
        model, prompt=result.run.prompt, output_type=result.run.output_type
    )
    sent = {**request.sent_settings(), "gateway": model.gateway.name if model.gateway else ""}
    try:
        # Through the gateway's limits, like collection: a busy gateway makes the visitor wait
        # up to COLLECTION_SLOT_WAIT, then the result fails with a message saying so.
        completion = complete(
            _check_allowed(model.gateway),
            request,
            wait=settings.COLLECTION_SLOT_WAIT,
            lease=settings.LAB_TASK_TIME_LIMIT,
        )
    except GatewayError as error:
        logger.info("lab result %s failed: %s", result_id, error.message)
        _finish(result_id, state=LabResult.State.FAILED, error=error.message, settings=sent)
        return True
    except SoftTimeLimitExceeded:
        _finish(
            result_id,
            state=LabResult.State.FAILED,
            error="The model took too long to answer.",
            settings=sent,
        )
        return True
    except Exception:
        logger.exception("lab result %s failed unexpectedly", result_id)
        _finish(
            result_id,
            state=LabResult.State.FAILED,
            error="Something went wrong on our side while asking this model.",
            settings=sent,
        )
        return True
    _finish(
        result_id,
        state=LabResult.State.DONE,
        content=completion.content,
        tokens_in=completion.tokens_in,
        tokens_out=completion.tokens_out,
        latency_ms=completion.latency_ms,
        cost_usd=completion.cost_usd,
        finish_reason=completion.finish_reason[:40],
        settings=sent,
    )
    logger.info("lab result %s done (run %s)", result_id, result.run.token[:8])
    return True
