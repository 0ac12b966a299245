"""Our gateway clients over real HTTP against the fake provider."""

from decimal import Decimal

import pytest

from apps.catalog.models import Gateway
from apps.gateways.clients import (
    CompletionRequest,
    MissingAPIKey,
    PermanentGatewayError,
    TransientGatewayError,
    client_for,
    gateway_base_url,
)


def ask(gateway, prompt="Write a haiku.", model="acme/rocket-1"):
    request = CompletionRequest(
        model_id=model, prompt=prompt, temperature=0.7, top_p=1.0, max_tokens=200
    )
    return client_for(gateway).complete(request)


@pytest.fixture(params=[Gateway.Kind.OPENAI, Gateway.Kind.ANTHROPIC])
def gateway(request, db, fake_provider, make_gateway, settings):
    settings.COLLECTION_REQUEST_TIMEOUT = 1
    fake = fake_provider(latency=0.05, retry_after=2, hang=3)
    gw = make_gateway(fake, kind=request.param)
    gw.fake = fake
    return gw


def test_a_streamed_answer_comes_with_usage_and_time_to_first_token(gateway):
    completion = ask(gateway)

    assert completion.content.endswith("you asked for.")
    assert completion.finish_reason in ("stop", "end_turn")
    assert completion.tokens_in > 0 and completion.tokens_out > 0
    assert 0 < completion.ttft_ms <= completion.latency_ms
    assert completion.request_id
    assert gateway.fake.requests()[0].stream is True


def test_openrouter_cost_field_is_used_when_present(db, fake_provider, make_gateway):
    gateway = make_gateway(fake_provider())
    completion = ask(gateway)
    # The fake charges $0.000001 per token and reports it in usage.cost, as OpenRouter does.
    tokens = completion.tokens_in + completion.tokens_out
    assert completion.cost_usd == Decimal(tokens) * Decimal("0.000001")


@pytest.mark.parametrize("fault", ["cut", "malformed", "500", "timeout"])
def test_broken_answers_are_transient_errors(gateway, fault):
    with pytest.raises(TransientGatewayError):
        ask(gateway, prompt=f"Hi [[fault:{fault}]]")


def test_429_is_transient_and_carries_retry_after(gateway):
    with pytest.raises(TransientGatewayError) as caught:
        ask(gateway, prompt="Hi [[fault:429]]")
    assert caught.value.status == 429
    assert caught.value.retry_after == 2


def test_401_is_permanent_with_the_providers_message(gateway):
    with pytest.raises(PermanentGatewayError) as caught:
        ask(gateway, prompt="Hi [[fault:401]]")
    assert not caught.value.transient
    assert "Invalid API key provided" in caught.value.message


def test_a_missing_key_fails_before_any_request(gateway, monkeypatch):
    monkeypatch.delenv(gateway.api_key_env)

    with pytest.raises(MissingAPIKey) as caught:
        ask(gateway)

    assert gateway.api_key_env in caught.value.message
    assert gateway.fake.requests() == []


def test_the_base_url_env_var_overrides_the_stored_url(
    db, fake_provider, make_gateway, monkeypatch
):
    fake = fake_provider()
    gateway = make_gateway(fake, base_url="http://127.0.0.1:9/v1", base_url_env="RIVAL_TEST_URL")
    monkeypatch.setenv("RIVAL_TEST_URL", fake.base_url)

    assert gateway_base_url(gateway) == fake.base_url
    assert ask(gateway).content


def test_errors_never_contain_the_key(gateway):
    with pytest.raises(PermanentGatewayError) as caught:
        ask(gateway, prompt="Hi [[fault:401]]")
    assert "sk-test" not in str(caught.value)
