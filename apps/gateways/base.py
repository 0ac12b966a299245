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


class GatewayClient(Protocol):
    def complete(self, request: CompletionRequest) -> Completion: ...


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
