"""Every gateway client hands the answer over piece by piece as it streams, and a caller's
CallStopped ends the call at once: over real HTTP to the fake provider, both protocols."""

import time

import pytest

from apps.catalog.models import Gateway
from apps.gateways.base import CallStopped, CompletionRequest
from apps.gateways.clients import client_for
from apps.gateways.fakeprovider import FakeProvider

pytestmark = pytest.mark.django_db

REQUEST = CompletionRequest(
    model_id="acme/rocket-1", prompt="Explain tides.", temperature=0.7, top_p=1, max_tokens=50
)


@pytest.fixture(params=[Gateway.Kind.OPENAI, Gateway.Kind.ANTHROPIC])
def gateway(request, monkeypatch):
    monkeypatch.setenv("RIVAL_TEST_STREAM_API_KEY", "sk-test-not-a-real-key")
    with FakeProvider(latency=1) as fake:
        base_url = fake.url if request.param == Gateway.Kind.ANTHROPIC else fake.base_url
        yield Gateway.objects.create(
            name=f"fake-{request.param}",
            kind=request.param,
            base_url=base_url,
            api_key_env="RIVAL_TEST_STREAM_API_KEY",
        )


def test_the_answer_arrives_piece_by_piece_before_the_call_returns(gateway):
    arrivals: list[tuple[float, str]] = []

    completion = client_for(gateway).complete(
        REQUEST, on_delta=lambda piece: arrivals.append((time.monotonic(), piece))
    )
    returned = time.monotonic()

    assert len(arrivals) >= 3
    assert "".join(piece for _, piece in arrivals) == completion.content
    assert arrivals[0][0] < returned - 0.2, "the first piece came well before the end"


def test_a_caller_stopping_mid_stream_ends_the_call(gateway):
    seen: list[str] = []

    def stop_after_two(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 2:
            raise CallStopped("stopped")

    with pytest.raises(CallStopped):
        client_for(gateway).complete(REQUEST, on_delta=stop_after_two)
    assert len(seen) == 2
