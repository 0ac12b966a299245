import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.challenges.models import Challenge
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:challenges_challenge_changelist")


def staff_client(client, django_user_model, *codenames):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def test_staff_who_may_only_view_challenges_cannot_publish_them(client, django_user_model):
    draft = ChallengeFactory(is_published=False)
    viewer = staff_client(client, django_user_model, "view_challenge")

    page = viewer.get(CHANGELIST).content.decode()
    viewer.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]})

    assert 'value="publish"' not in page
    assert not Challenge.objects.get(pk=draft.pk).is_published


def test_staff_who_may_change_challenges_publish_and_unpublish_them(client, django_user_model):
    draft = ChallengeFactory(is_published=False)
    editor = staff_client(client, django_user_model, "view_challenge", "change_challenge")

    editor.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]})
    assert Challenge.objects.get(pk=draft.pk).is_published
    editor.post(CHANGELIST, {"action": "unpublish", "_selected_action": [draft.pk]})
    assert not Challenge.objects.get(pk=draft.pk).is_published
