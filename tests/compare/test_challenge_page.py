import pytest

from tests.compare.helpers import pair, shared_challenges
from tests.factories import ChallengeFactory, ResponseFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def answered():
    alpha, bravo = pair()
    challenge = ChallengeFactory(slug="pelican", title="Pelican essay")
    ResponseFactory(model=alpha, challenge=challenge, content="The pelican rides a red bicycle.")
    ResponseFactory(model=bravo, challenge=challenge, content="The pelican rides a blue bicycle.")
    return alpha, bravo, challenge


def test_one_challenge_in_reverse_order_answers_301(client, answered):
    page = client.get("/compare/bravo-vs-alpha/pelican/?diff=1")
    assert page.status_code == 301
    assert page.headers["Location"] == "/compare/alpha-vs-bravo/pelican/?diff=1"


def test_one_challenge_shows_both_answers_and_a_diff_link_that_works_without_js(client, answered):
    html = client.get("/compare/alpha-vs-bravo/pelican/").content.decode()
    assert "Pelican essay" in html
    assert "red bicycle" in html and "blue bicycle" in html
    assert 'href="?diff=1#diff"' in html
    assert "<del>" not in html


def test_diff_marks_what_only_one_side_wrote(client, answered):
    html = client.get("/compare/alpha-vs-bravo/pelican/?diff=1").content.decode()
    assert "<del>red </del><ins>blue </ins>" in html
    assert "only Model alpha wrote it (1 word)" in html
    assert "only Model bravo wrote it (1 word)" in html


def test_diff_over_htmx_returns_only_the_diff_region(client, answered):
    html = client.get(
        "/compare/alpha-vs-bravo/pelican/?diff=1", HTTP_HX_TARGET="diff", **HTMX
    ).content.decode()
    assert html.lstrip().startswith('<section id="diff"')
    assert "<ins>blue </ins>" in html


def test_html_outputs_offer_no_word_diff(client):
    alpha, bravo = pair()
    challenge = ChallengeFactory(slug="page", output_type="html")
    for model in (alpha, bravo):
        ResponseFactory(model=model, challenge=challenge, content="<p>hi</p>")
    html = client.get("/compare/alpha-vs-bravo/page/?diff=1").content.decode()
    assert "<del>" not in html
    assert "offered when both answers are text or code" in html


def test_a_challenge_only_one_answered_says_who_did_not(client):
    alpha, bravo = pair()
    challenge = ChallengeFactory(slug="solo")
    ResponseFactory(model=alpha, challenge=challenge)
    page = client.get("/compare/alpha-vs-bravo/solo/")
    assert page.status_code == 200
    assert "has not answered this challenge" in page.content.decode()


def test_a_challenge_neither_answered_or_unknown_is_404(client, answered):
    ChallengeFactory(slug="nobody")
    assert client.get("/compare/alpha-vs-bravo/nobody/").status_code == 404
    assert client.get("/compare/alpha-vs-bravo/no-such-challenge/").status_code == 404
    assert client.get("/compare/alpha-vs-ghost/pelican/").status_code == 404


def test_one_challenge_page_has_a_canonical_url(client, answered, settings):
    settings.SITE_URL = "https://rival.example"
    html = client.get("/compare/alpha-vs-bravo/pelican/?diff=1").content.decode()
    assert (
        '<link rel="canonical" href="https://rival.example/compare/alpha-vs-bravo/pelican/">'
        in html
    )


def test_one_challenge_page_runs_the_same_queries_whatever_the_pair_shares(
    client, answered, django_assert_num_queries
):
    alpha, bravo, _ = answered
    with django_assert_num_queries(3):
        client.get("/compare/alpha-vs-bravo/pelican/?diff=1")
    shared_challenges([alpha, bravo], 40)
    with django_assert_num_queries(3):
        client.get("/compare/alpha-vs-bravo/pelican/?diff=1")
