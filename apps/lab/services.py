"""Writes of the Prompt Lab: starting a run within the spending caps, generating one model's
answer as it streams in, stopping it, and sharing a run."""

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.catalog.models import AIModel, Gateway
from apps.gateways.base import CallStopped, Completion, GatewayError, PermanentGatewayError
from apps.gateways.calls import complete, completion_request
from apps.gateways.limits import SlotUnavailable
from apps.gateways.spend import Reservation, SpendRefused, spend_reserve_parts
from apps.lab.models import LabResult, LabRun

logger = logging.getLogger(__name__)

# What a visitor is told when a column fails; the provider's own words go to the log and to
# the result's staff-only `error`.
FAILED_BUSY = "The model's provider is busy right now. Try again in a minute."
FAILED_SLOW = "The model took too long to answer."
FAILED_PROVIDER = "The model's provider could not answer this time."
FAILED_OURS = "Something went wrong on our side while asking this model."
STOPPED_EARLY = "Stopped before the model started answering."
# How often the answer so far is written for the run page to show (and the Stop flag read).
FLUSH_SECONDS = 0.2
# Tokens added to the prompt by chat templates, counted on top of the prompt's bound.
TEMPLATE_TOKENS = 32


class RunRefused(Exception):
    """A run that was not started; the message is safe to show to the visitor."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def owner_new() -> str:
    return secrets.token_urlsafe(24)


# --- spending --------------------------------------------------------------------------------


def max_tokens_for(model: AIModel) -> int:
    return settings.LAB_MAX_TOKENS_BY_MODEL.get(model.slug, settings.LAB_MAX_TOKENS)


def max_cost(model: AIModel, prompt: str) -> Decimal | None:
    """The most one call can cost, or None for a free one (the demo gateway). A token is at
    least one byte, so the prompt's UTF-8 length bounds its tokens. A paid model without
    prices has no bound: RunRefused."""
    if model.gateway is not None and model.gateway.kind == Gateway.Kind.DEMO:
        return None
    if model.price_input_per_mtok is None or model.price_output_per_mtok is None:
        raise RunRefused(f"{model.name} has no known price, so the Lab cannot run it.")
    tokens_in = len(prompt.encode()) + TEMPLATE_TOKENS
    return (
        model.price_input_per_mtok * tokens_in + model.price_output_per_mtok * max_tokens_for(model)
    ) / Decimal(1_000_000)


@dataclass(frozen=True)
class Budget:
    """The daily caps a kind of run spends against: the site's, a signed-in user's, and an
    anonymous visitor's (per browser session and per address group)."""

    prefix: str
    site_usd: Decimal
    user_usd: Decimal
    anon_usd: Decimal


def budget_for(kind: str) -> Budget:
    """The Lab's caps (LAB_*_DAILY_USD) or the arena's live battles' (ARENA_LIVE_*_DAILY_USD):
    separate counters, so neither feature can spend the other's allowance."""
    if kind == LabRun.Kind.LIVE:
        return Budget(
            "live",
            settings.ARENA_LIVE_DAILY_USD,
            settings.ARENA_LIVE_USER_DAILY_USD,
            settings.ARENA_LIVE_ANON_DAILY_USD,
        )
    return Budget(
        "lab", settings.LAB_DAILY_USD, settings.LAB_USER_DAILY_USD, settings.LAB_ANON_DAILY_USD
    )


def _caps(budget: Budget, *, user_id: int | None, owner: str, ip_hash: str) -> dict[str, Decimal]:
    caps = {f"{budget.prefix}:site": budget.site_usd}
    if user_id is not None:
        caps[f"{budget.prefix}:user:{user_id}"] = budget.user_usd
    else:
        caps[f"{budget.prefix}:session:{owner}"] = budget.anon_usd
        caps[f"{budget.prefix}:ip:{ip_hash}"] = budget.anon_usd
    return caps


def _refusal(budget: Budget, scope: str) -> str:
    cap = scope.split(":")[1]
    if budget.prefix == "live":
        return _live_refusal(budget, cap)
    if cap == "site":
        return (
            "The Lab has reached today's spending limit for this site. Free models still "
            "run; paid ones are back after midnight UTC."
        )
    if cap == "user":
        return (
            f"This run would go past your daily Lab allowance of ${budget.user_usd}"
            " for paid models. It resets at midnight UTC; free models still run."
        )
    if not budget.anon_usd:
        return "Sign in to run paid models in the Lab; free models run without an account."
    return (
        "This run would go past today's allowance for visitors without an account. Sign in "
        "for a larger one; free models still run."
    )


def _live_refusal(budget: Budget, cap: str) -> str:
    if cap == "site":
        return (
            "Live battles have reached today's spending limit for this site; they are back "
            "after midnight UTC. The ready-made battles are still open."
        )
    if cap == "user":
        return (
            f"This battle would go past your daily live-battle allowance of ${budget.user_usd}."
            " It resets at midnight UTC; the ready-made battles are still open."
        )
    if not budget.anon_usd:
        return "Sign in to start live battles on paid models."
    return (
        "This battle would go past today's live-battle allowance for visitors without an "
        "account. Sign in for a larger one, or vote on the ready-made battles."
    )


