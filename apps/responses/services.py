import secrets
from datetime import datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge, OutputType
from apps.responses import media as media_files
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
    media: bytes | None = None,
) -> tuple[Response, bool]:
    """Store a published response unless the pair already has one.

    Returns (response, created). Safe to call twice for the same pair: the unique constraint
    on published (model, challenge) turns a second delivery into a no-op returning the first.
    `check_existing=False` skips the first lookup for a caller that has just made it; the
    constraint still catches a pair stored in between.

    `media` is the raw image or audio a provider returned for an `image` or `audio` output:
    it is verified and re-encoded (`responses.media`) before anything is written, and
    `MediaRejected` leaves the database and storage untouched.
    """
    verified = _media_verify(output_type, media) if media is not None else None
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
    if verified is not None:
        _media_store(response, verified)
    try:
        # Its own transaction, or a savepoint inside the caller's: a lost race rolls back only
        # this insert.
        with transaction.atomic():
            response.save()
    except IntegrityError:
        # Another worker stored this pair between our check and our insert.
        _media_delete(response)
        return Response.objects.get(model=model, challenge=challenge, is_published=True), False
    return response, True


def _media_verify(output_type: str, data: bytes):
    if output_type == OutputType.IMAGE:
        return media_files.image_verify(data)
    if output_type == OutputType.AUDIO:
        return media_files.audio_verify(data)
    raise media_files.MediaRejected(f"a {output_type} response carries no media")


def _media_store(response: Response, verified) -> None:
    """Write the verified files under fresh random names (not saving the row)."""
    name = secrets.token_urlsafe(16)
    if isinstance(verified, media_files.VerifiedImage):
        response.image.save(f"{name}.png", ContentFile(verified.png), save=False)
        response.image_thumb.save(f"{name}.webp", ContentFile(verified.thumbnail), save=False)
    else:
        response.audio.save(f"{name}.wav", ContentFile(verified.wav), save=False)
        response.waveform.save(f"{name}.png", ContentFile(verified.waveform), save=False)
        response.audio_duration_ms = verified.duration_ms


def _media_delete(response: Response) -> None:
    for field in (response.image, response.image_thumb, response.audio, response.waveform):
        if field:
            field.delete(save=False)
