import pytest
from django.urls import reverse

from apps.challenges.models import Challenge
from apps.collection.models import CollectionRun
from apps.collection.services import run_create
from tests.factories import AIModelFactory, ChallengeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


def test_collect_missing_action_on_challenges_starts_a_run(staff):
    AIModelFactory.create_batch(2)
    challenge = ChallengeFactory()

    answer = staff.post(
        reverse("admin:challenges_challenge_changelist"),
        {"action": "collect_missing_for_challenges", "_selected_action": [challenge.pk]},
    )

    run = CollectionRun.objects.get()
    assert answer.status_code == 302
    assert answer.url == reverse("admin:collection_collectionrun_change", args=[run.pk])
    assert run.jobs.count() == 2
    assert run.created_by.is_superuser


def test_collect_missing_action_on_models_starts_a_run(staff):
    model = AIModelFactory()
    ChallengeFactory.create_batch(3)

    staff.post(
        reverse("admin:catalog_aimodel_changelist"),
        {"action": "collect_missing_for_models", "_selected_action": [model.pk]},
    )

    assert CollectionRun.objects.get().jobs.count() == Challenge.objects.published().count()


def test_run_page_shows_a_polled_progress_bar_and_a_cancel_button(staff):
    AIModelFactory()
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])

    page = staff.get(reverse("admin:collection_collectionrun_change", args=[run.pk]))
    progress = staff.get(reverse("admin:collection_run_progress", args=[run.pk]))

    assert b"<progress" in page.content and b"hx-get" in page.content
    assert b"Cancel this run" in page.content
    assert progress.status_code == 200
    assert b"0 of 1 calls finished" in progress.content
    assert b"<html" not in progress.content


def test_cancel_button_cancels_the_run(staff):
    AIModelFactory()
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])

    staff.post(reverse("admin:collection_run_cancel", args=[run.pk]))

    assert CollectionRun.objects.get(pk=run.pk).state == CollectionRun.State.CANCELLED


def test_progress_view_is_for_staff_only(client):
    AIModelFactory()
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=[ChallengeFactory()])

    answer = client.get(reverse("admin:collection_run_progress", args=[run.pk]))

    assert answer.status_code == 302 and "/login/" in answer.url


def test_run_list_offers_collect_all_missing(staff):
    AIModelFactory()
    ChallengeFactory()

    page = staff.get(reverse("admin:collection_collectionrun_changelist"))
    staff.post(reverse("admin:collection_missing"))

    assert b"Collect all missing responses" in page.content
    assert CollectionRun.objects.get().scope == CollectionRun.Scope.MISSING
