"""OpenAI-compatible chat completions (OpenRouter, OpenAI, Together, Groq, vLLM, Ollama…).

All outbound HTTP for this kind goes through here. Chat completions — every collected text
answer — are sent with a plain pooled HTTP client and their server-sent events read here:
answers are streamed to measure time to first token, and usage (and OpenRouter's `cost`) come
from the final chunk. Images, speech and the model listing use the official `openai` SDK. No
retries here: Celery retries, with backoff that honours Retry-After.
"""

import contextlib
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import httpx2
import openai

from apps.challenges.models import OutputType
from apps.gateways.base import (
    CallDeadline,
    Completion,
    CompletionRequest,
    GatewayError,
    OnDelta,
    PermanentGatewayError,
    TransientGatewayError,
    error_for_status,
    map_sdk_error,
    parse_retry_after,
    provider_message,
)
from apps.gateways.limits import request_sent
from apps.gateways.openai_media import image_from_chat, image_from_images_api, speech, usage_cost


class OpenAICompatibleClient:
    def __init__(self, *, base_url: str, api_key: str, timeout: float, deadline: float):
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout
        )
        # Chat completions skip the SDK, and httpx's Client too: per call they spent more CPU
        # than the rest of a job (the SDK transforming typed arguments and building options;
        # the Client its auth, redirect and cookie layers), and a worker runs all its calls in
        # one process. The transport keeps httpx's pool (sized as the SDK's), TLS and errors;
        # a proxy comes from the environment as the Client took it.
        self._chat_url = httpx2.URL(f"{base_url.rstrip('/')}/chat/completions")
        self._http = httpx2.HTTPTransport(
            limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=100),
            proxy=environment_proxy(str(self._chat_url)),
        )
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "User-Agent": "rival",
        }
        self._timeout = httpx2.Timeout(timeout).as_dict()
        self._deadline = deadline
        self._images_api = True

    def complete(
        self, request: CompletionRequest, *, on_delta: OnDelta | None = None
    ) -> Completion:
        if request.output_type in (OutputType.IMAGE, OutputType.AUDIO):
            try:
                return self._media(request)
            except GatewayError:
                raise
            except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
                raise map_sdk_error(exc, openai) from exc
        messages = []
        if request.system_prompt:
            messages.append({"role": "system", "content": request.system_prompt})
        messages.append({"role": "user", "content": request.prompt})
        started = time.monotonic()
        try:
            return self._stream(request, messages, started, on_delta)
        except GatewayError:
            raise
        except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
            raise map_sdk_error(exc, openai) from exc

    def _media(self, request: CompletionRequest) -> Completion:
        """Speech from `audio.speech`; an image from the Images API, or — on gateways without
        one (a 404 or 405 there, remembered per client) — from chat completions with image
        output, as OpenRouter offers."""
        if request.output_type == OutputType.AUDIO:
            return speech(self._client, request, deadline=self._deadline)
        if self._images_api:
            try:
                return image_from_images_api(self._client, request)
            except openai.APIStatusError as exc:
                if exc.status_code not in (404, 405):
                    raise
                self._images_api = False
        return image_from_chat(self._client, request)

    def _stream(
        self, request: CompletionRequest, messages: list, started: float, on_delta: OnDelta | None
    ) -> Completion:
        parts: list[str] = []
        ttft_ms = None
        finish_reason = ""
        usage: dict | None = None
        request_id = ""
        body = {
            "model": request.model_id,
            "messages": messages,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            # OpenRouter adds the charged cost to usage when asked; others ignore the field.
            "usage": {"include": True},
        }
        http_request = httpx2.Request(
            "POST",
            self._chat_url,
            headers=self._headers,
            content=json.dumps(body),
            extensions={"timeout": self._timeout},
        )
        response = self._http.handle_request(http_request)
        # Closed however the call ends: the connection goes back to the pool or is dropped.
        with contextlib.closing(response):
            if response.status_code >= 300:
                raise _status_error(response)
            # The provider has our request (headers are back): tell the rate limiter.
            request_sent()
            deadline = CallDeadline(self._deadline, since=started)
            # The body is read to its end, even past `[DONE]`, so the connection goes back to
            # the pool instead of a new one being opened for the next call.
            for chunk in _sse_data(response.iter_bytes()):
                deadline.check()
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
                        if on_delta is not None:
                            on_delta(content)
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
            cost_usd=usage_cost(usage.get("cost")),
            request_id=request_id,
        )


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, with
    NO_PROXY respected), or None."""
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(urllib.parse.urlsplit(url).hostname or ""):
        return None
    return proxies.get(urllib.parse.urlsplit(url).scheme) or proxies.get("all")


def _status_error(response) -> GatewayError:
    """The error for a non-2xx answer, with the provider's own message when its body has one.
    Redirects are not followed (a POST would lose its body on most of them): the message says
    where the gateway's base URL should point instead."""
    if response.status_code < 400:
        location = response.headers.get("location", "")
        return PermanentGatewayError(
            f"HTTP {response.status_code}: the provider redirects to {location or '?'}; "
            "set the gateway's base URL to where it points.",
            status=response.status_code,
        )
    response.read()
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    fallback = response.text[:500] or response.reason_phrase
    return error_for_status(
        response.status_code,
        provider_message(body, fallback),
        parse_retry_after(response.headers.get("retry-after")),
    )


def _sse_data(chunks: Iterator[bytes]) -> Iterator:
    """The JSON payload of each server-sent event in a body arriving as byte chunks, up to
    `data: [DONE]`.

    Reads the body to its end, even past `[DONE]`: a response read to completion returns its
    connection to the pool. Comments (`: OPENROUTER PROCESSING`) and other fields are skipped;
    a payload that is not JSON raises ValueError (a malformed answer, retried).
    """
    data: list[bytes] = []
    done = False
    pending = b""
    for chunk in chunks:
        if done:
            continue
        pending += chunk
        if b"\n" not in chunk:
            continue
        *lines, pending = pending.split(b"\n")
        for line in lines:
            line = line.removesuffix(b"\r")
            if line:
                if line.startswith(b"data:"):
                    value = line[5:]
                    data.append(value[1:] if value.startswith(b" ") else value)
                continue
            if not data:
                continue
            payload = b"\n".join(data)
            data = []
            if payload.startswith(b"[DONE]"):
                done = True
                break
            yield json.loads(payload)
    if done:
        return
    line = pending.removesuffix(b"\r")
    if line.startswith(b"data:"):
        value = line[5:]
        data.append(value[1:] if value.startswith(b" ") else value)
    if data:
        payload = b"\n".join(data)
        if not payload.startswith(b"[DONE]"):
            yield json.loads(payload)


def list_models(*, base_url: str, api_key: str, timeout: float) -> list[dict]:
    """The gateway's `GET /models` listing as plain dicts (OpenRouter adds pricing etc.)."""
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout)
    try:
        return [entry.to_dict() for entry in client.models.list()]
    except (openai.OpenAIError, ValueError) as exc:
        raise map_sdk_error(exc, openai) from exc
