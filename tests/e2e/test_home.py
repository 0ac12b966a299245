import pytest

from tests.factories import ChallengeFactory, ResponseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_home_page_loads_in_chromium_without_console_errors(live_server, page):
    ResponseFactory(challenge=ChallengeFactory(title="Pelican on a bicycle"))

    page.goto(live_server.url + "/")

    assert page.title().startswith("Rival")
    assert page.get_by_role("heading", name="Pelican on a bicycle").first.is_visible()
    assert page.get_by_role("navigation", name="Main").is_visible()
    errors = [m.text for m in page.console_messages if m.type == "error"]
    assert errors == [], errors
    assert page.page_errors == []
    # htmx loaded from our own static files and is running.
    assert page.evaluate("typeof window.htmx") == "object"
