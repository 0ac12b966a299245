import pytest
from playwright.sync_api import expect

from apps.compare.selectors import BATCH_SIZE
from tests.compare.helpers import shared_challenges
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _no_errors(page):
    errors = [m.text for m in page.console_messages if m.type == "error"]
    assert errors == [], errors
    assert page.page_errors == []


@pytest.fixture
def models():
    made = [
        AIModelFactory(slug="alpha", name="Acme: Alpha"),
        AIModelFactory(slug="bravo", name="Beta Labs: Bravo"),
        AIModelFactory(slug="charlie", name="Cee: Charlie"),
    ]
    shared_challenges(made, BATCH_SIZE * 2 + 1)
    return made


def _settled(page):
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling,"
        " .htmx-added')"
    )


def test_picking_two_models_in_the_picker_lands_on_their_pair_page(live_server, page, models):
    page.goto(live_server.url + "/compare/")

    page.get_by_label("Find a model").press_sequentially("brav")
    page.get_by_role("button", name="Add Beta Labs: Bravo").click()
    expect(page.get_by_role("button", name="Remove Beta Labs: Bravo")).to_be_visible()
    expect(page.get_by_label("Find a model")).to_have_value("")
    # htmx wires the swapped-in picker up when the swap settles (~20 ms after it is in the
    # page); keys typed before that start no search, so wait as a person's next keystroke
    # would.
    _settled(page)
    page.get_by_label("Find a model").press_sequentially("alph")
    page.get_by_role("button", name="Add Acme: Alpha").click()
    expect(page.get_by_role("button", name="Remove Acme: Alpha")).to_be_visible()
    page.get_by_role("button", name="Compare 2 models").click()

    expect(page).to_have_url(live_server.url + "/compare/alpha-vs-bravo/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha vs Bravo")
    _no_errors(page)


def test_outputs_below_the_fold_load_as_the_visitor_scrolls(live_server, page, models):
    page.goto(live_server.url + "/compare/alpha-vs-bravo/")
    rows = page.locator("article.row")
    expect(rows).to_have_count(BATCH_SIZE)

    page.get_by_role("link", name="More challenges").scroll_into_view_if_needed()
    expect(rows).to_have_count(BATCH_SIZE * 2)
    page.get_by_role("link", name="More challenges").scroll_into_view_if_needed()
    expect(rows).to_have_count(BATCH_SIZE * 2 + 1)
    expect(page.get_by_role("link", name="More challenges")).to_have_count(0)
    _no_errors(page)


def test_on_a_phone_the_columns_become_tabs(live_server, browser, models):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/compare/?models=alpha,bravo,charlie")

    first_row = page.locator("article.row").first
    alpha = first_row.get_by_role("group", name="Acme: Alpha")
    bravo = first_row.get_by_role("group", name="Beta Labs: Bravo")
    expect(alpha).to_be_visible()
    expect(bravo).to_be_hidden()

    page.locator("label", has_text="Bravo").click()
    expect(bravo).to_be_visible()
    expect(alpha).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_pair_page_fits_a_phone_screen_without_sideways_scrolling(live_server, browser, models):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/compare/alpha-vs-bravo/")
    expect(page.get_by_role("heading", name="Specifications")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


@pytest.mark.parametrize(
    "path",
    ["/compare/", "/compare/alpha-vs-bravo/", "/compare/?models=alpha,bravo,charlie"],
)
def test_compare_pages_pass_an_automated_accessibility_check(live_server, page, models, path):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(live_server.url + path)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_word_diff_toggles_in_place_and_the_page_passes_accessibility_checks(live_server, page):
    from axe_playwright_python.sync_playwright import Axe

    alpha = AIModelFactory(slug="alpha", name="Acme: Alpha")
    bravo = AIModelFactory(slug="bravo", name="Beta Labs: Bravo")
    challenge = ChallengeFactory(slug="pelican", title="Pelican essay")
    ResponseFactory(model=alpha, challenge=challenge, content="The pelican rides a red bicycle.")
    ResponseFactory(model=bravo, challenge=challenge, content="The pelican rides a blue bicycle.")

    page.goto(live_server.url + "/compare/alpha-vs-bravo/pelican/")
    page.get_by_role("link", name="Show what one said that the other did not").click()
    expect(page.locator(".diff del")).to_have_text("red ")
    expect(page.locator(".diff ins")).to_have_text("blue ")
    expect(page).to_have_url(live_server.url + "/compare/alpha-vs-bravo/pelican/?diff=1")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    _no_errors(page)


def test_without_javascript_the_picker_and_the_more_link_still_work(live_server, browser, models):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/compare/")

    page.get_by_label("Find a model").fill("bravo")
    page.get_by_label("Find a model").press("Enter")
    page.get_by_role("button", name="Add Beta Labs: Bravo").click()
    page.get_by_label("Find a model").fill("alpha")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Add Acme: Alpha").click()
    page.get_by_role("button", name="Compare 2 models").click()
    expect(page).to_have_url(live_server.url + "/compare/alpha-vs-bravo/")

    rows = page.locator("article.row")
    expect(rows).to_have_count(BATCH_SIZE)
    page.get_by_role("link", name="More challenges").click()
    expect(rows).to_have_count(BATCH_SIZE * 2)
    context.close()
