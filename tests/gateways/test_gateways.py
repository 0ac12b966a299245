"""Our gateway clients over real HTTP against the fake provider."""

import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.catalog.models import Gateway
from apps.collection.models import CollectionJob, CollectionRun
from apps.collection.services import run_create
from apps.collection.tasks import collect_response
from apps.gateways.clients import (
    CompletionRequest,
    MissingAPIKey,
    PermanentGatewayError,
    TransientGatewayError,
    client_for,
    clients_build,
    gateway_base_url,
)
from apps.gateways.openai_compat import environment_proxy
from apps.responses.models import Response
from tests.factories import AIModelFactory, ChallengeFactory


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
    gateway = make_gateway(
        fake, base_url="http://127.0.0.1:9/v1", base_url_env="RIVAL_TEST_BASE_URL"
    )
    monkeypatch.setenv("RIVAL_TEST_BASE_URL", fake.base_url)

    assert gateway_base_url(gateway) == fake.base_url
    assert ask(gateway).content


def test_errors_never_contain_the_key(gateway):
    with pytest.raises(PermanentGatewayError) as caught:
        ask(gateway, prompt="Hi [[fault:401]]")
    assert "sk-test" not in str(caught.value)


def test_a_trickling_answer_is_cut_at_the_call_deadline(gateway, settings):
    # The fake answers in 4 s: headers after 2 s, then a chunk every few tenths of a second,
    # so no read waits as long as the request timeout and, without the deadline, the whole
    # answer would arrive and be returned.
    settings.COLLECTION_REQUEST_TIMEOUT = 3
    settings.COLLECTION_CALL_DEADLINE = 1
    gateway.fake.latency = 4
    with pytest.raises(TransientGatewayError, match="still arriving after 1 s and was cut off"):
        ask(gateway)


def test_a_job_whose_answer_trickles_past_the_deadline_stores_nothing(
    db, fake_provider, make_gateway, settings
):
    settings.COLLECTION_REQUEST_TIMEOUT = 3
    settings.COLLECTION_CALL_DEADLINE = 1
    settings.COLLECTION_MAX_ATTEMPTS = 1
    gateway = make_gateway(fake_provider(latency=4))
    AIModelFactory(gateway=gateway)
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])

    collect_response.apply(args=[run.jobs.get().pk])

    assert not Response.objects.exists()
    assert run.jobs.get().state != CollectionJob.State.DONE


@pytest.fixture
def redirecting_server():
    """A server that answers every POST with a permanent redirect elsewhere."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — the stdlib's name
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(308)
            self.send_header("Location", "https://api.example.com/v1/chat/completions")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):  # noqa: A002 — the stdlib's signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_a_redirect_is_a_permanent_error_that_says_where_to_point(db, redirecting_server, fake_key):
    gateway = Gateway.objects.create(
        name="moved", kind=Gateway.Kind.OPENAI, base_url=redirecting_server, api_key_env=fake_key
    )
    with pytest.raises(PermanentGatewayError) as caught:
        ask(gateway)
    assert caught.value.status == 308
    assert "https://api.example.com/v1/chat/completions" in caught.value.message


def test_the_proxy_comes_from_the_environment_unless_no_proxy_names_the_host(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert environment_proxy("https://openrouter.ai/api/v1/chat/completions") is None

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,vllm.internal")
    assert environment_proxy("https://openrouter.ai/api/v1") == "http://proxy.internal:3128"
    assert environment_proxy("https://vllm.internal/v1") is None
    assert environment_proxy("http://ollama.lan/v1") is None


def test_a_starting_worker_builds_the_clients_of_the_gateways_it_can_call(
    db, fake_provider, make_gateway, monkeypatch
):
    fake = fake_provider()
    ready = make_gateway(fake)
    make_gateway(fake, is_enabled=False)
    make_gateway(fake, api_key_env="RIVAL_TEST_UNSET_API_KEY")
    monkeypatch.delenv("RIVAL_TEST_UNSET_API_KEY", raising=False)

    # The demo gateway (loaded by migrations or not) needs no client; the disabled one and the
    # one without a key are skipped, not errors.
    assert clients_build() == 1
    built = client_for(ready)
    assert client_for(ready) is built
    assert fake.requests() == []
