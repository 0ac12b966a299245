import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from apps.gateways.base import CompletionRequest
from apps.gateways.demo import DemoClient, language_of
from tests.factories import AIModelFactory

# The demo gateway prices its answers from the catalog.
pytestmark = pytest.mark.django_db


def ask(model_id: str, prompt: str, output_type: str = "text"):
    return DemoClient().complete(
        CompletionRequest(
            model_id=model_id,
            prompt=prompt,
            temperature=0.7,
            top_p=1.0,
            max_tokens=4096,
            output_type=output_type,
        )
    )


PROMPT = "Explain how a pelican's beak pouch works to a curious ten-year-old."


def test_the_same_model_and_prompt_always_give_the_same_answer():
    assert ask("openai/gpt-5", PROMPT) == ask("openai/gpt-5", PROMPT)


def test_different_models_give_different_answers_to_the_same_prompt():
    answers = {ask(m, PROMPT).content for m in ["openai/gpt-5", "x-ai/grok-4", "qwen/qwen3-coder"]}
    assert len(answers) == 3


def test_a_text_answer_is_markdown_about_the_prompt():
    content = ask("anthropic/claude-sonnet-4.5", PROMPT).content
    assert content.count("\n## ") >= 3
    assert "pelican" in content.lower()
    assert len(content.split("\n\n")) >= 5


@pytest.mark.parametrize(
    ("prompt", "language"),
    [
        ("Write a Rust program that counts words.", "rust"),
        ("Write a PostgreSQL query for the top customers.", "sql"),
        ("Write a debounce function in TypeScript.", "typescript"),
        ("Implement a rate limiter in Go with a test.", "go"),
        ("Write a Bash script that rotates backups.", "bash"),
        ("Implement an LRU cache.", "python"),
    ],
)
def test_a_code_answer_is_a_fenced_block_in_the_language_the_prompt_names(prompt, language):
    assert language_of(prompt) == language
    content = ask("openai/gpt-5", prompt, "code").content
    assert f"```{language}\n" in content
    assert content.count("```") == 2


@pytest.mark.parametrize("model_id", ["openai/gpt-5", "x-ai/grok-4", "meta-llama/llama-4-scout"])
def test_an_svg_answer_is_well_formed_svg(model_id):
    content = ask(model_id, "Generate an SVG of a pelican riding a bicycle.", "svg").content
    root = ET.fromstring(content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root) >= 4


def test_an_html_answer_is_a_complete_document_with_inline_css_and_js():
    content = ask("google/gemini-2.5-pro", "Build a Pomodoro timer page.", "html").content
    assert content.startswith("<!DOCTYPE html>")
    assert content.rstrip().endswith("</html>")
    for part in ("<head>", "<title>", "<style>", "<body>", "<script>", "</body>"):
        assert part in content


def test_cost_is_the_catalog_price_times_the_tokens():
    AIModelFactory(
        gateway_model_id="anthropic/claude-sonnet-4.5",
        price_input_per_mtok=Decimal(3),
        price_output_per_mtok=Decimal(15),
    )
    completion = ask("anthropic/claude-sonnet-4.5", PROMPT)  # $3 in, $15 out per 1M tokens
    expected = (Decimal(3) * completion.tokens_in + Decimal(15) * completion.tokens_out) / 10**6
    assert completion.cost_usd == expected.quantize(Decimal("0.000001"))


def test_cost_is_unknown_for_a_model_without_a_price():
    assert ask("someone/unpriced-model", PROMPT).cost_usd is None


def test_metrics_look_like_a_real_provider():
    completion = ask("openai/gpt-5", PROMPT)
    assert 0 < completion.ttft_ms < completion.latency_ms < 60_000
    assert completion.tokens_in > 5
    assert completion.tokens_out > 50
    assert completion.finish_reason == "stop"
