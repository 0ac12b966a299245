import pytest

from tests.factories import ChallengeFactory, ResponseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_svg_without_a_viewbox_is_made_to_scale_inside_the_frame(live_server, browser):
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300">'
        '<rect width="600" height="300"/></svg>'
    )
    response = ResponseFactory(challenge=ChallengeFactory(output_type="svg"), content=svg)
    page = browser.new_page(viewport={"width": 300, "height": 300})
    page.goto(live_server.url + f"/r/{response.pk}/frame/")
    assert page.locator("svg").get_attribute("viewBox") == "0 0 600 300"
    assert page.locator("svg").bounding_box()["width"] <= 300
    page.close()
