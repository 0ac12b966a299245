from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.arena.services import leaderboard
from apps.compare.selectors import BATCH_SIZE
from tests.compare.helpers import pair, shared_challenges
from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ResponseFactory,
    votes_between,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_pair_in_reverse_order_answers_301_to_the_alphabetical_order(client):
    pair("alpha", "bravo")
    page = client.get("/compare/bravo-vs-alpha/?category=writing")
    assert page.status_code == 301
    assert page.headers["Location"] == "/compare/alpha-vs-bravo/?category=writing"


def test_pair_in_alphabetical_order_is_the_page_itself(client):
    pair("alpha", "bravo")
    assert client.get("/compare/alpha-vs-bravo/").status_code == 200


def test_unknown_model_is_404(client):
    AIModelFactory(slug="alpha")
    assert client.get("/compare/alpha-vs-nobody/").status_code == 404
    assert client.get("/compare/alpha/").status_code == 404
    assert client.get("/compare/-vs-alpha/").status_code == 404


def test_the_same_model_twice_is_a_clear_400_not_a_500(client):
    AIModelFactory(slug="alpha", name="Acme: Alpha")
    page = client.get("/compare/alpha-vs-alpha/")
    assert page.status_code == 400
    assert "compare Acme: Alpha with itself" in page.content.decode()


def test_a_slug_containing_vs_still_resolves(client):
    AIModelFactory(slug="alpha-vs-beta")
    AIModelFactory(slug="zulu")
    assert client.get("/compare/alpha-vs-beta-vs-zulu/").status_code == 200


def test_shared_challenges_are_side_by_side_and_one_sided_ones_listed_apart(client):
    alpha, bravo = pair()
    both = ChallengeFactory(title="Both answered this")
    ResponseFactory(model=alpha, challenge=both, content="Alpha **writes** this")
    ResponseFactory(model=bravo, challenge=both, content="Bravo **writes** that")
    only_alpha = ChallengeFactory(title="Only Alpha answered")
    ResponseFactory(model=alpha, challenge=only_alpha)
    only_bravo = ChallengeFactory(title="Only Bravo answered")
    ResponseFactory(model=bravo, challenge=only_bravo)

    html = client.get("/compare/alpha-vs-bravo/").content.decode()

    shared_part, one_sided_part = html.split('id="partial-title"')
    assert "Both answered this" in shared_part
    # Rendered by the shared safe renderer, as on response pages.
    assert "Alpha <strong>writes</strong> this" in shared_part
    assert "Bravo <strong>writes</strong> that" in shared_part
    assert "Only Alpha answered" not in shared_part
    assert "Only Alpha answered" in one_sided_part
    assert "Only Bravo answered" in one_sided_part
    assert "1 shared challenge compared" in html


def test_unpublished_challenges_and_responses_are_not_compared(client):
    alpha, bravo = pair()
    draft = ChallengeFactory(title="Draft challenge", is_published=False)
    hidden = ChallengeFactory(title="Withdrawn answer")
    for model in (alpha, bravo):
        ResponseFactory(model=model, challenge=draft)
    ResponseFactory(model=alpha, challenge=hidden)
    ResponseFactory(model=bravo, challenge=hidden, is_published=False)

    html = client.get("/compare/alpha-vs-bravo/").content.decode()

    assert "Draft challenge" not in html
    assert "0 shared challenges compared" in html


def test_arena_only_challenges_and_unreleased_answers_are_not_compared(client):
    alpha, bravo = pair()
    arena_only = ChallengeFactory(title="Arena-only challenge", arena_only=True)
    unreleased = ChallengeFactory(title="Not released yet")
    for model in (alpha, bravo):
        ResponseFactory(model=model, challenge=arena_only)
    ResponseFactory(model=alpha, challenge=unreleased)
    ResponseFactory(model=bravo, challenge=unreleased, blind=True)

    html = client.get("/compare/alpha-vs-bravo/").content.decode()

    assert "Arena-only challenge" not in html
    shared_part, one_sided_part = html.split('id="partial-title"')
    assert "Not released yet" not in shared_part
    assert "Not released yet" in one_sided_part
    assert "0 shared challenges compared, 1 answered by only one of them" in html


