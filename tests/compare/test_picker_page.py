import pytest

from apps.arena.services import leaderboard
from tests.compare.helpers import pair, shared_challenges
from tests.factories import (
    AIModelFactory,
    ChallengeFactory,
    ProviderFactory,
    ResponseFactory,
    votes_between,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_search_as_you_type_returns_only_the_results_region_over_htmx(client):
    AIModelFactory(slug="qwen3", name="Qwen: Qwen3 235B")
    AIModelFactory(slug="gpt-4o", name="OpenAI: GPT-4o")
    html = client.get("/compare/?q=qwen", HTTP_HX_TARGET="picker-results", **HTMX).content.decode()
    assert html.lstrip().startswith('<div id="picker-results"')
    assert "Qwen: Qwen3 235B" in html
    assert "GPT-4o" not in html
    assert 'name="add" value="qwen3"' in html


def test_search_without_javascript_renders_the_whole_page_with_results(client):
    AIModelFactory(slug="qwen3", name="Qwen: Qwen3 235B")
    html = client.get("/compare/?q=qwen3").content.decode()
    assert "<h1>Compare AI models</h1>" in html
    assert 'name="add" value="qwen3"' in html


def test_search_matches_the_creator_name_and_hides_models_already_picked(client):
    qwen = ProviderFactory(slug="qwen", name="Qwen")
    AIModelFactory(slug="qwen-a", name="Qwen: A", provider=qwen)
    AIModelFactory(slug="qwen-b", name="Qwen: B", provider=qwen)
    html = client.get("/compare/?q=Qwen&m=qwen-a").content.decode()
    assert 'name="add" value="qwen-b"' in html
    assert 'name="add" value="qwen-a"' not in html
    assert 'name="m" value="qwen-a"' in html


def test_search_that_matches_nothing_says_so(client):
    html = client.get("/compare/?q=zzz").content.decode()
    assert "No model matches “zzz”" in html


def test_adding_and_removing_models_keeps_the_picked_list_in_the_query(client):
    pair()
    html = client.get("/compare/?m=alpha&add=bravo").content.decode()
    assert 'name="m" value="alpha"' in html and 'name="m" value="bravo"' in html
    html = client.get("/compare/?m=alpha&m=bravo&drop=alpha").content.decode()
    assert 'name="m" value="alpha"' not in html and 'name="m" value="bravo"' in html


def test_comparing_two_picked_models_lands_on_their_pair_page(client):
    pair()
    page = client.get("/compare/?m=bravo&m=alpha&go=1")
    assert page.status_code == 302
    assert page.headers["Location"] == "/compare/alpha-vs-bravo/"


def test_comparing_over_htmx_asks_the_browser_to_navigate(client):
    pair()
    page = client.get("/compare/?m=alpha&add=bravo&go=1", HTTP_HX_TARGET="picker", **HTMX)
    assert page.headers["HX-Redirect"] == "/compare/alpha-vs-bravo/"


def test_comparing_three_models_lands_on_the_columns_page(client):
    pair()
    AIModelFactory(slug="charlie")
    page = client.get("/compare/?m=alpha&m=bravo&m=charlie&go=1")
    assert page.headers["Location"] == "/compare/?models=alpha,bravo,charlie"


def test_comparing_one_model_asks_for_a_second(client):
    AIModelFactory(slug="alpha")
    page = client.get("/compare/?m=alpha&go=1")
    assert page.status_code == 200
    assert "Pick at least two models to compare." in page.content.decode()


def test_a_fifth_model_is_refused_with_a_message(client):
    for slug in "abcde":
        AIModelFactory(slug=slug)
    html = client.get("/compare/?m=a&m=b&m=c&m=d&add=e").content.decode()
    assert "at most 4 models" in html
    assert 'name="m" value="e"' not in html


def test_an_unknown_picked_slug_is_reported_not_a_500(client):
    AIModelFactory(slug="alpha")
    page = client.get("/compare/?m=alpha&m=ghost")
    assert page.status_code == 200
    assert "No model is called “ghost”" in page.content.decode()


def test_index_lists_popular_and_recently_viewed_pairs(client):
    alpha, bravo = pair()
    shared_challenges([alpha, bravo], 2)
    html = client.get("/compare/").content.decode()
    assert "Popular comparisons" in html
    assert 'href="/compare/alpha-vs-bravo/"' in html
    assert "2 shared challenges" in html
    assert "Recently compared" not in html

    client.get("/compare/alpha-vs-bravo/")
    html = client.get("/compare/").content.decode()
    assert "Recently compared" in html


def test_index_suggests_one_creators_generations_and_same_size_pairs(client):
    maker = ProviderFactory(slug="maker", name="Maker")
    old = AIModelFactory(slug="maker-1", provider=maker, release_date="2024-01-01")
    new = AIModelFactory(slug="maker-2", provider=maker, release_date="2025-01-01")
    other = AIModelFactory(slug="other-large", release_date="2024-06-01")
    shared_challenges([old, new, other], 1)
    html = client.get("/compare/").content.decode()
    assert "Generations of one creator" in html
    assert "Maker: newer and older generation" in html
    assert "Same size class" in html


@pytest.mark.parametrize("pairs", [2, 12])
def test_index_runs_a_constant_number_of_queries(client, django_assert_num_queries, pairs):
    for index in range(pairs):
        shared_challenges(pair(f"a{index}", f"b{index}"), 2)
    # Search and picked models, then (cached after the first visit) the catalog's pair counts
    # and arena votes, and the suggestions' candidates and ratings.
    with django_assert_num_queries(7):
        client.get("/compare/?q=model&m=a0")
    with django_assert_num_queries(2):
        client.get("/compare/?q=model&m=a0")


def test_popular_comparisons_put_pairs_with_arena_votes_first(client):
    alpha, bravo = pair()
    charlie, delta = pair("charlie", "delta")
    shared_challenges([alpha, bravo], 5)
    voted = ChallengeFactory()
    first = ResponseFactory(model=charlie, challenge=voted)
    second = ResponseFactory(model=delta, challenge=voted)
    votes_between(first, second, "ab")
    html = client.get("/compare/").content.decode()
    popular = html.split('id="popular-title"')[1]
    assert popular.index("/compare/charlie-vs-delta/") < popular.index("/compare/alpha-vs-bravo/")


def test_index_suggests_pairs_with_close_arena_ratings(client):
    models = [AIModelFactory(slug=slug) for slug in ("alpha", "bravo", "charlie")]
    challenge = ChallengeFactory()
    alpha, bravo, charlie = (ResponseFactory(model=m, challenge=challenge) for m in models)
    votes_between(alpha, bravo, "a" * 10 + "b" * 9)
    votes_between(alpha, charlie, "a" * 30)
    leaderboard.leaderboard_recompute(rounds=20)
    html = client.get("/compare/").content.decode()
    close = html.split("Close arena ratings")[1].split("</ul>")[0]
    assert "/compare/alpha-vs-bravo/" in close
    assert "points apart" in close


def test_picker_over_htmx_pushes_its_state_not_the_button_pressed(client):
    pair()
    page = client.get("/compare/?m=alpha&add=bravo", HTTP_HX_TARGET="picker", **HTMX)
    assert page.headers["HX-Push-Url"] == "/compare/?m=alpha&m=bravo"
