"""Image and audio battles: the files come by battle token, never by their public names."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.responses.models import Response
from apps.responses.services import response_create
from tests.factories import AIModelFactory, ChallengeFactory
from tests.responses import media_samples as samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def answered(challenge, data):
    return response_create(
        model=AIModelFactory(),
        challenge=challenge,
        prompt=challenge.prompt,
        content="",
        output_type=challenge.output_type,
        collected_at=timezone.now(),
        source=Response.Source.GATEWAY,
        media=data,
    )[0]


@pytest.mark.parametrize(
    ("output_type", "data", "kinds"),
    [
        ("image", samples.png, ("image", "thumb")),
        ("audio", samples.wav, ("audio", "waveform")),
    ],
)
def test_a_media_battle_serves_its_files_by_token_with_nothing_public_in_page_or_headers(
    output_type, data, kinds
):
    challenge = ChallengeFactory(output_type=output_type)
    responses = [answered(challenge, data()), answered(challenge, data())]
    client = Client()
    html = client.get(reverse("arena:arena")).content.decode()
    token = re.search(r'name="battle" value="([^"]+)"', html).group(1)
    assert "/media/" not in html
    for response in responses:
        for field in (response.image, response.image_thumb, response.audio, response.waveform):
            if field:
                assert field.name.rsplit("/", 1)[1].split(".")[0] not in html
    for side in ("a", "b"):
        for kind in kinds:
            url = reverse("arena:media", args=[token, side, kind])
            assert url in html
            served = client.get(url)
            assert served.status_code == 200
            assert served["Cache-Control"] == "private, no-store"
            assert "Content-Disposition" not in served
            assert "ETag" not in served and "Last-Modified" not in served
    # Another visitor cannot fetch this battle's files, and unknown kinds are 404.
    assert Client().get(reverse("arena:media", args=[token, "a", kinds[0]])).status_code == 404
    assert client.get(reverse("arena:media", args=[token, "a", "content"])).status_code == 404
