import pytest
from django.urls import reverse

from apps.lab.models import LabRun
from apps.lab.tasks import lab_generate
from tests.lab.conftest import lab_run_with


@pytest.fixture
def curator_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("curator", "c@x.org", "pw"))
    return client


def test_curators_see_runs_read_only_with_their_results_inline(curator_client, demo_models):
    from django.test import Client

    run = lab_run_with(Client(), demo_models[:2], prompt="What is a monad?")
    for result in run.results.all():
        lab_generate.apply(args=[result.pk])

    listing = curator_client.get(reverse("admin:lab_labrun_changelist"))
    assert listing.status_code == 200
    assert "What is a monad?" in listing.content.decode()
    assert reverse("admin:lab_labrun_add") not in listing.content.decode()

    change_url = reverse("admin:lab_labrun_change", args=[run.pk])
    page = curator_client.get(change_url).content.decode()
    for model in demo_models[:2]:
        assert model.name in page
    assert "Done" in page
    assert 'name="prompt"' not in page, "nothing is editable"

    curator_client.post(change_url, {"prompt": "changed"})
    assert LabRun.objects.get(pk=run.pk).prompt == "What is a monad?"
    assert curator_client.get(reverse("admin:lab_labrun_add")).status_code == 403


def test_staff_turn_a_run_into_an_unpublished_challenge_draft(curator_client, demo_models):
    from django.test import Client

    from apps.challenges.models import Challenge

    run = lab_run_with(Client(), demo_models[:2], output_type="svg", prompt="Draw a  lighthouse")

    page = curator_client.post(
        reverse("admin:lab_labrun_changelist"),
        {"action": "make_challenge_drafts", "_selected_action": [run.pk]},
        follow=True,
    )

    draft = Challenge.objects.get()
    assert (draft.title, draft.prompt, draft.output_type) == (
        "Draw a lighthouse",
        "Draw a  lighthouse",
        "svg",
    )
    assert not draft.is_published
    assert "Challenge draft" in page.content.decode()
    assert reverse("admin:challenges_challenge_change", args=[draft.pk]) in page.content.decode()
