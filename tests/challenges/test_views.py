from datetime import UTC, datetime

import pytest

from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ResponseFactory,
    snapshot_rating,
)

pytestmark = pytest.mark.django_db


def titles(page) -> list[str]:
    # The page's cards, as its template gets them (a callable, for the cached region).
    return [challenge.title for challenge in page.context["cards"]()]


def test_challenges_page_lists_published_challenges_with_response_counts(client):
    challenge = ChallengeFactory(title="Pelican")
    ResponseFactory.create_batch(2, challenge=challenge)
    ResponseFactory(challenge=challenge, model=AIModelFactory(), is_published=False)
    ChallengeFactory(title="Draft", is_published=False)
    page = client.get("/challenges/")
    assert titles(page) == ["Pelican"]
    assert "2 responses" in page.content.decode()


def test_challenges_filter_by_category_output_type_and_search(client):
    svg = CategoryFactory(slug="svg-art", name="SVG art")
    ChallengeFactory(title="Pelican on a bike", category=svg, output_type="svg")
    ChallengeFactory(title="Pelican essay", output_type="text")
    ChallengeFactory(title="Tiger", category=svg, output_type="svg")
    assert titles(client.get("/challenges/?category=svg-art&output_type=svg&q=pelican")) == [
        "Pelican on a bike"
    ]


def test_challenges_sort_by_most_responses(client):
    ChallengeFactory(title="A quiet one")
    busy = ChallengeFactory(title="Busy")
    ResponseFactory.create_batch(3, challenge=busy)
    assert titles(client.get("/challenges/?sort=responses"))[0] == "Busy"


@pytest.mark.parametrize(
    "query", ["?sort=nope", "?output_type=video", "?page=0", "?page=zz", "?q=%00", "?q=%ff"]
)
def test_bad_challenge_filters_never_fail(client, query):
    ChallengeFactory()
    assert client.get("/challenges/" + query).status_code == 200


def test_htmx_challenge_filtering_returns_only_the_results(client):
    ChallengeFactory(title="Pelican")
    page = client.get("/challenges/?q=pel", headers={"HX-Request": "true"})
    html = page.content.decode()
    assert "<html" not in html
    assert 'id="challenge-results"' in html
    assert "HX-Request" in page["Vary"]


def test_challenge_page_shows_prompt_and_a_card_per_response(client):
    challenge = ChallengeFactory(title="Haiku", prompt="Write a haiku about rivers.")
    ResponseFactory(challenge=challenge, model=AIModelFactory(name="Acme: One"), content="Water")
    ResponseFactory(challenge=challenge, model=AIModelFactory(name="Acme: Two"), content="Flow")
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert "Write a haiku about rivers." in html
    assert "Acme: One" in html
    assert "Acme: Two" in html
    assert "2 responses" in html


def test_html_previews_are_lazy_sandboxed_frames(client):
    challenge = ChallengeFactory(output_type="html")
    response = ResponseFactory(challenge=challenge, content="<h1>app</h1>")
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert f'sandbox="allow-scripts" src="/r/{response.pk}/frame/" loading="lazy"' in html
    assert "<h1>app</h1>" not in html


def test_challenge_responses_sort_by_length(client):
    challenge = ChallengeFactory()
    ResponseFactory(challenge=challenge, model=AIModelFactory(name="Short"), content="x")
    ResponseFactory(challenge=challenge, model=AIModelFactory(name="Long"), content="x" * 500)
    page = client.get(challenge.get_absolute_url() + "?sort=longest")
    assert [card.model_name for card in page.context["cards"]()] == ["Long", "Short"]
    assert client.get(challenge.get_absolute_url() + "?sort=bogus").status_code == 200


def test_htmx_sorting_a_challenge_returns_only_the_response_cards(client):
    challenge = ChallengeFactory()
    ResponseFactory(challenge=challenge)
    html = client.get(
        challenge.get_absolute_url() + "?sort=newest", headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in html
    assert 'id="challenge-responses"' in html


def test_unpublished_or_unknown_challenges_are_404(client):
    draft = ChallengeFactory(is_published=False)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get("/challenges/nope/").status_code == 404


def test_text_previews_show_plain_text_not_markdown_marks(client):
    challenge = ChallengeFactory()
    ResponseFactory(
        challenge=challenge, content="## Answer\n\n**No**, see [the docs](https://x.y)."
    )
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert "Answer No, see the docs." in html


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (
            "<b>bold</b> " * 200,
            ">" + "&lt;b&gt;bold&lt;/b&gt; " * 24 + "&lt;b&gt;bold&lt;/b&gt;…</p>",
        ),
        ("e\u0301" * 400, ">" + "\u00e9" * 210 + "</p>"),
        ("\u00e9" * 400, ">" + "\u00e9" * 299 + "…</p>"),
        ("short", ">short</p>"),
    ],
)
def test_text_previews_are_escaped_and_cut_at_300_characters(client, content, shown):
    challenge = ChallengeFactory()
    ResponseFactory(challenge=challenge, content=content)
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert shown in html
    assert "<b>" not in html


def test_response_cards_show_length_date_and_rounded_rating(client):
    challenge = ChallengeFactory()
    response = ResponseFactory(
        challenge=challenge,
        content="x" * 1234,
        collected_at=datetime(2025, 9, 3, 23, 30, tzinfo=UTC),
    )
    snapshot_rating((response.model, 1234.5))
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert (
        'Rating 1235 · 1,234 characters · <time datetime="2025-09-03T23:30:00+00:00">Sep 3, 2025'
        in html
    )
