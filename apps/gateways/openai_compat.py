"""OpenAI-compatible chat completions (OpenRouter, OpenAI, Together, Groq, vLLM, Ollama…).

All outbound HTTP for this kind goes through here, with the official `openai` SDK. Answers are
streamed to measure time to first token; usage (and OpenRouter's `cost`) come from the final
chunk. The SDK's own retries are off: Celery retries, with backoff that honours Retry-After.
"""

import json
import time
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

import httpx2
import openai

from apps.gateways.base import (
    Completion,
    CompletionRequest,
    GatewayError,
    TransientGatewayError,
    map_sdk_error,
)
from apps.gateways.limits import request_sent


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
            raise map_sdk_error(exc, openai) from exc

    def _stream(self, request: CompletionRequest, messages: list, started: float) -> Completion:
        parts: list[str] = []
        ttft_ms = None
        finish_reason = ""
        usage: dict | None = None
        request_id = ""
        # The SDK builds, authenticates and sends the request and turns error statuses into
        # its exceptions; we read the SSE body ourselves. Two reasons, both CPU per call: the
        # SDK's stream stops reading at `data: [DONE]` and closes the response, so the
        # connection is dropped instead of going back to the pool (a new TCP connection per
        # call); and it builds a pydantic model per chunk where a dict does.
        with self._client.chat.completions.with_streaming_response.create(
            model=request.model_id,
            messages=messages,
            temperature=request.temperature,
            top_p=request.top_p,
            max_tokens=request.max_tokens,
            stream=True,
            stream_options={"include_usage": True},
            # OpenRouter adds the charged cost to usage when asked; others ignore the field.
            extra_body={"usage": {"include": True}},
        ) as response:
            # The provider has our request (headers are back): tell the rate limiter.
            request_sent()
            for chunk in _sse_data(response.iter_lines()):
                if not isinstance(chunk, dict):
                    raise ValueError(f"a stream chunk is not an object: {chunk!r:.200}")
                if chunk.get("error"):
                    error = chunk["error"]
                    message = error.get("message") if isinstance(error, dict) else None
                    raise TransientGatewayError(
                        f"Provider error: {message or 'An error occurred during streaming'}"
                    )
                request_id = request_id or chunk.get("id") or ""
                if chunk.get("usage") is not None:
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or ():
                    delta = choice.get("delta") if isinstance(choice, dict) else None
                    if not isinstance(choice, dict) or not isinstance(delta, dict | None):
                        raise ValueError(f"a stream choice is malformed: {choice!r:.200}")
                    content = (delta or {}).get("content")
                    if content:
                        if ttft_ms is None:
                            ttft_ms = int((time.monotonic() - started) * 1000)
                        parts.append(content)
                    if choice.get("finish_reason"):
                        finish_reason = choice["finish_reason"]
            request_id = request_id or response.headers.get("x-request-id", "")
        if not finish_reason:
            # The stream ended without saying why: a half-received answer is never kept.
            raise TransientGatewayError("The answer stream was cut short.")
        usage = usage if isinstance(usage, dict) else {}
        return Completion(
            content="".join(parts),
            finish_reason=finish_reason,
            latency_ms=int((time.monotonic() - started) * 1000),
            ttft_ms=ttft_ms,
            tokens_in=usage.get("prompt_tokens"),
            tokens_out=usage.get("completion_tokens"),
            cost_usd=_cost(usage.get("cost")),
            request_id=request_id,
        )


def _sse_data(lines) -> Iterator:
    """The JSON payload of each server-sent event, up to `data: [DONE]`.

    Reads the body to its end, even past `[DONE]`: a response read to completion returns its
    connection to the pool. Comments (`: OPENROUTER PROCESSING`) and other fields are skipped;
    a payload that is not JSON raises ValueError (a malformed answer, retried).
    """
    data: list[str] = []
    done = False
    for line in lines:
        if done:
            continue
        if not line:
            if data:
                payload = "\n".join(data)
                data = []
                if payload.startswith("[DONE]"):
                    done = True
                    continue
                yield json.loads(payload)
            continue
        if line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data and not done:
        payload = "\n".join(data)
        if not payload.startswith("[DONE]"):
            yield json.loads(payload)


def _cost(raw) -> Decimal | None:
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
        raise map_sdk_error(exc, openai) from exc
