import re

import pytest

from apps.arena.models import Vote
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_visitor_votes_with_the_keyboard_sees_the_reveal_and_gets_the_next_battle(
    live_server, page
):
    challenge = ChallengeFactory(title="Explain recursion")
    first = ResponseFactory(
        blind=True, challenge=challenge, model=AIModelFactory(name="Acme: Alpha")
    )
    second = ResponseFactory(
        blind=True, challenge=challenge, model=AIModelFactory(name="Acme: Beta")
    )
    svg = ChallengeFactory(title="Draw a pelican", output_type="svg")
    for response in (first, second):
        ResponseFactory(
            blind=True,
            challenge=svg,
            model=response.model,
            output_type="svg",
            content='<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
            '<circle cx="5" cy="5" r="4"/></svg>',
        )

    page.goto(live_server.url + "/arena/")
    assert page.get_by_role("heading", name="Which response is better?").count() == 0
    assert page.get_by_text("Which response is better?").is_visible()
    content = page.content()
    assert "Alpha" not in content and "Beta" not in content

    page.keyboard.press("1")

    reveal = page.get_by_role("heading", name="You voted: A is better")
    reveal.wait_for()
    assert page.get_by_role("link", name="Acme: Alpha").is_visible()
    assert page.get_by_role("link", name="Acme: Beta").is_visible()
    assert Vote.objects.get().outcome == "a"

    page.keyboard.press("n")

    page.get_by_text("Which response is better?").wait_for()
    assert re.search(r"/arena/$", page.url)
    assert page.page_errors == []
    errors = [m.text for m in page.console_messages if m.type == "error"]
    assert errors == [], errors
