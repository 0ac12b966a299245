"""Provider API clients, one module per gateway kind, behind one small interface."""

from apps.catalog.models import Gateway
from apps.collection.gateways.base import (
    Completion,
    CompletionRequest,
    GatewayClient,
    GatewayError,
    MissingAPIKey,
    PermanentGatewayError,
    TransientGatewayError,
)


def client_for(gateway: Gateway) -> GatewayClient:
    """The client for a gateway row. Raises MissingAPIKey before any network call."""
    if gateway.kind == Gateway.Kind.DEMO:
        from apps.collection.gateways.demo import DemoClient

        return DemoClient()
    raise PermanentGatewayError(f"Gateway kind {gateway.kind!r} has no client yet.")


__all__ = [
    "Completion",
    "CompletionRequest",
    "GatewayClient",
    "GatewayError",
    "MissingAPIKey",
    "PermanentGatewayError",
    "TransientGatewayError",
    "client_for",
]
