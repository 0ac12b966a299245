"""Image and speech collection end to end: a real worker, the fake provider over HTTP, and
the hostile answers a provider may send (corrupt bytes, a wrong MIME type, oversize files)."""

import pytest
from PIL import Image

from apps.collection.models import CollectionJob, CollectionRun
from apps.collection.services import run_create
from apps.responses.models import Response
from tests.factories import AIModelFactory, ChallengeFactory
from tests.utils import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HOSTILE = {
    "badmedia": ("not a readable", "not a readable PCM WAV"),
    "wrongmime": ("not a readable PNG", "not a readable PCM WAV"),
    "oversize": ("pixel cap", "over the 300 s cap"),
}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def collect(challenges, worker, media_root):
    worker("--pool", "threads", "--concurrency", "4", env={"MEDIA_ROOT": str(media_root)})
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=challenges)
    wait_for(
        lambda: CollectionRun.objects.get(pk=run.pk).state == CollectionRun.State.FINISHED,
        timeout=120,
        interval=0.2,
    )
    return run


def test_images_and_speech_are_collected_verified_and_stored(
    celery_worker_process, fake_provider, make_gateway, media_root
):
    fake = fake_provider()
    images_api = AIModelFactory(gateway=make_gateway(fake), gateway_model_id="acme/painter")
    chat_only = fake_provider(chat_images_only=True)
    chat_model = AIModelFactory(gateway=make_gateway(chat_only), gateway_model_id="or/painter")
    picture = ChallengeFactory(output_type="image", prompt="A lighthouse at dusk")
    speech = ChallengeFactory(output_type="audio", prompt="Read: the quick brown fox")

    collect([picture, speech], celery_worker_process, media_root)

    for model in (images_api, chat_model):
        image = Response.objects.get(model=model, challenge=picture)
        with Image.open(image.image.path) as stored:
            assert stored.format == "PNG" and stored.size == (512, 512)
        assert image.image_thumb.name.endswith(".webp")
    audio = Response.objects.get(model=images_api, challenge=speech)
    assert audio.audio.name.endswith(".wav") and audio.audio_duration_ms > 500
    assert audio.waveform.name.endswith(".png")
    # OpenRouter-style: the chat answer's reported cost is kept.
    assert str(Response.objects.get(model=chat_model, challenge=picture).cost_usd) == "0.038700"
    paths = {r.path for r in fake.requests()}
    assert {"/v1/images/generations", "/v1/audio/speech"} <= paths
    assert {r.path for r in chat_only.requests()} >= {"/v1/chat/completions"}


def test_hostile_media_fails_its_job_with_the_reason_and_stores_nothing(
    celery_worker_process, fake_provider, make_gateway, media_root
):
    model = AIModelFactory(gateway=make_gateway(fake_provider()), gateway_model_id="acme/x")
    challenges = {
        (fault, kind): ChallengeFactory(output_type=kind, prompt=f"Make it [[fault:{fault}]]")
        for fault in HOSTILE
        for kind in ("image", "audio")
    }

    run = collect(list(challenges.values()), celery_worker_process, media_root)

    assert not Response.objects.exists()
    stored = [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []
    assert stored == []
    for (fault, kind), challenge in challenges.items():
        job = run.jobs.get(challenge=challenge)
        assert job.state == CollectionJob.State.FAILED, (fault, kind)
        expected = HOSTILE[fault][0 if kind == "image" else 1]
        assert f"Refused the {kind}" in job.last_error and expected in job.last_error, (
            job.last_error
        )
        assert job.attempts == 1
    assert model.responses.count() == 0
