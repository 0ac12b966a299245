"""Provider API clients, one module per gateway kind, behind one small interface.

`client_for(gateway)` reads the key from the environment variable the gateway names (never from
the database) and raises MissingAPIKey before any network call when it is unset.
"""

import hashlib
import os
import threading

from django.conf import settings

from apps.catalog.models import Gateway
from apps.gateways.base import (
    CallStopped,
    Completion,
    CompletionRequest,
    GatewayClient,
    GatewayError,
    MissingAPIKey,
    PermanentGatewayError,
    TransientGatewayError,
)

_clients: dict[tuple, GatewayClient] = {}
_clients_lock = threading.Lock()


def gateway_base_url(gateway: Gateway) -> str:
    """The base URL: the env var named by `base_url_env` when set, else `base_url`."""
    if gateway.base_url_env and os.environ.get(gateway.base_url_env):
        return os.environ[gateway.base_url_env].rstrip("/")
    return (gateway.base_url or "").rstrip("/")


def gateway_api_key(gateway: Gateway) -> str:
    """The key from the environment. Local servers (Ollama, vLLM) may name no variable."""
    if not gateway.api_key_env:
        return "no-key"
    key = os.environ.get(gateway.api_key_env, "").strip()
    if not key:
        raise MissingAPIKey(gateway.api_key_env)
    return key


def check_gateway_ready(gateway: Gateway) -> None:
    """Raise a PermanentGatewayError when a gateway cannot be called at all (no key, no URL)."""
    if gateway.kind == Gateway.Kind.DEMO:
        return
    gateway_api_key(gateway)
    if not gateway_base_url(gateway):
        raise PermanentGatewayError(f"Gateway {gateway.name} has no base URL.")


def gateway_is_ready(gateway: Gateway) -> bool:
    """Whether check_gateway_ready passes: the gateway can be called at all."""
    try:
        check_gateway_ready(gateway)
    except PermanentGatewayError:
        return False
    return True


def client_for(gateway: Gateway, *, timeout: float | None = None) -> GatewayClient:
    """The client for a gateway row, reused across calls in this process (connection pool).
    `timeout` bounds each network wait (default COLLECTION_REQUEST_TIMEOUT)."""
    if gateway.kind == Gateway.Kind.DEMO:
        from apps.gateways.demo import DemoClient

        return DemoClient()
    check_gateway_ready(gateway)
    key = gateway_api_key(gateway)
    base_url = gateway_base_url(gateway)
    timeout = settings.COLLECTION_REQUEST_TIMEOUT if timeout is None else timeout
    deadline = settings.COLLECTION_CALL_DEADLINE
    # The cache key holds a digest of the API key, never the key.
    digest = hashlib.sha256(key.encode()).hexdigest()
    cache_key = (gateway.kind, base_url, digest, timeout, deadline)
    # Read without the lock: every call of a busy worker's threads passes here, and the lock
    # is only needed to build a client once.
    client = _clients.get(cache_key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            client = _make_client(
                gateway.kind, base_url=base_url, api_key=key, timeout=timeout, deadline=deadline
            )
            _clients[cache_key] = client
    return client


def clients_build() -> int:
    """Build the clients of every enabled gateway that can be called, as a worker starts: the
    first one costs ~0.1 s of CPU (the SDK, a TLS context), during which every thread whose
    first call needs it waits. Returns how many were built."""
    built = 0
    for gateway in Gateway.objects.filter(is_enabled=True).exclude(kind=Gateway.Kind.DEMO):
        if gateway_is_ready(gateway):
            client_for(gateway)
            built += 1
    return built


def _make_client(kind: str, **kwargs) -> GatewayClient:
    if kind == Gateway.Kind.OPENAI:
        from apps.gateways.openai_compat import OpenAICompatibleClient

        return OpenAICompatibleClient(**kwargs)
    if kind == Gateway.Kind.ANTHROPIC:
        from apps.gateways.anthropic_messages import AnthropicClient

        return AnthropicClient(**kwargs)
    raise PermanentGatewayError(f"Gateway kind {kind!r} has no client.")


__all__ = [
    "CallStopped",
    "Completion",
    "CompletionRequest",
    "GatewayClient",
    "GatewayError",
    "MissingAPIKey",
    "PermanentGatewayError",
    "TransientGatewayError",
    "check_gateway_ready",
    "client_for",
    "clients_build",
    "gateway_api_key",
    "gateway_base_url",
    "gateway_is_ready",
]
