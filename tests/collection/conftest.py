import uuid

import pytest

from apps.catalog.models import Gateway
from apps.collection.fakeprovider import FakeProvider

FAKE_KEY_ENV = "RIVAL_TEST_FAKE_PROVIDER_API_KEY"


@pytest.fixture
def fake_provider():
    """A fake provider on an ephemeral port; `fake_provider(latency=…, faults=…)` for more."""
    started: list[FakeProvider] = []

    def start(**options) -> FakeProvider:
        options.setdefault("hang", 5)
        fake = FakeProvider(**options).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def fake_key(monkeypatch):
    """The fake provider's API key, in the environment that workers started later inherit."""
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test-not-a-real-key")
    return FAKE_KEY_ENV


@pytest.fixture
def make_gateway(fake_key):
    def make(fake: FakeProvider, kind: str = Gateway.Kind.OPENAI, **fields) -> Gateway:
        defaults = {
            "name": f"fake-{uuid.uuid4().hex[:10]}",
            "base_url": fake.url if kind == Gateway.Kind.ANTHROPIC else fake.base_url,
            "api_key_env": fake_key,
            "max_concurrency": 16,
            "requests_per_second": 1000.0,
        }
        return Gateway.objects.create(kind=kind, **{**defaults, **fields})

    return make
