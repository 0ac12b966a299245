"""Requests a visitor can make expensive: page numbers, and word diffs of long answers."""

import pytest
import redis
from django.conf import settings

from apps.compare.diff import MAX_CHARS, MAX_WORDS
from apps.compare.selectors import BATCH_SIZE
from apps.responses.models import Response
from tests.compare.helpers import pair, shared_challenges
from tests.factories import ChallengeFactory, ResponseFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
DIFF = "/compare/alpha-vs-bravo/pelican/?diff=1"


def test_a_page_beyond_the_last_redirects_to_the_last_page(client):
    shared_challenges(pair(), BATCH_SIZE * 2 + 1)

    beyond = client.get("/compare/alpha-vs-bravo/?page=1000&category=")
    assert beyond.status_code == 302
    assert beyond.headers["Location"] == "/compare/alpha-vs-bravo/?page=3"
    assert client.get("/compare/alpha-vs-bravo/?page=3").status_code == 200


def test_with_a_single_page_any_later_page_redirects_to_the_page_itself(client):
    shared_challenges(pair(), 2)
    beyond = client.get("/compare/alpha-vs-bravo/?page=99999999999999999999")
    assert beyond.status_code == 302 and beyond.headers["Location"] == "/compare/alpha-vs-bravo/"


def test_a_batch_beyond_the_last_is_a_404(client):
    shared_challenges(pair(), BATCH_SIZE + 1)
    assert client.get("/compare/alpha-vs-bravo/?batch=2", **HTMX).status_code == 200
    assert client.get("/compare/alpha-vs-bravo/?batch=3", **HTMX).status_code == 404


def answers(first: str, second: str):
    alpha, bravo = pair()
    challenge = ChallengeFactory(slug="pelican", title="Pelican essay")
    ResponseFactory(model=alpha, challenge=challenge, content=first)
    ResponseFactory(model=bravo, challenge=challenge, content=second)


def cached_diffs() -> int:
    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    return sum(1 for _ in server.scan_iter("*compare:diff:*"))


def test_a_diff_is_computed_once_per_pair_and_again_when_an_answer_changes(client):
    answers("The pelican rides a red bicycle.", "The pelican rides a blue bicycle.")
    assert "<del>red </del>" in client.get(DIFF).content.decode()
    assert cached_diffs() == 1
    assert "<del>red </del>" in client.get(DIFF).content.decode()
    assert cached_diffs() == 1

    # Saved as an edit is (update() would skip the signal that tells the page cache).
    changed = Response.objects.get(model__slug="alpha")
    changed.content = "The pelican rides a green bicycle."
    changed.save()
    assert "<del>green </del>" in client.get(DIFF).content.decode()
    assert cached_diffs() == 2


def test_answers_over_the_word_cap_get_a_note_instead_of_a_diff(client):
    answers("word " * (MAX_WORDS + 1), "other " * 10)
    html = client.get(DIFF).content.decode()
    assert "too long for a readable word-level diff" in html
    assert "<del>" not in html


def test_an_answer_over_the_character_cap_is_not_even_split_into_words(client):
    answers("x" * (MAX_CHARS + 1), "short")
    assert "too long for a readable word-level diff" in client.get(DIFF).content.decode()
