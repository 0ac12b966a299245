"""Hostile outputs opened in a real Chromium: nothing runs in our document, and framed
outputs run only inside their sandbox, with no way out and no network."""

import pytest

from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory
from tests.responses import xss

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Runs inside the frame: proves scripts do run there, and records what the sandbox refused.
CANARY = "\n".join(
    [
        "<!doctype html><title>canary</title><body><script>",
        "var out = [];",
        "try { window.top.__pwned = 1; out.push('set-top-global'); }",
        "catch (e) { out.push('top-global-blocked'); }",
        "try { window.top.document.title = 'pwned'; out.push('read-top-document'); }",
        "catch (e) { out.push('top-document-blocked'); }",
        "try { localStorage.setItem('x', '1'); out.push('storage'); }",
        "catch (e) { out.push('storage-blocked'); }",
        "fetch('/beacon-fetch')",
        "  .then(function () { out.push('fetched'); }, function () { out.push('fetch-blocked'); })",
        "  .then(function () { document.body.dataset.result = out.join(' '); });",
        "new Image().src = '/beacon-image';",
        "</script></body>",
    ]
)


def record_responses(page) -> list[str]:
    """URLs that got an answer. Requests the CSP blocks are announced but never answered."""
    answered: list[str] = []
    page.on("response", lambda response: answered.append(response.url))
    return answered


def open_and_check(page, url: str, requests: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.evaluate("window.__pwned") is None, url
    assert "pwned" not in page.title(), url
    assert page.url == url
    assert not [r for r in requests if "evil.example" in r or "beacon" in r], requests


def test_no_payload_runs_in_our_document_in_chromium(live_server, page):
    requests = record_responses(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    model = AIModelFactory()
    urls = []
    for index, (output_type, payload) in enumerate(xss.corpus()):
        challenge = ChallengeFactory(output_type=output_type, title=f"Payload {index}")
        response = ResponseFactory(model=model, challenge=challenge, content=payload)
        urls.append(live_server.url + response.get_absolute_url())
    for url in urls:
        open_and_check(page, url, requests)
    # The model page links every payload's response; the challenge list shows every title.
    open_and_check(page, live_server.url + model.get_absolute_url(), requests)
    assert dialogs == []


def test_a_challenge_page_full_of_hostile_previews_runs_nothing_in_our_document(
    live_server, browser
):
    context = browser.new_context(viewport={"width": 1280, "height": 6000})
    page = context.new_page()
    requests = record_responses(page)
    challenge = ChallengeFactory(output_type="html", title="Hostile apps")
    for payload in [*xss.HTML_PAYLOADS, *xss.SVG_PAYLOADS]:
        ResponseFactory(challenge=challenge, content=payload)
    open_and_check(page, live_server.url + challenge.get_absolute_url(), requests)
    assert len(page.frames) > len(xss.HTML_PAYLOADS)
    context.close()


def test_framed_output_runs_its_scripts_but_cannot_reach_us_or_the_network(live_server, page):
    requests = record_responses(page)
    response = ResponseFactory(challenge=ChallengeFactory(output_type="html"), content=CANARY)

    page.goto(live_server.url + response.get_absolute_url())
    frame = page.frame_locator("iframe.output-frame")
    result = frame.locator("body[data-result]")
    result.wait_for(state="attached")
    outcome = result.get_attribute("data-result").split()

    assert "top-global-blocked" in outcome
    assert "top-document-blocked" in outcome
    assert "fetch-blocked" in outcome
    assert "storage-blocked" in outcome
    assert "set-top-global" not in outcome
    assert page.evaluate("window.__pwned") is None
    assert not [r for r in requests if "beacon" in r], requests


def test_view_source_toggle_shows_the_escaped_source_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    response = ResponseFactory(
        challenge=ChallengeFactory(output_type="svg"), content="<svg><script>x()</script></svg>"
    )
    page.goto(live_server.url + response.get_absolute_url())
    page.get_by_text("View source").click()
    assert page.locator(".output-source pre").inner_text().startswith("<svg><script>")
    context.close()
