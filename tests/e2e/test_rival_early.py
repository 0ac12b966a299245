"""Real HTML apps from the rival-early dataset run inside their sandbox in Chromium."""

import io

import pytest
from django.core.management import call_command

from apps.responses.models import Response
from tests.utils import rival_early_dir

RIVAL_EARLY = rival_early_dir()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(RIVAL_EARLY is None, reason="the rival-early dataset is absent"),
]


def test_rival_early_html_apps_render_inside_the_sandbox(live_server, page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command(
        "import_dataset",
        str(RIVAL_EARLY),
        "--skip-invalid",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    apps = Response.objects.filter(output_type="html").select_related("model", "challenge")
    for response in apps.order_by("pk")[:8]:
        page.goto(live_server.url + response.get_absolute_url())
        frame = page.frame_locator("iframe.output-frame")
        frame.locator("body").wait_for(state="attached")
        assert frame.locator("body *").count() > 0, response.get_absolute_url()
        assert page.evaluate("window.__pwned") is None
        assert page.title().startswith(response.model.name)
