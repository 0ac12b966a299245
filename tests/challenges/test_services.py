import pytest

from apps.challenges.models import Challenge
from apps.challenges.services import challenge_upsert, challenges_set_published
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.django_db


def test_publishing_counts_only_challenges_that_changed():
    ChallengeFactory(is_published=True)
    ChallengeFactory.create_batch(2, is_published=False)
    assert challenges_set_published(challenges=Challenge.objects.all(), published=True) == 2
    assert Challenge.objects.published().count() == 3


def test_unpublishing_hides_challenges():
    challenge = ChallengeFactory(is_published=True)
    challenges_set_published(challenges=Challenge.objects.all(), published=False)
    assert not Challenge.objects.get(pk=challenge.pk).is_published


def test_upserting_a_challenge_sets_publication_only_on_creation():
    fields = {"title": "T", "prompt": "P"}
    challenge, created = challenge_upsert(slug="t", fields=fields, initial={"is_published": True})
    assert created and challenge.is_published
    Challenge.objects.filter(pk=challenge.pk).update(is_published=False)
    challenge, created = challenge_upsert(
        slug="t", fields={**fields, "prompt": "P2"}, initial={"is_published": True}
    )
    assert not created
    assert challenge.prompt == "P2"
    assert challenge.is_published is False
