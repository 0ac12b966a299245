"""Writes for collection: plan and start runs, claim and finish jobs, store responses."""

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from apps.catalog.models import AIModel, Gateway
from apps.challenges.models import Challenge, OutputType
from apps.collection.job_sql import claim_query, job_done_sql, run_finish_sql
from apps.collection.models import OPEN_JOB_STATES, CollectionJob, CollectionRun
from apps.gateways.base import (
    Completion,
    CompletionRequest,
    GatewayError,
    PermanentGatewayError,
)
from apps.gateways.calls import complete, completion_request_for
from apps.gateways.clients import check_gateway_ready
from apps.responses.media import MediaRejected
from apps.responses.models import Response
from apps.responses.services import response_create
from rival.sqlrows import insert_values

logger = logging.getLogger(__name__)
MILLION = Decimal(1_000_000)


class PromptTooLong(PermanentGatewayError):
    def __init__(self, length: int):
        limit = settings.RIVAL_MAX_PROMPT_CHARS
        super().__init__(f"The prompt has {length} characters; the limit is {limit}.")


def check_prompt(challenge: Challenge) -> None:
    if len(challenge.prompt) + len(challenge.system_prompt) > settings.RIVAL_MAX_PROMPT_CHARS:
        raise PromptTooLong(len(challenge.prompt) + len(challenge.system_prompt))


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def cost_estimate(model: AIModel, challenge: Challenge) -> Decimal:
    """Prompt tokens × input price + expected output tokens × output price, in USD."""
    if model.gateway is not None and model.gateway.kind == Gateway.Kind.DEMO:
        return Decimal(0)
    tokens_out = min(challenge.max_tokens, settings.COLLECTION_ESTIMATED_OUTPUT_TOKENS)
    tokens_in = estimate_tokens(challenge.prompt + challenge.system_prompt)
    return _price(model, tokens_in, tokens_out) or Decimal(0)


def _price(model: AIModel, tokens_in: int | None, tokens_out: int | None) -> Decimal | None:
    if model.price_input_per_mtok is None or model.price_output_per_mtok is None:
        return None
    if tokens_in is None or tokens_out is None:
        return None
    return (
        model.price_input_per_mtok * tokens_in + model.price_output_per_mtok * tokens_out
    ) / MILLION


@dataclass(frozen=True)
class Answer:
    """What a provider sent for one call, with the request it answered: all a store needs."""

    request: CompletionRequest
    completion: Completion


def _store(model: AIModel, challenge: Challenge, answer: Answer):
    request, completion = answer.request, answer.completion
    cost = completion.cost_usd
    if cost is None and model.gateway.kind != Gateway.Kind.DEMO:
        cost = _price(model, completion.tokens_in, completion.tokens_out)
    source = Response.Source.DEMO if model.gateway.kind == "demo" else Response.Source.GATEWAY
    if challenge.output_type in (OutputType.IMAGE, OutputType.AUDIO) and completion.media is None:
        raise PermanentGatewayError(f"The provider sent no {challenge.output_type} for this job.")
    try:
        return response_create(
            model=model,
            challenge=challenge,
            prompt=request.prompt,
            output_type=challenge.output_type,
            collected_at=timezone.now(),
            source=source,
            settings={**request.sent_settings(), "gateway": model.gateway.name},
            cost_usd=cost.quantize(Decimal("0.000001")) if cost is not None else None,
            **completion.response_fields(),
            # job_claim looked just before the call; the constraint covers the rest.
            check_existing=False,
            media=completion.media,
        )
    except MediaRejected as exc:
        # Hostile or broken media: asking again would get the same bytes; nothing is stored.
        raise PermanentGatewayError(f"Refused the {challenge.output_type}: {exc}.") from exc


def answer_fetch(model: AIModel, challenge: Challenge) -> Answer:
    """Ask the model's gateway for an answer to the challenge; nothing is stored.

    Oversized prompts and missing keys are refused before any call. Raises GatewayError
    subclasses; a call that fails returns nothing, so a half-received answer is never stored.
    Uses no database connection (the demo gateway aside, which reads its prices
    once per process), so a job loop runs it in a thread beside its own (tasks.collect_run_jobs).
    """
    if model.gateway is None:
        raise PermanentGatewayError(f"{model.slug} has no gateway configured.")
    check_prompt(challenge)
    request = completion_request_for(model, challenge)
    completion = complete(
        model.gateway,
        request,
        wait=settings.COLLECTION_SLOT_WAIT,
        lease=settings.COLLECTION_JOB_LEASE,
    )
    return Answer(request, completion)


