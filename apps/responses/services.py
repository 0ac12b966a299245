from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge
from apps.responses.models import Response


def response_create(
    *,
    model: AIModel,
    challenge: Challenge,
    prompt: str,
    content: str,
    output_type: str,
    collected_at: datetime,
    source: str,
    settings: dict | None = None,
    tokens_in: int | None = None,
    tokens_out: int | None = None,
    latency_ms: int | None = None,
    ttft_ms: int | None = None,
    cost_usd: Decimal | None = None,
    finish_reason: str = "",
    gateway_request_id: str = "",
    check_existing: bool = True,
) -> tuple[Response, bool]:
    """Store a published response unless the pair already has one.

    Returns (response, created). Safe to call twice for the same pair: the unique constraint
    on published (model, challenge) turns a second delivery into a no-op returning the first.
    `check_existing=False` skips the first lookup for a caller that has just made it; the
    constraint still catches a pair stored in between.
    """
    if check_existing:
        existing = Response.objects.filter(
            model=model, challenge=challenge, is_published=True
        ).first()
        if existing:
            return existing, False
    response = Response(
        model=model,
        challenge=challenge,
        prompt=prompt,
        content=content,
        output_type=output_type,
        collected_at=collected_at,
        source=source,
        settings=settings or {},
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        cost_usd=cost_usd,
        finish_reason=finish_reason,
        gateway_request_id=gateway_request_id,
        is_published=True,
    )
    try:
        # Its own transaction, or a savepoint inside the caller's: a lost race rolls back only
        # this insert.
        with transaction.atomic():
            response.save()
    except IntegrityError:
        # Another worker stored this pair between our check and our insert.
        return Response.objects.get(model=model, challenge=challenge, is_published=True), False
    return response, True


def responses_release(*, ids: Iterable[int]) -> int:
    """Take these responses out of the blind pool now (the arena calls this when they have
    enough counted votes); returns how many were newly released. Idempotent."""
    return Response.objects.filter(pk__in=list(ids), public_from__isnull=True).update(
        public_from=timezone.now()
    )


def responses_release_due() -> int:
    """Release every blind response collected at least its challenge's blind days ago
    (ARENA_BLIND_DAYS unless the curator set the challenge's own); returns how many. One
    update for the default and one per distinct override. Idempotent."""
    now = timezone.now()
    blind = Response.objects.filter(public_from__isnull=True)
    released = blind.filter(
        challenge__blind_days__isnull=True,
        collected_at__lte=now - timedelta(days=django_settings.ARENA_BLIND_DAYS),
    ).update(public_from=now)
    overrides = (
        blind.filter(challenge__blind_days__isnull=False)
        .values_list("challenge__blind_days", flat=True)
        .distinct()
        .order_by()
    )
    for days in list(overrides):
        released += blind.filter(
            challenge__blind_days=days, collected_at__lte=now - timedelta(days=days)
        ).update(public_from=now)
    return released
