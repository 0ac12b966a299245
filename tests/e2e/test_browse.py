"""Filtering the model list in Chromium, with htmx and with JavaScript turned off."""

import pytest
from playwright.sync_api import expect

from tests.factories import AIModelFactory, ProviderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog():
    acme = ProviderFactory(slug="acme", name="Acme")
    other = ProviderFactory(slug="other", name="Other Lab")
    AIModelFactory(provider=acme, name="Acme: Rocket", size_class="small")
    AIModelFactory(provider=acme, name="Acme: Anvil", size_class="large")
    AIModelFactory(provider=other, name="Other Lab: Sparrow", size_class="small")


def card_titles(page) -> list[str]:
    return sorted(page.locator("#model-results .card-title").all_inner_texts())


def test_htmx_filtering_swaps_only_the_results_pushes_the_url_and_back_restores(
    live_server, page, catalog
):
    page.goto(live_server.url + "/models/")
    page.evaluate("document.querySelector('.filters').dataset.marker = 'original-form'")
    assert len(card_titles(page)) == 3

    with page.expect_response(lambda r: "creator=acme" in r.url):
        page.get_by_label("AI creator").select_option("acme")
    page.wait_for_url("**/models/?*creator=acme*")
    expect(page.locator("#model-results .card")).to_have_count(2)
    assert card_titles(page) == ["Acme: Anvil", "Acme: Rocket"]
    # Only the results were swapped: the form element is the very same node.
    assert page.evaluate("document.querySelector('.filters').dataset.marker") == "original-form"

    with page.expect_response(lambda r: "size=small" in r.url):
        page.get_by_label("Size").select_option("small")
    page.wait_for_url("**size=small*")
    expect(page.locator("#model-results .card")).to_have_count(1)
    assert card_titles(page) == ["Acme: Rocket"]

    page.go_back()
    page.wait_for_url(lambda url: "size=small" not in url and "creator=acme" in url)
    expect(page.locator("#model-results .card")).to_have_count(2)
    assert page.get_by_label("Size").input_value() == ""
    assert page.get_by_label("AI creator").input_value() == "acme"

    page.go_forward()
    page.wait_for_url("**size=small*")
    expect(page.locator("#model-results .card")).to_have_count(1)
    errors = [m.text for m in page.console_messages if m.type == "error"]
    assert errors == [], errors


def test_search_as_you_type_narrows_the_results(live_server, page, catalog):
    page.goto(live_server.url + "/models/")
    page.get_by_label("Search by name").fill("spar")
    page.wait_for_url("**q=spar*")
    expect(page.locator("#model-results .card")).to_have_count(1)
    assert card_titles(page) == ["Other Lab: Sparrow"]


def test_filtering_works_with_javascript_disabled(live_server, browser, catalog):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/models/")
    page.get_by_label("AI creator").select_option("other")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**creator=other*")
    assert card_titles(page) == ["Other Lab: Sparrow"]
    assert page.get_by_label("AI creator").input_value() == "other"
    context.close()


def test_pagination_without_javascript_follows_plain_links(live_server, browser):
    AIModelFactory.create_batch(26)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/models/?sort=name")
    assert page.locator("#model-results .card").count() == 24
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**page=2*")
    assert page.locator("#model-results .card").count() == 2
    context.close()


def test_challenge_filters_and_response_sorting_swap_in_place(live_server, page):
    from tests.factories import CategoryFactory, ChallengeFactory, ResponseFactory

    svg = CategoryFactory(slug="svg-art", name="SVG art")
    pelican = ChallengeFactory(title="Pelican", category=svg, output_type="svg")
    ChallengeFactory(title="Essay", output_type="text")
    ResponseFactory(challenge=pelican, model=AIModelFactory(name="A short"), content="<svg/>")
    ResponseFactory(
        challenge=pelican,
        model=AIModelFactory(name="B long"),
        content="<svg>" + " " * 900 + "</svg>",
    )

    page.goto(live_server.url + "/challenges/")
    page.get_by_label("Category").select_option("svg-art")
    page.wait_for_url("**category=svg-art*")
    expect(page.locator("#challenge-results .card")).to_have_count(1)

    page.get_by_role("link", name="Pelican").click()
    page.wait_for_url("**/challenges/" + pelican.slug + "/")
    titles = page.locator("#challenge-responses .card-title")
    expect(titles.first).to_have_text("A short")
    page.get_by_role("link", name="Longest").click()
    page.wait_for_url("**sort=longest*")
    expect(titles.first).to_have_text("B long")
    page.go_back()
    page.wait_for_url("**/challenges/" + pelican.slug + "/")
    expect(titles.first).to_have_text("A short")