def test_titles_categories_and_metrics_are_escaped_in_rows_and_one_sided_list(client):
    alpha, bravo = pair()
    hostile = CategoryFactory(slug="hostile", name="<i>Cat</i> & co")
    both = ChallengeFactory(title="<b>Both</b> & more", category=hostile)
    for model in (alpha, bravo):
        ResponseFactory(model=model, challenge=both, content="<script>x()</script> words")
    one = ChallengeFactory(title="<img src=x onerror=y()>", category=hostile)
    ResponseFactory(model=alpha, challenge=one)

    html = client.get("/compare/alpha-vs-bravo/").content.decode()

    shared_part, one_sided_part = html.split('id="partial-title"')
    assert "&lt;b&gt;Both&lt;/b&gt; &amp; more" in shared_part
    assert "&lt;i&gt;Cat&lt;/i&gt; &amp; co · " in shared_part
    assert "<dt>Length</dt>" in shared_part
    assert "&lt;img src=x onerror=y()&gt;</a>" in one_sided_part
    assert '<span class="muted">&lt;i&gt;Cat&lt;/i&gt; &amp; co</span>' in one_sided_part
    for raw in ("<b>Both", "<i>Cat", "<img src=x", "<script>x()"):
        assert raw not in html


def test_specs_mark_the_better_value_in_words(client):
    AIModelFactory(
        slug="alpha",
        context_length=200_000,
        price_input_per_mtok=Decimal("3"),
        price_output_per_mtok=Decimal("15"),
    )
    AIModelFactory(
        slug="bravo",
        context_length=128_000,
        price_input_per_mtok=Decimal("2.5"),
        price_output_per_mtok=Decimal("15"),
    )
    html = client.get("/compare/alpha-vs-bravo/").content.decode()
    assert "200K tokens <strong" in html and "✓ larger" in html
    assert '$2.50 <strong class="mark">✓ cheaper</strong>' in html
    # Equal output prices: neither is marked.
    assert html.count("✓ cheaper") == 1


def test_per_challenge_metrics_mark_the_faster_cheaper_and_shorter_answer(client):
    alpha, bravo = pair()
    challenge = ChallengeFactory()
    ResponseFactory(
        model=alpha,
        challenge=challenge,
        content="one two three",
        latency_ms=900,
        tokens_out=30,
        cost_usd=Decimal("0.002"),
    )
    ResponseFactory(
        model=bravo,
        challenge=challenge,
        content="one two three four five",
        latency_ms=2500,
        tokens_out=50,
        cost_usd=Decimal("0.001"),
    )
    html = client.get("/compare/alpha-vs-bravo/").content.decode()
    alpha_col, bravo_col = html.split('class="col col-1"')
    alpha_col = alpha_col.split('class="col col-0"')[1]
    assert '3 words <strong class="mark">✓ shorter</strong>' in alpha_col
    assert '0.9 s <strong class="mark">✓ faster</strong>' in alpha_col
    assert "✓ fewer" in alpha_col
    assert "✓ cheaper" not in alpha_col
    assert '$0.001 <strong class="mark">✓ cheaper</strong>' in bravo_col
    assert "✓ faster" not in bravo_col


def test_category_filter_shows_only_that_category(client):
    alpha, bravo = pair()
    writing = CategoryFactory(slug="writing", name="Writing")
    coding = CategoryFactory(slug="coding", name="Coding")
    shared_challenges([alpha, bravo], 1, category=writing, title="An essay")
    shared_challenges([alpha, bravo], 1, category=coding, title="A parser")

    html = client.get("/compare/alpha-vs-bravo/?category=coding").content.decode()
    assert "A parser" in html and "An essay" not in html
    assert "Writing (1)" in html and 'href="?category=writing"' in html


def test_category_filter_over_htmx_swaps_only_the_side_by_side_region(client):
    alpha, bravo = pair()
    shared_challenges([alpha, bravo], 1, category=CategoryFactory(slug="w"), title="An essay")
    shared_challenges([alpha, bravo], 1, category=CategoryFactory(slug="c"), title="A parser")
    html = client.get(
        "/compare/alpha-vs-bravo/?category=c", HTTP_HX_TARGET="shared", **HTMX
    ).content.decode()
    assert html.lstrip().startswith('<div id="shared">')
    assert "A parser" in html and "An essay" not in html
    assert "<title>" not in html


def test_outputs_below_the_fold_load_in_batches_with_a_plain_more_link(client):
    alpha, bravo = pair()
    challenges = shared_challenges([alpha, bravo], BATCH_SIZE * 2 + 1)
    titles = sorted(c.title for c in challenges)

    html = client.get("/compare/alpha-vs-bravo/").content.decode()
    assert html.count('class="row"') == BATCH_SIZE
    assert 'href="?page=2#c-' in html
    assert 'hx-get="?batch=2"' in html and 'hx-trigger="revealed"' in html

    batch = client.get("/compare/alpha-vs-bravo/?batch=2", **HTMX).content.decode()
    assert batch.count('class="row"') == BATCH_SIZE
    assert titles[BATCH_SIZE] in batch and titles[0] not in batch
    assert 'hx-get="?batch=3"' in batch

    last = client.get("/compare/alpha-vs-bravo/?batch=3", **HTMX).content.decode()
    assert last.count('class="row"') == 1
    assert "More challenges" not in last

    # Without JavaScript, ?page=2 shows the first two batches in one page.
    plain = client.get("/compare/alpha-vs-bravo/?page=2").content.decode()
    assert plain.count('class="row"') == BATCH_SIZE * 2


