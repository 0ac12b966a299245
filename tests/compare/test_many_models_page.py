import pytest

from apps.compare.selectors import BATCH_SIZE
from tests.compare.helpers import shared_challenges
from tests.factories import AIModelFactory, CategoryFactory, ChallengeFactory, ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three():
    return [
        AIModelFactory(slug=slug, name=f"Acme: {slug.title()}")
        for slug in ("alpha", "bravo", "charlie")
    ]


def test_three_models_render_as_columns_in_the_order_asked(client, three):
    shared_challenges(three, 2)
    html = client.get("/compare/?models=charlie,alpha,bravo").content.decode()
    assert 'class="tabs-scope cols-3"' in html
    assert html.count('class="col col-2"') == 2
    assert html.index('for="column-0"') < html.index('for="column-2"')
    tabs = html.split('class="tab-labels"')[1].split("</div>")[0]
    assert tabs.index("Charlie") < tabs.index("Alpha") < tabs.index("Bravo")


def test_columns_page_has_a_radio_tab_per_model_for_phones(client, three):
    shared_challenges(three, 1)
    html = client.get("/compare/?models=alpha,bravo,charlie").content.decode()
    for index in range(3):
        assert f'id="column-{index}"' in html and f'for="column-{index}"' in html


def test_two_models_in_the_list_redirect_permanently_to_the_pair_page(client, three):
    page = client.get("/compare/?models=charlie,alpha")
    assert page.status_code == 301
    assert page.headers["Location"] == "/compare/alpha-vs-charlie/"


def test_more_than_four_models_is_a_clear_400(client):
    for slug in "abcde":
        AIModelFactory(slug=slug)
    page = client.get("/compare/?models=a,b,c,d,e")
    assert page.status_code == 400
    assert "at most 4" in page.content.decode()


def test_a_model_listed_twice_is_a_clear_400(client, three):
    page = client.get("/compare/?models=alpha,bravo,alpha")
    assert page.status_code == 400
    assert "listed twice" in page.content.decode()


def test_one_model_is_a_clear_400(client, three):
    assert client.get("/compare/?models=alpha").status_code == 400


def test_an_unknown_model_in_the_list_is_404(client, three):
    assert client.get("/compare/?models=alpha,bravo,ghost").status_code == 404


def test_challenges_not_everyone_answered_are_listed_apart(client, three):
    alpha, bravo, _charlie = three
    shared_challenges(three, 1)
    partly = ChallengeFactory(title="Only two of three")
    ResponseFactory(model=alpha, challenge=partly)
    ResponseFactory(model=bravo, challenge=partly)
    html = client.get("/compare/?models=alpha,bravo,charlie").content.decode()
    shared_part, partial_part = html.split('id="partial-title"')
    assert "Only two of three" not in shared_part
    assert "Only two of three" in partial_part


def test_columns_page_query_count_does_not_grow_with_shared_challenges(
    client, three, django_assert_num_queries
):
    shared_challenges(three, 10)
    with django_assert_num_queries(4):
        client.get("/compare/?models=alpha,bravo,charlie")
    shared_challenges(three, 50)
    with django_assert_num_queries(4):
        client.get("/compare/?models=alpha,bravo,charlie")


def test_columns_page_canonical_lists_the_models_alphabetically(client, three, settings):
    settings.SITE_URL = "https://rival.example"
    shared_challenges(three, 3)
    html = client.get("/compare/?models=charlie,alpha,bravo").content.decode()
    canonical = "https://rival.example/compare/?models=alpha,bravo,charlie"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert "<title>Charlie vs Alpha vs Bravo — 3 challenges compared · Rival</title>" in html


def test_columns_page_links_keep_the_model_list(client, three):
    shared_challenges(three, BATCH_SIZE, category=CategoryFactory(slug="writing"))
    shared_challenges(three, 1, category=CategoryFactory(slug="coding"))
    html = client.get("/compare/?models=alpha,bravo,charlie").content.decode()
    assert 'hx-get="?models=alpha,bravo,charlie&amp;batch=2"' in html
    assert 'href="?models=alpha,bravo,charlie&amp;category=coding"' in html

    batch = client.get(
        "/compare/?models=alpha,bravo,charlie&batch=2", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert batch.count('class="row"') == 1
