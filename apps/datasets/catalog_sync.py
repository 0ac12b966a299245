"""Keep the catalog in step with a gateway's `/models` listing (OpenRouter's format)."""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from apps.catalog.models import Gateway, Provider
from apps.catalog.services import model_listed_upsert, models_unlisted_deprecate, provider_ensure
from apps.gateways.clients import (
    PermanentGatewayError,
    check_gateway_ready,
    gateway_api_key,
    gateway_base_url,
)

logger = logging.getLogger(__name__)


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deprecated: list[str] = field(default_factory=list)


def fetch_listing(gateway: Gateway) -> list[dict]:
    if gateway.kind != Gateway.Kind.OPENAI:
        raise PermanentGatewayError(f"Gateway {gateway.name} has no /models listing to sync.")
    check_gateway_ready(gateway)
    from apps.gateways.openai_compat import list_models

    return list_models(
        base_url=gateway_base_url(gateway),
        api_key=gateway_api_key(gateway),
        timeout=settings.COLLECTION_REQUEST_TIMEOUT,
    )


def catalog_sync(gateway: Gateway) -> SyncResult:
    """Create and update models from the listing; models gone from it become deprecated.

    Never deletes. Retired models stay retired. Raises GatewayError when the listing cannot be
    read, before anything changes.
    """
    listing = [entry for entry in fetch_listing(gateway) if entry.get("id")]
    result = _apply(gateway, listing)
    logger.info(
        "sync_catalog gateway=%s created=%s updated=%s deprecated=%s",
        gateway.name,
        len(result.created),
        len(result.updated),
        len(result.deprecated),
    )
    return result


@transaction.atomic
def _apply(gateway: Gateway, listing: list[dict]) -> SyncResult:
    result = SyncResult()
    for entry in listing:
        model, created = model_listed_upsert(
            gateway=gateway,
            gateway_model_id=entry["id"],
            slug=slugify(entry["id"].replace("/", "-").replace(":", "-"))[:110] or "model",
            provider=_provider(entry),
            facts=_facts(entry),
            initial={"description": (entry.get("description") or "")[:5000]},
            modalities=_modalities(entry),
        )
        (result.created if created else result.updated).append(model.slug)
    result.deprecated = models_unlisted_deprecate(
        gateway=gateway, listed={entry["id"] for entry in listing}
    )
    return result


def _provider(entry: dict) -> Provider:
    prefix = entry["id"].split("/", 1)[0] if "/" in entry["id"] else "other"
    name = entry.get("name", "")
    display = name.split(": ", 1)[0] if ": " in name else prefix.replace("-", " ").title()
    return provider_ensure(slug=slugify(prefix)[:80] or "other", name=display)


def _facts(entry: dict) -> dict:
    pricing = entry.get("pricing") or {}
    created = entry.get("created")
    return {
        "name": (entry.get("name") or entry["id"])[:160],
        "context_length": entry.get("context_length") or None,
        "price_input_per_mtok": _per_million(pricing.get("prompt")),
        "price_output_per_mtok": _per_million(pricing.get("completion")),
        "release_date": (datetime.fromtimestamp(int(created), tz=UTC).date() if created else None),
    }


def _per_million(per_token) -> Decimal | None:
    """OpenRouter prices per token, as strings; the catalog keeps USD per million tokens."""
    if per_token in (None, ""):
        return None
    try:
        value = Decimal(str(per_token)) * 1_000_000
    except InvalidOperation:
        return None
    if value < 0:  # OpenRouter uses -1 for "varies" (its router models)
        return None
    return value.quantize(Decimal("0.0001"))


def _modalities(entry: dict) -> list[str]:
    arch = entry.get("architecture") or {}
    inputs = set(arch.get("input_modalities") or [])
    outputs = set(arch.get("output_modalities") or [])
    if not inputs and arch.get("modality"):
        left, _, right = arch["modality"].partition("->")
        inputs, outputs = set(left.split("+")), set(right.split("+"))
    slugs = set()
    if "text" in inputs | outputs:
        slugs.add("text")
    if "image" in inputs:
        slugs.add("vision")
    if "image" in outputs:
        slugs.add("image")
    if "audio" in inputs | outputs:
        slugs.add("audio")
    if len(inputs) > 1:
        slugs.add("multimodal")
    return sorted(slugs)