def _queries_for(client, url, **extra) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **extra).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize(
    ("url", "extra"),
    [("/compare/alpha-vs-bravo/", {}), ("/compare/alpha-vs-bravo/?batch=2", HTMX)],
)
def test_pair_page_runs_the_same_queries_for_10_and_60_shared_challenges(client, url, extra):
    alpha, bravo = pair()
    shared_challenges([alpha, bravo], 10)
    small = _queries_for(client, url, **extra)
    shared_challenges([alpha, bravo], 50)
    large = _queries_for(client, url, **extra)
    assert len(small) == len(large), "\n".join(large)
    assert len(large) <= 6, "\n".join(large)


def test_pair_page_has_title_description_canonical_and_open_graph(client, settings):
    settings.SITE_URL = "https://rival.example"
    alpha, bravo = pair(name="Acme: Model")
    alpha.name, bravo.name = "Acme: Alpha", "Beta Labs: Bravo"
    alpha.save(), bravo.save()
    shared_challenges([alpha, bravo], 3)
    html = client.get("/compare/alpha-vs-bravo/").content.decode()
    assert "<title>Alpha vs Bravo — 3 challenges compared · Rival</title>" in html
    assert '<meta name="description" content="Acme: Alpha and Beta Labs: Bravo side by side' in html
    url = "https://rival.example/compare/alpha-vs-bravo/"
    assert f'<link rel="canonical" href="{url}">' in html
    assert '<meta property="og:title" content="Alpha vs Bravo — 3 challenges compared">' in html
    assert f'<meta property="og:url" content="{url}">' in html


def test_a_pair_with_nothing_in_common_suggests_pairs_that_have(client):
    alpha, bravo = pair()
    charlie = AIModelFactory(slug="charlie", name="Acme: Charlie")
    shared_challenges([alpha, charlie], 2)
    ResponseFactory(model=bravo, challenge=ChallengeFactory(title="Bravo alone"))

    html = client.get("/compare/alpha-vs-bravo/").content.decode()

    assert "no challenge in common yet" in html
    assert 'href="/compare/alpha-vs-charlie/"' in html
    assert "Bravo alone" in html


def test_html_outputs_are_framed_in_a_sandbox_never_inlined(client):
    alpha, bravo = pair()
    challenge = ChallengeFactory(output_type="html")
    hostile = ResponseFactory(
        model=alpha, challenge=challenge, content="<script>alert('pwned')</script><p>page</p>"
    )
    ResponseFactory(model=bravo, challenge=challenge, content="<h1>Bravo page</h1>")
    html = client.get("/compare/alpha-vs-bravo/").content.decode()
    assert f'sandbox="allow-scripts" src="/r/{hostile.pk}/frame/"' in html
    assert "<script>alert" not in html
    assert "allow-same-origin" not in html


def test_arena_ratings_and_the_head_to_head_record_appear_once_votes_exist(client):
    alpha, bravo = pair()
    challenge = ChallengeFactory()
    first = ResponseFactory(model=alpha, challenge=challenge)
    second = ResponseFactory(model=bravo, challenge=challenge)
    html = client.get("/compare/alpha-vs-bravo/").content.decode()
    assert "no rating yet" in html
    assert "Head to head" not in html

    votes_between(second, first, "a" * 40 + "b" * 5 + "t" * 3 + "x" * 2)
    leaderboard.leaderboard_recompute(rounds=50)
    html = client.get("/compare/alpha-vs-bravo/").content.decode()

    assert "no rating yet" not in html
    assert "Head to head in the arena" in html
    # From the canonical first model's side: Alpha won 5 of the 50 votes, Bravo 40.
    assert "<strong>Model alpha</strong> won 5" in html
    assert "<strong>Model bravo</strong> won 40" in html
    assert "3 ties, 2 “both bad”" in html
    assert html.count("✓ higher") == 1
    bravo_cell = html.split("Arena rating (95% interval)")[1].split("</tr>")[0]
    assert bravo_cell.index("✓ higher") > bravo_cell.index("</td>")
