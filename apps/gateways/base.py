import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx2


@dataclass(frozen=True)
class CompletionRequest:
    """Everything sent to a provider for one response; recorded verbatim on the response."""

    model_id: str
    prompt: str
    temperature: float
    top_p: float
    max_tokens: int
    system_prompt: str = ""
    output_type: str = "text"

    def sent_settings(self) -> dict:
        return {
            "model_id": self.model_id,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "system_prompt": self.system_prompt,
        }


@dataclass(frozen=True)
class Completion:
    content: str
    finish_reason: str
    latency_ms: int
    tokens_in: int | None = None
    tokens_out: int | None = None
    ttft_ms: int | None = None
    cost_usd: Decimal | None = None
    request_id: str = ""
    extra: dict = field(default_factory=dict)
    # The raw bytes of an image or audio answer, unverified: responses.media checks them.
    media: bytes | None = None

    def response_fields(self) -> dict:
        """What a stored Response records of this completion (cost and media aside: callers
        price and check those)."""
        return {
            "content": self.content,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "finish_reason": self.finish_reason,
            "gateway_request_id": self.request_id,
        }


class GatewayError(Exception):
    transient = False

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


class TransientGatewayError(GatewayError):
    """Worth retrying: timeouts, resets, 429, 5xx, malformed or cut-short answers."""

    transient = True


class PermanentGatewayError(GatewayError):
    """Retrying cannot help: bad request, bad key, unknown model."""


class MissingAPIKey(PermanentGatewayError):
    def __init__(self, env_var: str):
        super().__init__(f"The API key is missing: set the environment variable {env_var}.")
        self.env_var = env_var


class CallDeadline:
    """An overall time limit for one provider call. The HTTP timeout only bounds each read, so
    a stream that keeps trickling would run on past the job's lease — the job is then
    re-queued and the answer paid for twice — and Celery's time limits are not enforced by the
    threads pool. Clients check this between received chunks; what was received is dropped."""

    def __init__(self, seconds: float, *, since: float):
        self.seconds = seconds
        self.ends_at = since + seconds

    def check(self) -> None:
        if time.monotonic() > self.ends_at:
            raise TransientGatewayError(
                f"The answer was still arriving after {self.seconds:g} s and was cut off."
            )


class CallStopped(GatewayError):
    """The caller ended a streaming call between chunks (a Stop button, a deadline): raised by
    the caller's `on_delta`, it closes the stream and passes through the client unchanged."""


# Receives each piece of the answer as it streams in; may raise CallStopped to end the call.
OnDelta = Callable[[str], None]


class GatewayClient(Protocol):
    def complete(
        self, request: CompletionRequest, *, on_delta: OnDelta | None = None
    ) -> Completion: ...


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def provider_message(body: object, fallback: str) -> str:
    """The human message a provider put in its error body, else the fallback."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(body.get("message"), str):
            return body["message"]
    return fallback


def error_for_status(status: int, message: str, retry_after: float | None) -> GatewayError:
    """Transient for 408, 409, 425, 429 and 5xx; permanent for every other 4xx."""
    text = f"HTTP {status}: {message}"
    if status in (408, 409, 425, 429) or status >= 500:
        return TransientGatewayError(text, status=status, retry_after=retry_after)
    return PermanentGatewayError(text, status=status)


def map_sdk_error(exc: Exception, sdk) -> GatewayError:
    """Turn an exception from an official provider SDK (`openai` or `anthropic`: both raise
    the same family of errors, each from its own module) into our transient/permanent split."""
    if isinstance(exc, sdk.APIStatusError):
        return error_for_status(
            exc.status_code,
            provider_message(exc.body, exc.message),
            parse_retry_after(exc.response.headers.get("retry-after")),
        )
    if isinstance(exc, sdk.APITimeoutError | httpx2.TimeoutException):
        return TransientGatewayError("The provider did not answer in time.")
    if isinstance(exc, sdk.APIConnectionError | httpx2.TransportError):
        return TransientGatewayError(f"Connection failed: {exc.__cause__ or exc}")
    if isinstance(exc, sdk.APIResponseValidationError | ValueError):
        return TransientGatewayError(f"Malformed answer from the provider: {exc}")
    if isinstance(exc, sdk.APIError):
        return TransientGatewayError(f"Provider error: {exc.message}")
    return PermanentGatewayError(str(exc))
