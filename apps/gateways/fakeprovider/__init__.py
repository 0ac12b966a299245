from apps.gateways.fakeprovider.server import (
    DEFAULT_MODELS,
    FAULT_KINDS,
    FakeProvider,
    parse_faults,
)

__all__ = ["DEFAULT_MODELS", "FAULT_KINDS", "FakeProvider", "parse_faults"]