# --- Runs -----------------------------------------------------------------------------------


@dataclass
class PlannedCall:
    model: AIModel
    challenge: Challenge
    estimate: Decimal
    refusal: str = ""


def missing_pairs(
    *,
    scope: str,
    challenges=None,
    ai_models=None,
    gateway: Gateway | None = None,
) -> list[tuple[AIModel, Challenge]]:
    """The (model, challenge) pairs in scope that have no published response yet."""
    model_qs = AIModel.objects.active().filter(gateway__isnull=False, gateway__is_enabled=True)
    challenge_qs = Challenge.objects.published()
    if scope == CollectionRun.Scope.CHALLENGE:
        challenge_qs = Challenge.objects.filter(pk__in=[c.pk for c in challenges])
    elif scope == CollectionRun.Scope.MODEL:
        model_qs = AIModel.objects.filter(pk__in=[m.pk for m in ai_models], gateway__isnull=False)
    if gateway is not None:
        model_qs = model_qs.filter(gateway=gateway)
    model_list = list(model_qs.select_related("gateway").order_by("pk"))
    challenge_list = list(challenge_qs.order_by("pk"))
    have = set(
        Response.objects.published()
        .filter(model__in=model_list, challenge__in=challenge_list)
        .values_list("model_id", "challenge_id")
    )
    return [(m, c) for c in challenge_list for m in model_list if (m.pk, c.pk) not in have]


def run_plan(
    *, scope: str, challenges=None, ai_models=None, gateway=None, budget_usd=None
) -> tuple[list[PlannedCall], list[PlannedCall]]:
    """(calls to make, calls left out by the budget cap), each with its cost estimate.

    Calls whose prompt is too long are planned with a refusal and never sent.
    """
    planned, over_budget = [], []
    total = Decimal(0)
    for model, challenge in missing_pairs(
        scope=scope, challenges=challenges, ai_models=ai_models, gateway=gateway
    ):
        call = PlannedCall(model, challenge, cost_estimate(model, challenge))
        try:
            check_prompt(challenge)
        except PromptTooLong as exc:
            call.refusal = exc.message
            planned.append(call)
            continue
        if over_budget or (budget_usd is not None and total + call.estimate > budget_usd):
            over_budget.append(call)
            continue
        total += call.estimate
        planned.append(call)
    return planned, over_budget


@transaction.atomic
def run_create(
    *,
    scope: str,
    challenges=(),
    ai_models=(),
    gateway: Gateway | None = None,
    user=None,
    budget_usd: Decimal | None = None,
) -> CollectionRun:
    """Create a run with one job per missing pair and enqueue them after commit.

    A gateway that cannot be called (missing key, no URL) fails the run at once: no job is
    created and no API call is made. The budget cap stops planning at the first call whose
    estimate would pass it.
    """
    if budget_usd is None and settings.COLLECTION_DEFAULT_BUDGET_USD:
        budget_usd = Decimal(settings.COLLECTION_DEFAULT_BUDGET_USD)
    run = CollectionRun.objects.create(
        scope=scope, gateway=gateway, created_by=user, budget_usd=budget_usd
    )
    run.challenges.set(challenges)
    run.ai_models.set(ai_models)
    planned, over_budget = run_plan(
        scope=scope,
        challenges=challenges,
        ai_models=ai_models,
        gateway=gateway,
        budget_usd=budget_usd,
    )
    problems = []
    for gw in {call.model.gateway for call in planned}:
        try:
            check_gateway_ready(gw)
        except GatewayError as exc:
            problems.append(f"{gw.name}: {exc.message}")
    if problems:
        run_fail(run.pk, " ".join(sorted(problems)))
        run.refresh_from_db()
        return run
    to_send = _jobs_insert(run, planned)
    run.estimated_cost_usd = sum((c.estimate for c in planned if not c.refusal), Decimal(0))
    run.skipped_over_budget = len(over_budget)
    run.save(update_fields=["estimated_cost_usd", "skipped_over_budget"])
    logger.info(
        "run=%s created: %s jobs, %s refused, %s over budget",
        run.pk,
        to_send,
        len(planned) - to_send,
        len(over_budget),
    )
    if not to_send:
        run_finish_if_done(run.pk)
        run.refresh_from_db()
    loops = calls_at_once(call.model.gateway for call in planned if not call.refusal)
    transaction.on_commit(lambda: _start_loops(run.pk, loops))
    return run


