import logging

from django.utils import timezone

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge
from apps.collection.gateways import CompletionRequest, PermanentGatewayError, client_for
from apps.responses.models import Response
from apps.responses.services import response_create

logger = logging.getLogger(__name__)


def completion_request_for(model: AIModel, challenge: Challenge) -> CompletionRequest:
    return CompletionRequest(
        model_id=model.gateway_model_id or model.slug,
        prompt=challenge.prompt,
        system_prompt=challenge.system_prompt,
        temperature=challenge.temperature,
        top_p=challenge.top_p,
        max_tokens=challenge.max_tokens,
        output_type=challenge.output_type,
    )


def response_collect(*, model: AIModel, challenge: Challenge) -> tuple[Response, bool]:
    """Ask the model's gateway for an answer to the challenge and store it.

    Idempotent: a pair that already has a published response is not sent again.
    Raises GatewayError subclasses; nothing is stored when the call fails.
    """
    existing = Response.objects.filter(model=model, challenge=challenge, is_published=True).first()
    if existing:
        return existing, False
    if model.gateway is None:
        raise PermanentGatewayError(f"{model.slug} has no gateway configured.")
    request = completion_request_for(model, challenge)
    completion = client_for(model.gateway).complete(request)
    source = Response.Source.DEMO if model.gateway.kind == "demo" else Response.Source.GATEWAY
    response, created = response_create(
        model=model,
        challenge=challenge,
        prompt=request.prompt,
        content=completion.content,
        output_type=challenge.output_type,
        collected_at=timezone.now(),
        source=source,
        settings={**request.sent_settings(), "gateway": model.gateway.name},
        tokens_in=completion.tokens_in,
        tokens_out=completion.tokens_out,
        latency_ms=completion.latency_ms,
        ttft_ms=completion.ttft_ms,
        cost_usd=completion.cost_usd,
        finish_reason=completion.finish_reason,
        gateway_request_id=completion.request_id,
    )
    logger.info("collected model=%s challenge=%s created=%s", model.slug, challenge.slug, created)
    return response, created
