import re

import pytest

from apps.lab.models import LabRun
from tests.factories import AIModelFactory, ProviderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_visitor_runs_a_prompt_and_answers_appear_by_polling(
    live_server, page, celery_worker_process
):
    provider = ProviderFactory(name="Acme")
    for name in ("Alpha", "Beta", "Gamma"):
        AIModelFactory(provider=provider, name=f"Acme: {name}")

    page.goto(live_server.url + "/lab/")
    page.get_by_label("Prompt").fill("Explain how tides work, for a curious ten-year-old.")
    page.get_by_label("Acme: Alpha").check()
    page.get_by_label("Acme: Gamma").check()
    page.get_by_role("button", name="Run the prompt").click()

    page.wait_for_url(re.compile(r"/lab/[A-Za-z0-9_-]{20,}/$"))
    assert page.get_by_text("Waiting for a worker…").count() == 2
    # A marker that a full reload would wipe: the answers must arrive by htmx, in place.
    page.evaluate("window.labMarker = 'still here'")

    celery_worker_process("--pool", "solo", "-Q", "celery,lab")

    page.locator("article.lab-done").nth(1).wait_for(timeout=30_000)
    assert page.evaluate("window.labMarker") == "still here"
    assert page.locator("article.lab-result").count() == 2
    assert page.locator("[hx-trigger]").count() == 0, "polling stops when every answer is in"
    assert page.get_by_role("heading", name="Acme: Alpha").is_visible()
    assert page.locator(".lab-done .prose h2").count() >= 2
    run = LabRun.objects.get()
    assert set(run.results.values_list("state", flat=True)) == {"done"}

    assert page.page_errors == []
    errors = [m.text for m in page.console_messages if m.type == "error"]
    assert errors == [], errors


def test_the_form_explains_what_is_wrong_without_starting_a_run(live_server, page):
    AIModelFactory(name="Acme: Alpha")
    AIModelFactory(name="Acme: Beta")

    page.goto(live_server.url + "/lab/")
    page.get_by_label("Prompt").fill("Only one model chosen")
    page.get_by_label("Acme: Alpha").check()
    page.get_by_role("button", name="Run the prompt").click()

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Choose 2 to 4 models (you chose 1)." in alert.inner_text()
    assert page.get_by_label("Prompt").input_value() == "Only one model chosen"
    assert LabRun.objects.count() == 0


@pytest.mark.parametrize("width", [1280, 390])
def test_lab_pages_have_no_serious_axe_violations_and_no_console_errors(
    live_server, browser, width
):
    from axe_playwright_python.sync_playwright import Axe

    from apps.lab.tasks import lab_generate

    for name in ("Alpha", "Beta"):
        AIModelFactory(name=f"Acme: {name}")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    console = []
    page.on("console", lambda msg: console.append(msg))
    axe = Axe()
    problems = {}

    def check(name):
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in axe.run(page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            problems[name] = bad

    page.goto(live_server.url + "/lab/")
    check("form")
    page.get_by_role("button", name="Run the prompt").click()
    page.get_by_role("alert").wait_for()
    check("form with errors")
    page.get_by_label("Prompt").fill("Make a small HTML page with a button.")
    page.get_by_label("Acme: Alpha").check()
    page.get_by_label("Acme: Beta").check()
    page.get_by_label("HTML page").check()
    page.get_by_role("button", name="Run the prompt").click()
    page.wait_for_url(re.compile(r"/lab/[A-Za-z0-9_-]{20,}/$"))
    check("run, pending")
    for result in LabRun.objects.get().results.all():
        lab_generate.apply(args=[result.pk])
    page.locator("article.lab-done").nth(1).wait_for()
    page.locator("iframe.output-frame").first.wait_for()
    check("run, done")
    context.close()

    assert problems == {}
    # The refused form is answered with 400 on purpose; Chromium logs that status, nothing else.
    errors = [m.text for m in console if m.type == "error" and "status of 400" not in m.text]
    assert errors == [], errors


def test_without_javascript_the_run_page_reloads_itself_until_the_answers_are_in(
    live_server, browser
):
    from apps.lab.tasks import lab_generate

    for name in ("Alpha", "Beta"):
        AIModelFactory(name=f"Acme: {name}")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/lab/")
    page.get_by_label("Prompt").fill("Explain tides.")
    page.get_by_label("Acme: Alpha").check()
    page.get_by_label("Acme: Beta").check()
    page.get_by_role("button", name="Run the prompt").click()
    page.wait_for_url(re.compile(r"/lab/[A-Za-z0-9_-]{20,}/$"))
    assert page.get_by_role("link", name="Refresh").count() == 1

    for result in LabRun.objects.get().results.all():
        lab_generate.apply(args=[result.pk])

    page.locator("article.lab-done").nth(1).wait_for(timeout=15_000)
    assert page.get_by_role("link", name="Refresh").count() == 0
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    context.close()
