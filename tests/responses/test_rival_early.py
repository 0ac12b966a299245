"""Every page of the imported rival-early dataset renders, safely."""

import io

import pytest
from django.core.management import call_command

from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Challenge
from apps.responses.models import Response
from tests.responses import xss
from tests.utils import rival_early_dir

RIVAL_EARLY = rival_early_dir()
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        RIVAL_EARLY is None,
        reason="the rival-early dataset is absent: put it at ../shared/data/rival-early beside "
        "the repository or name its folder in RIVAL_EARLY_DIR",
    ),
]


@pytest.fixture
def imported(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command(
        "import_dataset",
        str(RIVAL_EARLY),
        "--skip-invalid",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


def test_every_page_of_the_imported_rival_early_dataset_renders_safely(client, imported):
    responses = list(Response.objects.select_related("model", "challenge"))
    assert len(responses) > 300
    for response in responses:
        page = client.get(response.get_absolute_url())
        assert page.status_code == 200, response.get_absolute_url()
        assert xss.executable_vectors(page.content.decode()) == [], response.get_absolute_url()

    framed = [r for r in responses if r.output_type in ("html", "svg")]
    assert len(framed) > 150
    for response in framed:
        page = client.get(f"/r/{response.pk}/frame/")
        assert page.status_code == 200
        assert "sandbox allow-scripts" in page["Content-Security-Policy"]

    urls = [
        *(m.get_absolute_url() for m in AIModel.objects.all()),
        *(p.get_absolute_url() for p in Provider.objects.all()),
        *(c.get_absolute_url() for c in Challenge.objects.published()),
        "/",
        "/models/",
        "/creators/",
        "/graveyard/",
        "/challenges/",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url

    image = Response.objects.filter(output_type="image").exclude(image="").first()
    html = client.get(image.get_absolute_url()).content.decode()
    assert f'width="{image.image_width}" height="{image.image_height}"' in html
