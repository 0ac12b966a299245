import pytest
from django.urls import reverse
from django.utils import timezone

from apps.responses.models import Response
from apps.responses.services import response_create, responses_release
from tests.factories import AIModelFactory, ChallengeFactory
from tests.responses import media_samples as samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def stored(model, challenge, data):
    """A collected media answer, released from the arena's blind pool to the public pages."""
    response = response_create(
        model=model,
        challenge=challenge,
        prompt=challenge.prompt,
        content="",
        output_type=challenge.output_type,
        collected_at=timezone.now(),
        source=Response.Source.GATEWAY,
        media=data,
    )[0]
    responses_release(ids=[response.pk])
    response.refresh_from_db()
    return response


@pytest.fixture
def gallery():
    pelican = ChallengeFactory(title="Pelican on a bicycle", output_type="image")
    hidden = ChallengeFactory(title="Draft picture", output_type="image", is_published=False)
    speech = ChallengeFactory(title="Read a limerick", output_type="audio")
    alpha, beta = AIModelFactory(name="Acme: Alpha"), AIModelFactory(name="Acme: Beta")
    return {
        "alpha": stored(alpha, pelican, samples.png()),
        "beta": stored(beta, pelican, samples.jpeg()),
        "hidden": stored(alpha, hidden, samples.png()),
        "audio": stored(alpha, speech, samples.wav()),
    }


def test_images_page_shows_each_models_picture_with_thumbnail_srcset_and_full_link(client, gallery):
    html = client.get(reverse("responses:images")).content.decode()
    assert "Pelican on a bicycle" in html and "Draft picture" not in html
    alpha = gallery["alpha"]
    assert f'href="{alpha.image.url}"' in html
    assert f'srcset="{alpha.image_thumb.url} 480w, {alpha.image.url} 64w"' in html
    assert 'alt="Acme: Alpha — Pelican on a bicycle"' in html
    assert "Read a limerick" not in html


def test_images_page_filters_by_model_and_ignores_unknown_models(client, gallery):
    html = client.get(reverse("responses:images"), {"model": gallery["beta"].model.slug}).content
    assert gallery["beta"].image.url in html.decode()
    assert gallery["alpha"].image.url not in html.decode()
    html = client.get(reverse("responses:images"), {"model": "nope"}).content.decode()
    assert gallery["alpha"].image.url in html and gallery["beta"].image.url in html


def test_audio_page_has_a_player_a_waveform_and_the_duration(client, gallery):
    html = client.get(reverse("responses:audio")).content.decode()
    audio = gallery["audio"]
    assert f'<audio controls preload="none" src="{audio.audio.url}"' in html
    assert audio.waveform.url in html
    assert "1 s" in html or "0 s" in html


def test_gallery_runs_a_constant_number_of_queries(client, gallery, django_assert_max_num_queries):
    for _ in range(5):
        stored(AIModelFactory(), ChallengeFactory(output_type="image"), samples.png())
    with django_assert_max_num_queries(4):
        client.get(reverse("responses:images"))


def test_an_image_response_page_links_its_thumbnail_to_the_full_image(client, gallery):
    alpha = gallery["alpha"]
    html = client.get(alpha.get_absolute_url()).content.decode()
    assert f'<a class="image-link" href="{alpha.image.url}"' in html


def test_a_challenge_page_previews_thumbnails_and_waveforms(client, gallery):
    alpha, audio = gallery["alpha"], gallery["audio"]
    html = client.get(alpha.challenge.get_absolute_url()).content.decode()
    assert f'src="{alpha.image_thumb.url}"' in html
    html = client.get(audio.challenge.get_absolute_url()).content.decode()
    assert f'src="{audio.waveform.url}"' in html


def test_the_compare_page_puts_two_models_images_side_by_side(client, gallery):
    alpha, beta = gallery["alpha"], gallery["beta"]
    url = reverse(
        "compare:challenge",
        args=[f"{alpha.model.slug}-vs-{beta.model.slug}", alpha.challenge.slug],
    )
    html = client.get(url).content.decode()
    assert alpha.image_thumb.url in html and beta.image_thumb.url in html


def test_the_reproducibility_card_gives_audio_duration_cost_and_image_size(client, gallery):
    audio, alpha = gallery["audio"], gallery["alpha"]
    html = client.get(audio.get_absolute_url()).content.decode()
    assert "Audio duration" in html and "0.5 s" in html
    assert "Cost" in html
    assert "64 × 48 px" in client.get(alpha.get_absolute_url()).content.decode()
