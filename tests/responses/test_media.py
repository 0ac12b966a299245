from io import BytesIO

import pytest
from django.utils import timezone
from PIL import Image

from apps.responses.media import MediaRejected, audio_verify, image_verify
from apps.responses.models import Response
from apps.responses.services import response_create
from tests.factories import AIModelFactory, ChallengeFactory
from tests.responses import media_samples as samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root) -> list:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def create(output_type: str, media: bytes, **extra):
    return response_create(
        model=extra.pop("model", None) or AIModelFactory(),
        challenge=extra.pop("challenge", None) or ChallengeFactory(output_type=output_type),
        prompt="Draw a pelican",
        content="",
        output_type=output_type,
        collected_at=timezone.now(),
        source=Response.Source.GATEWAY,
        media=media,
        **extra,
    )


def test_an_image_is_stored_reencoded_as_png_with_a_webp_thumbnail(media_root):
    response, created = create("image", samples.jpeg(960, 640))
    assert created
    response.refresh_from_db()
    assert (response.image_width, response.image_height) == (960, 640)
    with Image.open(response.image.path) as image:
        assert image.format == "PNG"
    with Image.open(response.image_thumb.path) as thumb:
        assert thumb.format == "WEBP" and thumb.size == (480, 320)
    # Random names: nothing of the provider's name or the bytes' digest.
    assert response.image.name.startswith("responses/") and len(stored_files(media_root)) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the image is empty"),
        (b"\x89PNG\r\n\x1a\n not really a png", "not a readable PNG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a readable PNG"),
        (samples.bmp(), "the image is BMP"),
        (samples.png_claiming(50_000, 50_000), "over the"),
        (samples.png()[:60], "not a readable PNG"),
    ],
)
def test_hostile_image_bytes_are_refused_and_nothing_is_stored(media_root, data, message):
    with pytest.raises(MediaRejected, match=message):
        create("image", data)
    assert Response.objects.count() == 0
    assert stored_files(media_root) == []


def test_an_image_over_the_byte_cap_is_refused_before_decoding(settings):
    settings.RESPONSE_IMAGE_MAX_BYTES = 100
    with pytest.raises(MediaRejected, match="over the 100-byte cap"):
        image_verify(samples.png(64, 64))


def test_an_image_over_the_pixel_cap_is_refused(settings):
    settings.RESPONSE_IMAGE_MAX_PIXELS = 1000
    with pytest.raises(MediaRejected, match="64×48 pixels"):
        image_verify(samples.png(64, 48))


def test_transparency_survives_reencoding():
    out = BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, "PNG")
    verified = image_verify(out.getvalue())
    with Image.open(BytesIO(verified.png)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


def test_audio_is_stored_as_a_rewritten_wav_with_duration_and_a_waveform(media_root):
    response, _ = create("audio", samples.wav(seconds=1.5))
    response.refresh_from_db()
    assert response.audio_duration_ms == 1500
    assert response.audio.name.endswith(".wav")
    with Image.open(response.waveform.path) as waveform:
        assert waveform.format == "PNG" and waveform.size == (600, 80)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (samples.MP3_HEADER, "not a readable PCM WAV"),
        (samples.wav()[:-100], "cut short"),
        (b"RIFF\x00\x00\x00\x00WAVE", "not a readable PCM WAV"),
        (samples.png(), "not a readable PCM WAV"),
    ],
)
def test_hostile_audio_bytes_are_refused_and_nothing_is_stored(media_root, data, message):
    with pytest.raises(MediaRejected, match=message):
        create("audio", data)
    assert Response.objects.count() == 0
    assert stored_files(media_root) == []


def test_audio_over_the_duration_cap_is_refused(settings):
    settings.RESPONSE_AUDIO_MAX_SECONDS = 1
    with pytest.raises(MediaRejected, match="over the 1 s cap"):
        audio_verify(samples.wav(seconds=2))


def test_a_lost_race_for_the_pair_leaves_only_the_winners_files(media_root):
    first, _ = create("image", samples.png())
    again, created = create(
        "image", samples.png(), model=first.model, challenge=first.challenge, check_existing=False
    )
    assert not created and again.pk == first.pk
    assert len(stored_files(media_root)) == 2
