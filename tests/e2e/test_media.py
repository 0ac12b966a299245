"""The image and audio galleries in Chromium: drawn at desktop and phone widths, axe clean,
and the full image one click (no JavaScript) away."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.responses.models import Response
from apps.responses.services import response_create, responses_release
from tests.e2e.screens import screenshot
from tests.factories import AIModelFactory, ChallengeFactory
from tests.responses import media_samples as samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def picture(seed: int) -> bytes:
    from io import BytesIO

    image = Image.new("RGB", (768, 512), (240 - seed * 30, 230, 200 + seed * 10))
    draw = ImageDraw.Draw(image)
    draw.ellipse((200 + seed * 40, 120, 520 + seed * 20, 400), fill=(60 + seed * 40, 90, 160))
    draw.rectangle((80, 380, 700, 420), fill=(40, 40, 40))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def galleries(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    models = [AIModelFactory(name=f"Acme: Painter {n}") for n in range(1, 4)]
    pelican = ChallengeFactory(title="A pelican riding a bicycle", output_type="image")
    speech = ChallengeFactory(title="Read a limerick aloud", output_type="audio")
    for index, model in enumerate(models):
        for challenge, data in (
            (pelican, picture(index)),
            (speech, samples.wav(seconds=1 + index, freq=220 * (index + 1))),
        ):
            response, _ = response_create(
                model=model,
                challenge=challenge,
                prompt=challenge.prompt,
                content="",
                output_type=challenge.output_type,
                collected_at=timezone.now(),
                source=Response.Source.GATEWAY,
                media=data,
            )
            # Out of the arena's blind pool, onto the public galleries.
            responses_release(ids=[response.pk])
    return models


@pytest.mark.parametrize("width", [1280, 390])
def test_image_grid_and_audio_players_render_and_are_axe_clean(
    live_server, browser, galleries, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    axe = Axe()
    problems = {}
    for name, url in (("images", "/images/"), ("audio", "/audio/")):
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if name == "images":
            images = page.locator(".gallery-grid img.output-image")
            assert images.count() == 3
            assert all(images.nth(i).evaluate("i => i.naturalWidth > 0") for i in range(3))
        else:
            assert page.locator(".gallery-grid audio[controls]").count() == 3
            # The waveform loads lazily (`loading="lazy"`), so the page's load event does not
            # wait for it: wait for it as a visitor's eyes would, then check its size.
            page.wait_for_function(
                "() => { const i = document.querySelector('.gallery-grid img.waveform');"
                " return i !== null && i.complete && i.naturalWidth > 0; }"
            )
            assert page.locator(".gallery-grid img.waveform").first.evaluate(
                "i => i.naturalWidth === 600"
            )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in axe.run(page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            problems[name] = bad
        screenshot(page, f"{name}-{width}", full_page=True)
    context.close()
    assert problems == {}


def test_the_full_image_opens_from_its_thumbnail_without_javascript(
    live_server, browser, galleries
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/images/")
    href = page.locator(".gallery-grid a.image-link").first.get_attribute("href")
    full = page.request.get(live_server.url + href)
    assert full.status == 200 and full.headers["content-type"] == "image/png"
    context.close()