def _jobs_insert(run: CollectionRun, planned: list[PlannedCall]) -> int:
    """Store the run's jobs, refused calls as failed ones; returns how many wait to be sent.
    One COPY on PostgreSQL (sqlrows.insert_values): creating the run stands between a
    curator's click and the first call, and for thousands of jobs model instances cost more
    than storing the rows."""
    now = timezone.now()
    adapt_time = connection.ops.adapt_datetimefield_value
    created, lease_until = adapt_time(now), adapt_time(now + _queue_lease())
    pending, failed = CollectionJob.State.PENDING.value, CollectionJob.State.FAILED.value
    names = (
        "run", "model", "challenge", "state", "attempts", "last_error", "estimated_cost_usd",
        "response", "not_before", "lease_until", "created_at", "finished_at",
    )  # fmt: skip
    rows = [
        (
            run.pk,
            call.model.pk,
            call.challenge.pk,
            failed if call.refusal else pending,
            0,
            call.refusal,
            connection.ops.adapt_decimalfield_value(call.estimate),
            None,
            None,
            None if call.refusal else lease_until,
            created,
            created if call.refusal else None,
        )
        for call in planned
    ]
    insert_values(CollectionJob, names, rows)
    return sum(not call.refusal for call in planned)


def calls_at_once(gateways: Iterable[Gateway | None]) -> int:
    """How many of these calls (one gateway each) can be in flight together: per gateway, its
    concurrency cap or its number of calls, whichever is smaller."""
    return sum(
        _at_once(n, None if gateway is None else gateway.max_concurrency)
        for gateway, n in Counter(gateways).items()
    )


def _at_once(calls: int, cap: int | None) -> int:
    """Of `calls` to one gateway, how many can be in flight together (no gateway: no cap)."""
    return calls if cap is None else min(calls, cap)


def _start_loops(run_id: int, loops: int) -> None:
    """Send the run's job loops (tasks.collect_run_jobs): one broker message per loop, not
    per job, and each loop takes the run's jobs one after another as it finishes them."""
    from apps.collection.tasks import collect_run_jobs

    # One connection to the broker for all of them, not one taken from the pool per message.
    with collect_run_jobs.app.producer_or_acquire() as producer:
        for _ in range(loops):
            collect_run_jobs.apply_async((run_id,), producer=producer)


def runs_resume() -> dict[int, int]:
    """Start loops for every stalled run: running, with jobs due to start and none in flight.
    A run's loops always have a job in flight while jobs are due, so a stalled run has lost
    them (to a killed worker, or to Redis going away). Run when a worker starts and by beat.
    A run that is moving is left alone: its loops carry on through their own messages, and
    extra ones would only wait for gateway slots. {run id: loops started}."""
    now = timezone.now()
    in_flight = CollectionJob.objects.filter(
        run_id=OuterRef("run_id"), state=CollectionJob.State.RUNNING
    )
    waiting = (
        CollectionJob.objects.filter(
            Q(not_before__isnull=True) | Q(not_before__lte=now),
            state=CollectionJob.State.PENDING,
            run__state=CollectionRun.State.RUNNING,
        )
        .exclude(Exists(in_flight))
        .values_list("run_id", "model__gateway_id", "model__gateway__max_concurrency")
        .annotate(n=Count("pk"))
        .order_by()
    )
    loops: Counter[int] = Counter()
    for run_id, _gateway_id, cap, n in waiting:
        loops[run_id] += _at_once(n, cap)
    for run_id, n in loops.items():
        logger.info("run=%s stalled with jobs due: %s loops started", run_id, n)
        _start_loops(run_id, n)
    return dict(loops)


