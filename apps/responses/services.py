"""The one place responses are written: single, bulk and imported, always with their
rendering (`rendered_html`) stored on the row, and generated media only once verified; and
the one place they leave the arena's blind pool (docs/arena.md)."""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings as django_settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge, OutputType
from apps.responses import media as media_files
from apps.responses import rendering
from apps.responses.models import Response
from rival.cacheversion import content_version_bump
from rival.sqlrows import insert


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
    published: bool = True,
) -> tuple[Response, bool]:
    """Store a published response unless the pair already has one.

    `published=False` stores one that no page, count or export ever includes and that the
    one-per-pair rule ignores: a live battle's answer (docs/arena.md).

    Returns (response, created). Safe to call twice for the same pair: the unique constraint
    on published (model, challenge) turns a second delivery into a no-op returning the first.
    `check_existing=False` skips the first lookup for a caller that has just made it; the
    constraint still catches a pair stored in between.

    `media` is the raw image or audio a provider returned for an `image` or `audio` output:
    it is verified and re-encoded (`responses.media`) before anything is written, and
    `MediaRejected` leaves the database and storage untouched.
    """
    verified = _media_verify(output_type, media) if media is not None else None
    if check_existing and published:
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
        is_published=published,
    )
    if verified is not None:
        _media_store(response, verified)
    try:
        # One INSERT: in autocommit it is its own transaction (an atomic block would only add a
        # BEGIN and a COMMIT, two round trips per collected response); inside the caller's
        # transaction, a savepoint, so a lost race rolls back only this insert.
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                _insert(response)
        else:
            _insert(response)
    except IntegrityError:
        # Another worker stored this pair between our check and our insert.
        _media_delete(response)
        return Response.objects.get(model=model, challenge=challenge, is_published=True), False
    return response, True


def _insert(response: Response) -> None:
    """Save a new response as Model.save() would — its rendering, each field's pre_save and
    database value, the pre_save and post_save signals (the content version bump) — by one
    INSERT composed once (rival/sqlrows.insert): compiling the ORM's cost more CPU than the
    rest of storing a collected answer. Raises IntegrityError when the pair has a published
    response."""
    response.render()
    signal = {"instance": response, "raw": False, "using": connection.alias, "update_fields": None}
    pre_save.send(Response, **signal)
    insert(response)
    post_save.send(Response, created=True, **signal)


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


def responses_create_bulk(responses: Iterable[Response], *, batch_size: int = 2000) -> int:
    """Insert many new published responses in a few statements, each with its rendering.

    Each distinct (content, output type) is rendered once. A pair that already has a published
    response is skipped by the database (the partial unique constraint, ON CONFLICT DO NOTHING),
    so a repeated or concurrent run never stores a pair twice. Returns how many were given.
    """
    rows = list(responses)
    rendered: dict[tuple[str, str], tuple[str, str]] = {}
    for row in rows:
        key = (row.content, row.output_type)
        if key not in rendered:
            rendered[key] = (
                rendering.render_output(row.content, row.output_type),
                rendering.content_hash(row.content, row.output_type),
            )
        row.rendered_html, row.rendered_hash = rendered[key]
    Response.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
    content_version_bump()  # bulk_create sends no signals
    return len(rows)


@dataclass(frozen=True)
class Imported:
    response: Response
    image_written: bool
    # The pair already had a published response from elsewhere; this one stays unpublished.
    kept_unpublished: bool


def response_import(
    *,
    model: AIModel,
    challenge: Challenge,
    fields: dict,
    published: bool,
    image_path: Path | None = None,
) -> Imported:
    """Create or update the imported response (source `import`) of a pair. Idempotent.

    `fields` (prompt, content, output type, dates, notes, settings) are written every time;
    publication only when the row is created, so re-importing never undoes a curator's
    (un)publishing. A pair that already has a published response from elsewhere keeps it.
    An image is stored under a name holding a hash of its bytes and written only when absent.
    """
    response = Response.objects.filter(
        model=model, challenge=challenge, source=Response.Source.IMPORT
    ).first()
    kept_unpublished = False
    if response is None:
        taken = Response.objects.filter(
            model=model, challenge=challenge, is_published=True
        ).exists()
        kept_unpublished = published and taken
        response = Response(model=model, challenge=challenge, is_published=published and not taken)
    for name, value in fields.items():
        setattr(response, name, value)
    response.source = Response.Source.IMPORT
    image_written = False
    if image_path is not None:
        response.content = ""
        image_written = _image_attach(response, image_path, folder=model.slug)
    response.save()
    return Imported(response, image_written, kept_unpublished)


def _image_attach(response: Response, path: Path, *, folder: str) -> bool:
    """Point the response at the stored copy of an image, writing it only when absent."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    field = response.image.field
    name = field.generate_filename(response, f"import/{folder}/{path.stem}-{digest}{path.suffix}")
    if field.storage.exists(name):
        response.image = name
        return False
    with path.open("rb") as handle:
        response.image.save(name.removeprefix(field.upload_to), File(handle), save=False)
    return True


def responses_release(*, ids: Iterable[int]) -> int:
    """Take these responses out of the blind pool now (the arena calls this when they have
    enough counted votes); returns how many were newly released. Idempotent."""
    released = Response.objects.filter(pk__in=list(ids), public_from__isnull=True).update(
        public_from=timezone.now()
    )
    if released:
        content_version_bump()  # update() sends no signals; public pages now show more
    return released


def responses_release_due() -> int:
    """Release every blind response collected at least its challenge's blind days ago
    (ARENA_BLIND_DAYS unless the curator set the challenge's own); returns how many. One
    update for the default and one per distinct override. Idempotent. Live battles' answers
    stay unreleased for ever."""
    now = timezone.now()
    # A live battle's answers are never released (docs/arena.md).
    blind = Response.objects.filter(public_from__isnull=True).exclude(challenge__origin="live")
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
    if released:
        content_version_bump()  # update() sends no signals; public pages now show more
    return released
