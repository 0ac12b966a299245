"""Image and audio battles: the files come by battle token, never by their public names."""

import hashlib
import io
import re
import wave

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.arena.models import Battle
from apps.responses.models import Response
from apps.responses.services import response_create, responses_release
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


def _sound(data: bytes) -> tuple[int, int, np.ndarray]:
    """(sample rate, frames, samples) of a WAV file."""
    with wave.open(io.BytesIO(data), "rb") as source:
        params = source.getparams()
        samples = np.frombuffer(source.readframes(params.nframes), dtype="<i2")
    return params.framerate, params.nframes, samples


def _battle_files(client) -> tuple[str, dict[str, dict[str, bytes]], list]:
    """A new battle's token and what its page links for each side: {side: {kind: bytes}}."""
    page = client.get(reverse("arena:arena"))
    html = page.content.decode()
    token = re.search(r'name="battle" value="([^"]+)"', html).group(1)
    battle = Battle.objects.select_related("response_a", "response_b").get(token=token)
    files, replies = {}, []
    for side in ("a", "b"):
        files[side] = {}
        for kind in ("audio", "waveform"):
            url = reverse("arena:media", args=[token, side, kind])
            assert url in html
            reply = client.get(url)
            assert reply.status_code == 200
            files[side][kind] = reply.content
            replies.append((url, reply))
    sides = {"a": battle.response_a, "b": battle.response_b}
    return html, {sides[side].pk: kinds for side, kinds in files.items()}, replies


def test_battle_audio_and_waveform_share_no_bytes_length_digest_name_or_url_with_public_ones():
    """What a bot compares once the answers are public: the bytes, their digests, the exact
    length, the duration, the URL, file name and validators. The battle copies match on none,
    yet still carry the same sound."""
    challenge = ChallengeFactory(output_type="audio")
    responses = [
        answered(challenge, samples.wav(seconds=0.8, freq=330.0)),
        answered(challenge, samples.wav(seconds=0.8, freq=520.0)),
    ]
    client = Client()
    html, battle, replies = _battle_files(client)
    # The same battle side is the same copy on a second load (a player may fetch it to seek).
    assert client.get(replies[0][0]).content == replies[0][1].content
    # Another battle of the same answers gets other copies.
    _, other_battle, _ = _battle_files(Client())

    responses_release(ids=[r.pk for r in responses])
    for response in responses:
        public_page = Client().get(response.get_absolute_url()).content.decode()
        for kind, field in (("audio", response.audio), ("waveform", response.waveform)):
            public = field.open("rb").read()
            public_url = field.url
            assert public_url in public_page
            name = field.name.rsplit("/", 1)[1]
            stem = name.split(".")[0]
            for copy in (battle[response.pk][kind], other_battle[response.pk][kind]):
                assert copy != public
                assert len(copy) != len(public)
                for digest in (hashlib.sha256, hashlib.md5, hashlib.sha1):
                    assert digest(copy).hexdigest() != digest(public).hexdigest()
            assert battle[response.pk][kind] != other_battle[response.pk][kind]
            assert public_url not in html and stem not in html
            for url, reply in replies:
                assert stem not in url and stem not in str(reply.headers)
        rate, frames, sound = _sound(response.audio.open("rb").read())
        copy_rate, copy_frames, copy = _sound(battle[response.pk]["audio"])
        # Another duration, but the same sound at the same rate: silence, then the samples
        # within one step of the stored ones.
        assert copy_rate == rate and copy_frames > frames
        # Aligned by the first sample that is not silence; a nudge may have moved that sample
        # (a sine starts at 0), so the offsets one or two samples either side are tried too.
        first = int(np.flatnonzero(copy)[0]) - int(np.flatnonzero(sound)[0])
        gap = min(
            np.abs(copy[start : start + frames].astype(int) - sound).max()
            for start in range(max(0, first - 2), first + 3)
        )
        assert gap <= 1
        assert f"{response.audio_duration_ms // 1000} s ·" not in html
    for _, reply in replies:
        assert reply["Cache-Control"] == "private, no-store"
        for header in ("ETag", "Last-Modified", "Content-Disposition"):
            assert header not in reply.headers