def _queue_lease() -> timedelta:
    return timedelta(seconds=settings.COLLECTION_QUEUE_LEASE)


def run_fail(run_id: int, message: str) -> bool:
    """Fail a running run with a message and cancel its jobs still waiting."""
    now = timezone.now()
    changed = CollectionRun.objects.filter(pk=run_id, state=CollectionRun.State.RUNNING).update(
        state=CollectionRun.State.FAILED, error=message, finished_at=now
    )
    CollectionJob.objects.filter(run_id=run_id, state=CollectionJob.State.PENDING).update(
        state=CollectionJob.State.CANCELLED, finished_at=now
    )
    if changed:
        logger.warning("run=%s failed: %s", run_id, message)
    return bool(changed)


def run_cancel(run: CollectionRun) -> int:
    """Cancel a run: jobs not yet started never start; calls in flight finish. Idempotent."""
    now = timezone.now()
    cancelled = CollectionJob.objects.filter(run=run, state=CollectionJob.State.PENDING).update(
        state=CollectionJob.State.CANCELLED, finished_at=now
    )
    CollectionRun.objects.filter(pk=run.pk, state=CollectionRun.State.RUNNING).update(
        state=CollectionRun.State.CANCELLED, finished_at=now
    )
    logger.info("run=%s cancelled, %s jobs dropped", run.pk, cancelled)
    return cancelled


def run_finish_if_done(run_id: int) -> bool:
    """Mark the run finished once no job is pending or running. One conditional UPDATE, run
    after the caller's job change has committed: of two jobs finishing at once, the later
    one to check sees the other's commit, so the run never stays running with nothing left."""
    with connection.cursor() as cursor:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(run_finish_sql(), [now, run_id])
        return cursor.rowcount == 1


# --- Jobs -----------------------------------------------------------------------------------


def job_claim(job_id: int) -> CollectionJob | None:
    """Take a job for this worker, or None when another delivery has it or it is over.

    A conditional UPDATE: a pending job whose retry time has come, or a running one whose
    lease expired (its worker died). Exactly one concurrent caller wins. The job comes back
    with its run, model, gateway and challenge loaded and, in `published_response_id`, the
    pair's published response if one exists already: all in the one statement, since this
    runs once per job and the worker's CPU, not the database, bounds its throughput.
    """
    now = timezone.now()
    return _claimed(claim_query().claim(job_id, now, _job_lease_end(now), connection))


def job_claim_next(run_id: int, *, ahead: bool = False) -> CollectionJob | None:
    """Take any pending job of the run whose retry time has come (loaded as by job_claim), or
    None when the run has none left to start now.

    A job loop claims its next job `ahead`, while its current call is still out
    (tasks.collect_run_jobs): that job waits for at most the rest of one call before its own
    starts, so its lease covers two calls. A lease covers one call with time to spare
    (COLLECTION_JOB_LEASE is above the slot wait plus the call deadline)."""
    now = timezone.now()
    lease_until = _job_lease_end(now, calls=2 if ahead else 1)
    query = claim_query(next_in_run=True)
    return _claimed(query.claim_next(run_id, now, lease_until, connection))


def _job_lease_end(now, calls: int = 1):
    return now + timedelta(seconds=settings.COLLECTION_JOB_LEASE * calls)


def job_still_wanted(job: CollectionJob) -> CollectionJob | None:
    """A job claimed a while ago, or None (cancelled now) when its run stopped since."""
    job.run.refresh_from_db(fields=["state"])
    return _claimed(job)


def _claimed(job: CollectionJob | None) -> CollectionJob | None:
    """The claimed job, or None (cancelled now) when its run is no longer running."""
    if job is None:
        return None
    if job.run.state != CollectionRun.State.RUNNING:
        job_cancel(job)
        return None
    return job


