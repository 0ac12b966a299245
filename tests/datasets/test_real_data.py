"""`loaddemo --real-data`, what `make run` loads: rival-early, the Lab's models, demo votes."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.arena.models import DEMO_VOTER, LeaderboardSnapshot, Vote
from apps.catalog.models import AIModel
from apps.challenges.models import Challenge
from apps.responses.models import Response

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def loaddemo(*args: str) -> str:
    out = io.StringIO()
    call_command("loaddemo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return loaddemo("--real-data")


def test_real_data_is_rival_early_with_images_and_no_generated_filler(loaded):
    assert "rival-early: 39 models, 27 challenges" in loaded
    # Public pages show only the real answers; the demo models' answers wait in the blind pool
    # so the arena has battles.
    public = Response.objects.visible().values_list("source", flat=True)
    assert set(public) == {Response.Source.IMPORT}
    assert Response.objects.blind().filter(source=Response.Source.DEMO).count() >= 20
    assert Challenge.objects.filter(slug="count-letters", is_published=True).exists()
    images = Response.objects.visible().filter(output_type="image").exclude(image="")
    assert images.count() >= 20
    # The Lab's models: the demo catalog on the demo gateway.
    assert AIModel.objects.active().filter(gateway__name="demo").count() >= 25


def test_real_data_comes_with_counted_demo_votes_and_a_labelled_leaderboard(client, loaded):
    demo = Vote.objects.filter(session_key=DEMO_VOTER, is_counted=True)
    assert demo.count() > 1000
    assert LeaderboardSnapshot.objects.filter(category__isnull=True).exists()
    page = client.get(reverse("arena:leaderboard")).content.decode()
    assert "Demo votes." in page and "<td>1</td>" in page


def test_loading_real_data_again_adds_nothing(loaded):
    counts = (Response.objects.count(), Vote.objects.count(), AIModel.objects.count())
    output = loaddemo("--real-data")
    assert "already imported" in output and "already seeded" in output
    assert (Response.objects.count(), Vote.objects.count(), AIModel.objects.count()) == counts


def test_no_votes_removes_the_simulated_votes_and_the_label(client, loaded):
    output = loaddemo("--real-data", "--no-votes")
    assert "simulated votes removed" in output
    assert not Vote.objects.filter(session_key=DEMO_VOTER).exists()
    assert "Demo votes." not in client.get(reverse("arena:arena")).content.decode()
