"""The fake provider speaks the real protocols: the official SDKs work against it unchanged."""

import json
import urllib.request

import anthropic
import openai
import pytest

from apps.gateways.fakeprovider import parse_faults
from apps.gateways.fakeprovider.faults import fault_for


def test_openai_sdk_gets_a_plain_completion_with_usage(fake_provider):
    fake = fake_provider()
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)

    completion = client.chat.completions.create(
        model="acme/rocket-1", messages=[{"role": "user", "content": "Hello"}]
    )

    assert completion.choices[0].message.content.endswith("you asked for.")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens > 0


def test_openai_sdk_streams_with_usage_in_the_final_chunk(fake_provider):
    fake = fake_provider()
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)

    chunks = list(
        client.chat.completions.create(
            model="acme/rocket-1",
            messages=[{"role": "user", "content": "Hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith("you asked for.")
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens > 0
    assert fake.requests()[0].stream is True


def test_openai_sdk_lists_models_with_openrouter_fields(fake_provider):
    fake = fake_provider()
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)

    listing = [m.to_dict() for m in client.models.list()]

    assert listing[0]["id"] == "acme/rocket-1"
    assert listing[0]["pricing"]["prompt"] == "0.000001"


def test_anthropic_sdk_gets_a_message_and_a_stream(fake_provider):
    fake = fake_provider()
    client = anthropic.Anthropic(base_url=fake.url, api_key="k", max_retries=0)
    messages = [{"role": "user", "content": "Hello"}]

    message = client.messages.create(model="claude-x", max_tokens=50, messages=messages)
    with client.messages.stream(model="claude-x", max_tokens=50, messages=messages) as stream:
        streamed = stream.get_final_message()

    assert message.content[0].text.endswith("you asked for.")
    assert streamed.content[0].text == message.content[0].text
    assert streamed.stop_reason == "end_turn"
    assert streamed.usage.output_tokens > 0


def test_a_prompt_marker_injects_a_fault_for_the_first_attempts_only(fake_provider):
    fake = fake_provider(retry_after=3)
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
    messages = [{"role": "user", "content": "Hi [[fault:429:1]]"}]

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="m", messages=messages)
    second = client.chat.completions.create(model="m", messages=messages)

    assert caught.value.response.headers["retry-after"] == "3"
    assert second.choices[0].finish_reason == "stop"
    assert [r.status for r in fake.requests()] == [429, 200]


def test_fault_rates_are_deterministic_for_a_seed():
    def faults(seed):
        return [fault_for({"500": 0.3}, seed, "m", f"prompt {i}", 1) for i in range(50)]

    assert faults(7) == faults(7)
    assert 5 < faults(7).count("500") < 25
    with pytest.raises(ValueError):
        parse_faults("teapot=0.1")


def test_stats_endpoint_reports_requests_with_timestamps(fake_provider):
    fake = fake_provider()
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])

    with urllib.request.urlopen(f"{fake.url}/_stats") as answer:
        stats = json.load(answer)

    assert len(stats["requests"]) == 1
    assert stats["requests"][0]["path"] == "/v1/chat/completions"
    assert stats["requests"][0]["t"] > 0