def job_run(
    job: CollectionJob, *, finish_run: bool = True, answer: Callable[[], Answer] | None = None
) -> int:
    """Make the call for a claimed job and store the answer, published; the job is then done.
    Returns the response id (an existing published one when job_claim found it: no call is
    made; one stored since is kept, the unique constraint making the store a no-op).

    `finish_run=False` leaves finishing the run to the caller (a job loop does it once, when
    it finds no job left to claim) instead of checking after every job. `answer`, when given,
    returns the answer to a call made elsewhere (a job loop makes its calls in another thread),
    or raises what that call raised."""
    response_id = job.published_response_id
    if response_id is None:
        got = answer_fetch(job.model, job.challenge) if answer is None else answer()
        response_id = _store(job.model, job.challenge, got)[0].pk
    # Not in the response's transaction: a worker dying in between leaves the job running
    # until its lease ends, and the next delivery finds the response and finishes the job.
    with connection.cursor() as cursor:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(job_done_sql(), [response_id, now, job.pk])
    if finish_run:
        run_finish_if_done(job.run_id)
    return response_id


def job_fail(job: CollectionJob, message: str) -> None:
    CollectionJob.objects.filter(pk=job.pk, state=CollectionJob.State.RUNNING).update(
        state=CollectionJob.State.FAILED,
        last_error=message,
        finished_at=timezone.now(),
        lease_until=None,
    )
    logger.warning("run=%s job=%s failed: %s", job.run_id, job.pk, message)
    run_finish_if_done(job.run_id)


def job_cancel(job: CollectionJob) -> None:
    CollectionJob.objects.filter(pk=job.pk, state__in=OPEN_JOB_STATES).update(
        state=CollectionJob.State.CANCELLED, finished_at=timezone.now(), lease_until=None
    )
    run_finish_if_done(job.run_id)


def job_defer(job: CollectionJob, *, delay: float, message: str = "", refund: bool = False):
    """Put a claimed job back to pending, claimable again after `delay` seconds."""
    now = timezone.now()
    updates = {
        "state": CollectionJob.State.PENDING,
        # A little early, so the retry message (due at exactly `delay`) always finds it ready.
        "not_before": now + timedelta(seconds=max(0.0, delay - 0.05)),
        "lease_until": now + timedelta(seconds=delay) + _queue_lease(),
    }
    if message:
        updates["last_error"] = message
    if refund:
        updates["attempts"] = F("attempts") - 1
    CollectionJob.objects.filter(pk=job.pk, state=CollectionJob.State.RUNNING).update(**updates)


def runs_finish_done() -> int:
    """Finish every running run with no job left open: a loop that died between a run's last
    job and its check of the run leaves it so. Returns how many were finished."""
    open_jobs = CollectionJob.objects.filter(run_id=OuterRef("pk"), state__in=OPEN_JOB_STATES)
    return (
        CollectionRun.objects.filter(state=CollectionRun.State.RUNNING)
        .exclude(Exists(open_jobs))
        .update(state=CollectionRun.State.FINISHED, finished_at=timezone.now())
    )


def stale_jobs() -> list[int]:
    """Jobs whose lease ran out (worker killed, message lost), put back to pending.

    Each is reset with a conditional UPDATE on the lease it had, so two beat ticks never
    requeue the same lapse twice. Returns the ids to enqueue again.
    """
    now = timezone.now()
    ids = []
    # A waiting job of a run that is still moving (one of its jobs ended within the queue
    # lease) is only waiting its turn for the run's loops: a message of its own would add calls
    # beyond the gateways' caps. A claimed job whose lease ran out is requeued regardless.
    moving = CollectionJob.objects.filter(
        run_id=OuterRef("run_id"), finished_at__gte=now - _queue_lease()
    )
    candidates = (
        CollectionJob.objects.filter(
            state__in=OPEN_JOB_STATES, lease_until__lt=now, run__state=CollectionRun.State.RUNNING
        )
        .exclude(Q(state=CollectionJob.State.PENDING) & Exists(moving))
        .values_list("pk", "state", "lease_until")[:1000]
    )
    for pk, state, lease_until in candidates:
        changed = CollectionJob.objects.filter(pk=pk, state=state, lease_until=lease_until).update(
            state=CollectionJob.State.PENDING, not_before=None, lease_until=now + _queue_lease()
        )
        if changed:
            ids.append(pk)
    return ids
