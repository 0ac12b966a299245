import re

import pytest

from tests.factories import (
    AIModelFactory,
    CapabilityFactory,
    ChallengeFactory,
    ProviderFactory,
    ResponseFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered():
    qwen = ProviderFactory(slug="qwen", name="Qwen")
    model = AIModelFactory(slug="qwen3-5", name="Qwen: Qwen3.5", provider=qwen)
    model.capabilities.add(CapabilityFactory(slug="reasoning", name="Reasoning"))
    challenge = ChallengeFactory(
        slug="eli-expert", title="Explain Like I'm an Expert", prompt="Explain **LLMs**."
    )
    response = ResponseFactory(
        model=model,
        challenge=challenge,
        content="## For the engineer\n\nThink of it as a pipeline.",
        settings={"model_id": "qwen/qwen3.5", "temperature": 0.7, "max_tokens": 8192},
        tokens_in=120,
        tokens_out=900,
        latency_ms=5400,
        ttft_ms=350,
        finish_reason="stop",
    )
    for slug in ("alpha", "beta", "zulu", "omega"):
        ResponseFactory(model=AIModelFactory(slug=slug, name=f"M: {slug}"), challenge=challenge)
    return response


def test_response_page_shows_breadcrumb_prompt_and_rendered_output(client, answered):
    html = client.get("/models/qwen3-5/responses/eli-expert/").content.decode()
    assert '<nav class="breadcrumb" aria-label="Breadcrumb">' in html
    assert '<a href="/models/">Models</a>' in html
    assert '<a href="/models/qwen3-5/">Qwen: Qwen3.5</a>' in html
    assert "Explain **LLMs**." in html
    assert "<h2>For the engineer</h2>" in html
    assert "<p>Think of it as a pipeline.</p>" in html


def test_response_page_has_a_reproducibility_card(client, answered):
    html = client.get(answered.get_absolute_url()).content.decode()
    assert "<code>qwen/qwen3.5</code>" in html
    assert "None (user prompt only)" in html
    assert "120 / 900" in html
    assert "5,400 ms" in html
    assert "350 ms" in html
    assert "stop" in html
    assert "$0.0012" in html


def test_response_page_counts_responders_and_links_three_compare_pages(client, answered):
    html = client.get(answered.get_absolute_url()).content.decode()
    assert "5 models have responded to the" in html
    section = html.split('id="compare-title"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'href="/compare/([a-z0-9-]+)-vs-([a-z0-9-]+)/eli-expert/"', section)
    assert len(links) == 3
    for first, second in links:
        assert first < second
        assert "qwen3-5" in (first, second)


def test_response_page_about_box_and_keep_exploring(client, answered):
    html = client.get(answered.get_absolute_url()).content.decode()
    assert "About Qwen: Qwen3.5" in html
    assert "Reasoning" in html
    assert "Keep exploring" in html
    assert "Same prompt, different result" in html
    assert "Both outputs, side by side" in html


@pytest.mark.parametrize(
    "url",
    [
        "/models/qwen3-5/responses/no-such-challenge/",
        "/models/no-such-model/responses/eli-expert/",
        "/models/alpha/responses/not-answered/",
    ],
)
def test_unknown_response_is_a_404(client, answered, url):
    assert client.get(url).status_code == 404


def test_unpublished_response_or_challenge_is_a_404(client):
    hidden = ResponseFactory(is_published=False)
    draft = ResponseFactory(challenge=ChallengeFactory(is_published=False))
    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_response_page_renders_html_output_in_a_frame_not_inline(client):
    response = ResponseFactory(
        challenge=ChallengeFactory(output_type="html"), content="<h1 id=app>App</h1>"
    )
    html = client.get(response.get_absolute_url()).content.decode()
    assert "<h1 id=app>" not in html
    assert f'src="/r/{response.pk}/frame/"' in html
    assert "View source" in html


def test_reproducibility_card_marks_what_an_imported_response_did_not_record(client):
    response = ResponseFactory(
        settings={},
        tokens_in=None,
        tokens_out=None,
        latency_ms=None,
        cost_usd=None,
        finish_reason="",
        source="import",
    )
    html = client.get(response.get_absolute_url()).content.decode()
    card = html.split('id="repro-title"', 1)[1].split("</section>", 1)[0]
    assert "<dt>Temperature</dt><dd>—</dd>" in card
    assert "<dt>Tokens in / out</dt><dd>— / —</dd>" in card
    assert "Imported dataset" in card


def test_html_output_that_needs_the_network_says_the_sandbox_blocks_it(client):
    needs_cdn = ResponseFactory(
        challenge=ChallengeFactory(output_type="html"),
        content='<script src="https://cdn.example/chart.js"></script><canvas></canvas>',
    )
    offline = ResponseFactory(
        challenge=ChallengeFactory(output_type="html"), content="<h1>All inline</h1>"
    )
    assert "blocks all network access" in client.get(needs_cdn.get_absolute_url()).content.decode()
    assert (
        "blocks all network access" not in client.get(offline.get_absolute_url()).content.decode()
    )


def test_missing_response_404_points_to_what_does_exist(client, answered):
    other = AIModelFactory(slug="lonely", name="M: Lonely")
    page = client.get(f"/models/{other.slug}/responses/eli-expert/")
    html = page.content.decode()
    assert page.status_code == 404
    assert "M: Lonely has not answered" in html
    assert 'href="/challenges/eli-expert/"' in html
    assert 'href="/models/lonely/"' in html