# A live battle's refusal never names a model: its two models are secret until the vote.
LIVE_UNPRICED = "Live battles are not available right now. The ready-made battles are open."


def _settle(result: LabResult, cost: Decimal | None) -> None:
    if result.spend:
        Reservation.from_record(result.spend).settle(cost)


# --- runs ------------------------------------------------------------------------------------


def labrun_create(
    *,
    owner: str,
    ip_hash: str,
    prompt: str,
    models: list[AIModel],
    output_type: str,
    user_id: int | None = None,
    kind: str = LabRun.Kind.LAB,
) -> LabRun:
    """Reserve each paid model's maximum cost against the daily caps, then store a run with
    one pending result per model and queue one task per result once the transaction commits.

    Raises RunRefused, storing, queueing and keeping nothing, when any cap would be passed:
    the reservations are atomic (apps.gateways.spend), so concurrent runs never overspend.
    The caller validates the prompt and the models (LabForm) and applies the rate limits.
    `kind` "live" makes a live battle's run (apps.arena.services.live): the same generation,
    against the live battles' own caps, with refusals that name no model."""
    budget = budget_for(kind)
    caps = _caps(budget, user_id=user_id, owner=owner, ip_hash=ip_hash)
    try:
        costs = [max_cost(model, prompt) for model in models]
    except RunRefused as refused:
        if kind == LabRun.Kind.LIVE:
            raise RunRefused(LIVE_UNPRICED) from refused
        raise
    paid = [cost for cost in costs if cost]
    try:
        reserved = iter(spend_reserve_parts(caps, paid) if paid else [])
    except SpendRefused as refused:
        logger.info("%s run refused: the %s cap is reached", kind, refused.scope.split(":")[1])
        raise RunRefused(_refusal(budget, refused.scope)) from refused
    reservations = [next(reserved) if cost else None for cost in costs]
    try:
        with transaction.atomic():
            run = LabRun.objects.create(
                kind=kind,
                owner=owner,
                user_id=user_id,
                ip_hash=ip_hash,
                prompt=prompt,
                output_type=output_type,
            )
            results = LabResult.objects.bulk_create(
                LabResult(
                    run=run,
                    model=model,
                    position=index,
                    spend=reservation.as_record() if reservation else {},
                )
                for index, (model, reservation) in enumerate(
                    zip(models, reservations, strict=False)
                )
            )
            from apps.lab.tasks import lab_generate

            for result in results:
                transaction.on_commit(lambda pk=result.pk: lab_generate.delay(pk))
    except BaseException:
        for reservation in reservations:
            if reservation is not None:
                reservation.refund()
        raise
    logger.info("%s run %s started with %d models", kind, run.token[:8], len(results))
    return run


def labrun_share(*, run: LabRun, shared: bool) -> None:
    """Let anyone with the run's link see it (or only its maker again)."""
    LabRun.objects.filter(pk=run.pk).update(is_shared=shared)


def labresult_stop(*, result: LabResult) -> None:
    """Stop one model's answer: a running call is closed by its worker at the next flush (it
    keeps the text so far); one not yet started is stopped at once and its reservation
    refunded. Stopping a finished answer does nothing."""
    LabResult.objects.filter(pk=result.pk, state=LabResult.State.RUNNING).update(
        stop_requested=True
    )
    stopped_early = LabResult.objects.filter(pk=result.pk, state=LabResult.State.PENDING).update(
        state=LabResult.State.FAILED,
        stop_requested=True,
        public_error=STOPPED_EARLY,
        finished_at=timezone.now(),
    )
    if stopped_early:
        _settle(result, 0)


# --- generation ------------------------------------------------------------------------------


def _check_allowed(model: AIModel, kind: str) -> Gateway:
    """The Lab's own policy, checked again at call time: a curator or the operator may have
    withdrawn the model or switched the gateway or paid gateways off since the run began. (A
    removed key is caught by the call itself, before any request.) Live battles' models need
    their own switch."""
    gateway = model.gateway
    if kind == LabRun.Kind.LAB and not model.lab_enabled:
        raise PermanentGatewayError("This model is no longer offered in the Lab.")
    if kind == LabRun.Kind.LIVE and not model.live_battle_enabled:
        raise PermanentGatewayError("This model is no longer offered in live battles.")
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


class _Stream:
    """The answer as it arrives: written to the result every FLUSH_SECONDS for the run page,
    by a conditional UPDATE that also reads the Stop button (no row changed: stopped), and
    held to the call's deadline. Raises CallStopped from inside the client's stream loop,
    which closes the provider's stream."""

    def __init__(self, result_id: int):
        self.result_id = result_id
        self.begin()
        self.parts: list[str] = []
        self.ttft_ms: int | None = None
        self._flushed = float("-inf")

    def begin(self) -> None:
        """The call starts now: its clock and its deadline."""
        self.started = time.monotonic()
        self.deadline = self.started + settings.LAB_CALL_DEADLINE

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> None:
        now = time.monotonic()
        if self.ttft_ms is None:
            self.ttft_ms = int((now - self.started) * 1000)
        self.parts.append(piece)
        if now >= self.deadline:
            raise CallStopped("deadline")
        if now - self._flushed >= FLUSH_SECONDS:
            self._flushed = now
            still_wanted = LabResult.objects.filter(
                pk=self.result_id, state=LabResult.State.RUNNING, stop_requested=False
            ).update(content=self.text, ttft_ms=self.ttft_ms)
            if not still_wanted:
                raise CallStopped("stopped")


