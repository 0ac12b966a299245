"""Anthropic Messages API, through the official `anthropic` SDK, streamed.

All outbound HTTP for this kind goes through here. The SDK's own retries are off: Celery
retries, with backoff that honours Retry-After.
"""

import time

import anthropic
import httpx2

from apps.gateways.base import (
    Completion,
    CompletionRequest,
    GatewayError,
    TransientGatewayError,
    map_sdk_error,
)
from apps.gateways.limits import request_sent


class AnthropicClient:
    def __init__(self, *, base_url: str, api_key: str, timeout: float):
        self._client = anthropic.Anthropic(
            base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout
        )

    def complete(self, request: CompletionRequest) -> Completion:
        started = time.monotonic()
        try:
            return self._stream(request, started)
        except GatewayError:
            raise
        except (anthropic.AnthropicError, httpx2.HTTPError, ValueError) as exc:
            raise map_sdk_error(exc, anthropic) from exc

    def _stream(self, request: CompletionRequest, started: float) -> Completion:
        sampling = {"temperature": request.temperature}
        # Recent Claude models refuse temperature and top_p together; send top_p only when
        # it departs from the neutral 1. This SDK no longer types them, so they go as extras.
        if request.top_p != 1:
            sampling["top_p"] = request.top_p
        kwargs = {
            "model": request.model_id,
            "max_tokens": request.max_tokens,
            "messages": [{"role": "user", "content": request.prompt}],
            "extra_body": sampling,
        }
        if request.system_prompt:
            kwargs["system"] = request.system_prompt
        parts: list[str] = []
        ttft_ms = None
        stop_reason = ""
        tokens_in = tokens_out = None
        request_id = ""
        with self._client.messages.stream(**kwargs) as stream:
            # The provider has our request (headers are back): tell the rate limiter.
            request_sent()
            for event in stream:
                if event.type == "message_start":
                    request_id = event.message.id
                    tokens_in = event.message.usage.input_tokens
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    if ttft_ms is None:
                        ttft_ms = int((time.monotonic() - started) * 1000)
                    parts.append(event.delta.text)
                elif event.type == "message_delta":
                    stop_reason = event.delta.stop_reason or ""
                    tokens_out = event.usage.output_tokens
        if not stop_reason:
            raise TransientGatewayError("The answer stream was cut short.")
        return Completion(
            content="".join(parts),
            finish_reason=stop_reason,
            latency_ms=int((time.monotonic() - started) * 1000),
            ttft_ms=ttft_ms,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            request_id=request_id,
        )
