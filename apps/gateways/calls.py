"""The one way to ask a model for an answer: build the request, then `complete()` it.

Every caller that reaches a provider (collection jobs, the Prompt Lab) goes through
`complete()`, so the gateway's concurrency and requests-per-second limits always apply, shared
by every process through Redis (see limits.py).
"""

from django.conf import settings

from apps.catalog.models import AIModel, Gateway
from apps.challenges.models import Challenge
from apps.gateways.base import Completion, CompletionRequest
from apps.gateways.clients import client_for
from apps.gateways.limits import gateway_slot


def completion_request(
    model: AIModel,
    *,
    prompt: str,
    output_type: str,
    system_prompt: str = "",
    temperature: float | None = None,
    top_p: float | None = None,
    max_tokens: int | None = None,
) -> CompletionRequest:
    """The request for one model; unset generation settings are the site's defaults."""
    return CompletionRequest(
        model_id=model.gateway_model_id or model.slug,
        prompt=prompt,
        system_prompt=system_prompt,
        temperature=settings.RIVAL_DEFAULT_TEMPERATURE if temperature is None else temperature,
        top_p=settings.RIVAL_DEFAULT_TOP_P if top_p is None else top_p,
        max_tokens=settings.RIVAL_DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens,
        output_type=output_type,
    )


def completion_request_for(model: AIModel, challenge: Challenge) -> CompletionRequest:
    """The request for a challenge, with the challenge's own generation settings."""
    return completion_request(
        model,
        prompt=challenge.prompt,
        system_prompt=challenge.system_prompt,
        temperature=challenge.temperature,
        top_p=challenge.top_p,
        max_tokens=challenge.max_tokens,
        output_type=challenge.output_type,
    )


def complete(
    gateway: Gateway, request: CompletionRequest, *, wait: float, lease: float
) -> Completion:
    """Send one request through the gateway, holding one of its slots for the call.

    Waits up to `wait` seconds for a slot, then raises SlotUnavailable (a transient error); a
    slot not released within `lease` seconds (its worker died) frees itself. A gateway that
    cannot be called (no key, no URL) raises before waiting. Raises GatewayError subclasses.
    """
    client = client_for(gateway)
    with gateway_slot(gateway, wait=wait, lease=lease):
        return client.complete(request)