def _public_error(error: GatewayError) -> str:
    if error.status == 429:
        return FAILED_BUSY
    if error.transient and error.status is None:
        return FAILED_SLOW if "in time" in error.message else FAILED_PROVIDER
    return FAILED_PROVIDER


def _completion_cost(model: AIModel, completion: Completion) -> Decimal | None:
    if completion.cost_usd is not None:
        return completion.cost_usd
    if None in (completion.tokens_in, completion.tokens_out, model.price_input_per_mtok):
        return None
    return (
        model.price_input_per_mtok * completion.tokens_in
        + model.price_output_per_mtok * completion.tokens_out
    ) / Decimal(1_000_000)


def _stopped_cost(model: AIModel, prompt: str, text: str) -> Decimal | None:
    """A stopped stream reports no usage: bound it as the reservation does, by bytes."""
    if model.gateway is not None and model.gateway.kind == Gateway.Kind.DEMO:
        return None
    tokens_out = min(len(text.encode()), max_tokens_for(model))
    return (
        model.price_input_per_mtok * (len(prompt.encode()) + TEMPLATE_TOKENS)
        + model.price_output_per_mtok * tokens_out
    ) / Decimal(1_000_000)


def labresult_generate(*, result_id: int) -> bool:
    """Ask one model for its answer to the run's prompt, streaming it into the result, and
    store the outcome: the answer, the text so far when stopped or out of time, or a generic
    error (the provider's message is logged and kept for staff only).

    Idempotent: only the caller that claims the pending result calls the gateway; any other
    delivery returns False and changes nothing. Calls go through the gateway's concurrency and
    rate limits; the spending reservation is settled with the real cost, once."""
    if not _claim(result_id):
        logger.info("lab result %s already claimed; nothing to do", result_id)
        return False
    result = LabResult.objects.select_related("run", "model__gateway").get(pk=result_id)
    model = result.model
    request = completion_request(
        model,
        prompt=result.run.prompt,
        output_type=result.run.output_type,
        max_tokens=max_tokens_for(model),
    )
    sent = {**request.sent_settings(), "gateway": model.gateway.name if model.gateway else ""}
    stream = _Stream(result_id)
    cost: Decimal | None = None
    try:
        stream.begin()
        # Through the gateway's limits, like collection: a busy gateway makes the visitor wait
        # up to COLLECTION_SLOT_WAIT, then the result fails with a message saying so.
        completion = complete(
            _check_allowed(model, result.run.kind),
            request,
            wait=settings.COLLECTION_SLOT_WAIT,
            lease=settings.LAB_TASK_TIME_LIMIT,
            timeout=settings.LAB_CALL_DEADLINE,
            on_delta=stream.add,
        )
    except CallStopped as stopped:
        cost = _stopped_cost(model, request.prompt, stream.text)
        _finish(
            result_id,
            state=LabResult.State.DONE,
            content=stream.text,
            ttft_ms=stream.ttft_ms,
            latency_ms=int((time.monotonic() - stream.started) * 1000),
            finish_reason=stopped.message,
            settings=sent,
        )
        logger.info("lab result %s ended early: %s", result_id, stopped.message)
    except SlotUnavailable as busy:
        _fail(result_id, sent, FAILED_BUSY, busy.message)
    except GatewayError as error:
        logger.warning("lab result %s: gateway error: %s", result_id, error.message)
        _fail(result_id, sent, _public_error(error), error.message)
    except SoftTimeLimitExceeded:
        _fail(result_id, sent, FAILED_SLOW, "soft time limit")
    except Exception:
        logger.exception("lab result %s failed unexpectedly", result_id)
        _fail(result_id, sent, FAILED_OURS, "unexpected error (see the worker log)")
    else:
        cost = _completion_cost(model, completion)
        _finish(
            result_id,
            state=LabResult.State.DONE,
            content=completion.content,
            tokens_in=completion.tokens_in,
            tokens_out=completion.tokens_out,
            latency_ms=completion.latency_ms,
            ttft_ms=stream.ttft_ms if stream.ttft_ms is not None else completion.ttft_ms,
            cost_usd=completion.cost_usd if completion.cost_usd is not None else cost,
            finish_reason=completion.finish_reason[:40],
            settings=sent,
        )
        logger.info("lab result %s done (run %s)", result_id, result.run.token[:8])
    finally:
        _settle(result, cost)
    return True


def _fail(result_id: int, sent: dict, public: str, detail: str) -> None:
    _finish(
        result_id,
        state=LabResult.State.FAILED,
        error=detail,
        public_error=public,
        settings=sent,
    )
