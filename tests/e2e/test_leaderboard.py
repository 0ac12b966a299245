"""The leaderboard in Chromium, on a desktop and on a phone: chart above the table, the
style-control toggle as a plain link, the new columns, and no sideways scrolling of the page."""

import pytest

from tests.arena.boards import board_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COLUMNS = ("Rank", "Tier", "Δ rank with style control", "Rival Score", "Order flips with")


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_style_control_toggle_columns_and_chart_at_desktop_and_phone_width(
    live_server, browser, width, height
):
    board_snapshot(120)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/leaderboard/")

        chart = page.locator("figure.board-chart svg").bounding_box()
        table = page.locator("table.board").bounding_box()
        assert chart["y"] < table["y"]
        for name in COLUMNS:
            assert page.get_by_role("columnheader", name=name, exact=True).count() == 1
        assert page.locator("table.board tbody tr").count() == 50
        # The page itself never scrolls sideways; wide parts scroll inside their frames.
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        views = page.get_by_role("navigation", name="Rating view")
        views.get_by_role("link", name="Style control").click()

        page.get_by_text("Style control on:").wait_for()
        assert page.url.endswith("/leaderboard/?style=1")
        current = page.locator('nav.board-views [aria-current="page"]')
        assert current.inner_text() == "Style control"
        assert page.get_by_role("heading", name="Style-controlled ratings with 95% intervals")

        page.get_by_role("link", name="Show all 120 models").click()

        page.wait_for_url("**/leaderboard/?style=1&all=1")
        assert page.locator("table.board tbody tr").count() == 120
    finally:
        context.close()
