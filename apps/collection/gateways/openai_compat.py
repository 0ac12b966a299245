"""OpenAI-compatible chat completions (OpenRouter, OpenAI, Together, Groq, vLLM, Ollama…).

All outbound HTTP for this kind goes through here, with the official `openai` SDK. Answers are
streamed to measure time to first token; usage (and OpenRouter's `cost`) come from the final
chunk. The SDK's own retries are off: Celery retries, with backoff that honours Retry-After.
"""

import time
from decimal import Decimal, InvalidOperation

import httpx2
import openai

from apps.collection.gateways.base import (
    Completion,
    CompletionRequest,
    GatewayError,
    PermanentGatewayError,
    TransientGatewayError,
    error_for_status,
    parse_retry_after,
    provider_message,
)
from apps.collection.limits import request_sent


def map_openai_error(exc: Exception) -> GatewayError:
    """Turn an SDK exception into our transient/permanent split."""
    if isinstance(exc, openai.APIStatusError):
        return error_for_status(
            exc.status_code,
            provider_message(exc.body, exc.message),
            parse_retry_after(exc.response.headers.get("retry-after")),
        )
    if isinstance(exc, openai.APITimeoutError):
        return TransientGatewayError("The provider did not answer in time.")
    if isinstance(exc, httpx2.TimeoutException):
        return TransientGatewayError("The provider did not answer in time.")
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return TransientGatewayError(f"Connection failed: {exc.__cause__ or exc}")
    if isinstance(exc, openai.APIResponseValidationError | ValueError):
        return TransientGatewayError(f"Malformed answer from the provider: {exc}")
    if isinstance(exc, openai.APIError):
        return TransientGatewayError(f"Provider error: {exc.message}")
    return PermanentGatewayError(str(exc))


class OpenAICompatibleClient:
    def __init__(self, *, base_url: str, api_key: str, timeout: float):
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout
        )

    def complete(self, request: CompletionRequest) -> Completion:
        messages = []
        if request.system_prompt:
            messages.append({"role": "system", "content": request.system_prompt})
        messages.append({"role": "user", "content": request.prompt})
        started = time.monotonic()
        try:
            return self._stream(request, messages, started)
        except GatewayError:
            raise
        except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
            raise map_openai_error(exc) from exc

    def _stream(self, request: CompletionRequest, messages: list, started: float) -> Completion:
        parts: list[str] = []
        ttft_ms = None
        finish_reason = ""
        usage = None
        request_id = ""
        stream = self._client.chat.completions.create(
            model=request.model_id,
            messages=messages,
            temperature=request.temperature,
            top_p=request.top_p,
            max_tokens=request.max_tokens,
            stream=True,
            stream_options={"include_usage": True},
            # OpenRouter adds the charged cost to usage when asked; others ignore the field.
            extra_body={"usage": {"include": True}},
        )
        # The provider has our request (headers are back): tell the rate limiter.
        request_sent()
        with stream:
            for chunk in stream:
                request_id = request_id or chunk.id or ""
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.delta and choice.delta.content:
                        if ttft_ms is None:
                            ttft_ms = int((time.monotonic() - started) * 1000)
                        parts.append(choice.delta.content)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        if not finish_reason:
            # The stream ended without saying why: a half-received answer is never kept.
            raise TransientGatewayError("The answer stream was cut short.")
        return Completion(
            content="".join(parts),
            finish_reason=finish_reason,
            latency_ms=int((time.monotonic() - started) * 1000),
            ttft_ms=ttft_ms,
            tokens_in=getattr(usage, "prompt_tokens", None),
            tokens_out=getattr(usage, "completion_tokens", None),
            cost_usd=_cost(usage),
            request_id=request_id,
        )


def _cost(usage) -> Decimal | None:
    raw = getattr(usage, "cost", None) if usage is not None else None
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def list_models(*, base_url: str, api_key: str, timeout: float) -> list[dict]:
    """The gateway's `GET /models` listing as plain dicts (OpenRouter adds pricing etc.)."""
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout)
    try:
        return [entry.to_dict() for entry in client.models.list()]
    except (openai.OpenAIError, ValueError) as exc:
        raise map_openai_error(exc) from exc
