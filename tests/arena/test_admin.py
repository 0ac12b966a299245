import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.arena.models import Exclusion, Vote
from tests.factories import ResponseFactory, votes_between

pytestmark = pytest.mark.django_db


def test_staff_browse_votes_and_exclude_a_session_with_a_reason(admin_client):
    a, b = ResponseFactory(), ResponseFactory()
    stuffed = votes_between(a, b, "aaa", session_key="stuffer")
    votes_between(a, b, "b", session_key="honest")

    listing = admin_client.get(reverse("admin:arena_vote_changelist"))
    assert listing.status_code == 200 and "stuffer"[:10] in listing.content.decode()

    admin_client.post(
        reverse("admin:arena_vote_changelist"),
        {"action": "exclude_sessions", "_selected_action": [stuffed[0].pk]},
    )

    assert Vote.objects.filter(session_key="stuffer", is_counted=True).count() == 0
    assert Vote.objects.get(session_key="honest").is_counted
    exclusion = Exclusion.objects.get()
    assert exclusion.value == "stuffer" and exclusion.reason
    page = admin_client.get(reverse("admin:arena_exclusion_changelist")).content.decode()
    assert "stuffer" in page


def test_staff_add_an_ip_hash_exclusion_in_admin_and_its_votes_stop_counting(admin_client):
    a, b = ResponseFactory(), ResponseFactory()
    votes_between(a, b, "aa", ip_hash="f" * 64)

    admin_client.post(
        reverse("admin:arena_exclusion_add"),
        {"kind": "ip", "value": "f" * 64, "reason": "Burst of 200 votes"},
    )

    assert not Vote.objects.filter(is_counted=True).exists()
    assert Exclusion.objects.get().reason == "Burst of 200 votes"


def test_staff_edit_identity_terms_in_admin(admin_client):
    model = ResponseFactory().model
    admin_client.post(
        reverse("admin:arena_identityterm_add"), {"term": "Zephyr", "model": model.pk}
    )
    assert model.identity_terms.get().term == "Zephyr"


def test_staff_who_may_not_add_exclusions_cannot_exclude_votes(client, django_user_model):
    a, b = ResponseFactory(), ResponseFactory()
    stuffed = votes_between(a, b, "aa", session_key="stuffer")
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_vote"))
    client.force_login(viewer)

    page = client.get(reverse("admin:arena_vote_changelist")).content.decode()
    for action in ("exclude_sessions", "exclude_ip_hashes"):
        client.post(
            reverse("admin:arena_vote_changelist"),
            {"action": action, "_selected_action": [stuffed[0].pk]},
        )

    assert 'value="exclude_sessions"' not in page
    assert not Exclusion.objects.exists()
    assert Vote.objects.filter(session_key="stuffer", is_counted=True).count() == 2
