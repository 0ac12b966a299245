"""Votes cast while signed in are marked, and rated on their own."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from apps.arena.models import Vote
from apps.arena.services import leaderboard
from tests.factories import ResponseFactory, battle_between, votes_between

pytestmark = pytest.mark.django_db


def test_a_signed_in_vote_is_marked_verified_and_an_anonymous_one_is_not(client, django_user_model):
    a = ResponseFactory()
    b = ResponseFactory(challenge=a.challenge)
    client.get(reverse("arena:arena"))
    voter = client.session["arena_voter"]
    client.post(
        reverse("arena:vote"),
        {"battle": battle_between(a, b, voter=voter).token, "outcome": "a"},
    )
    user = django_user_model.objects.create_user(username="u", email="u@x.org", password="pw")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)
    client.post(
        reverse("arena:vote"),
        {"battle": battle_between(a, b, voter=voter).token, "outcome": "b"},
    )

    assert list(Vote.objects.order_by("pk").values_list("user_id", "is_verified")) == [
        (None, False),
        (user.pk, True),
    ]


def test_the_leaderboard_filters_to_verified_voters(client):
    a = ResponseFactory(model__name="Acme: Crowd Favourite")
    b = ResponseFactory(challenge=a.challenge, model__name="Acme: Verified Favourite")
    votes_between(a, b, "a" * 30)
    verified = votes_between(a, b, "b" * 12)
    Vote.objects.filter(pk__in=[v.pk for v in verified]).update(is_verified=True)
    leaderboard.leaderboard_recompute(rounds=10)

    everyone = client.get(reverse("arena:leaderboard")).content.decode()
    only_verified = client.get(reverse("arena:leaderboard") + "?voters=verified")
    page = only_verified.content.decode()

    assert everyone.index("Crowd Favourite") < everyone.index("Verified Favourite")
    assert page.index("Verified Favourite") < page.index("Crowd Favourite")
    assert '<option value="verified" selected>' in page
    assert client.get(reverse("arena:leaderboard") + "?voters=bots").status_code == 404
