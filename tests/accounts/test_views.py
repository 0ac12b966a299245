"""Profile, account deletion and sign-in throttling, through the real views."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.arena.models import Vote
from apps.arena.services import leaderboard
from apps.lab.models import LabRun
from tests.accounts.conftest import PASSWORD
from tests.factories import ResponseFactory, votes_between

pytestmark = pytest.mark.django_db


def _login(client, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": "ada@example.com", "password": password})


def test_an_unverified_address_cannot_sign_in(client, django_user_model):
    django_user_model.objects.create_user(
        username="bob", email="bob@example.com", password=PASSWORD
    )
    client.post(reverse("account_login"), {"login": "bob@example.com", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_the_profile_needs_a_signed_in_user(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_profile_shows_votes_agreement_and_lab_runs(client, verified_user):
    strong, weak = ResponseFactory(), None
    weak = ResponseFactory(challenge=strong.challenge)
    votes_between(strong, weak, "a" * 20 + "b" * 2)
    leaderboard.leaderboard_recompute(rounds=10)
    mine = votes_between(strong, weak, "aaab" + "t")
    Vote.objects.filter(pk__in=[v.pk for v in mine]).update(user=verified_user)
    LabRun.objects.create(owner="x", user=verified_user, prompt="Explain tides to me")

    _login(client)
    page = client.get(reverse("accounts:profile")).content.decode()

    assert "Votes cast</dt><dd>5<" in page
    # Four decisive votes, three for the higher-rated model; the tie is not counted.
    assert "75%" in page and "(3 of 4)" in page
    assert "Explain tides to me" in page


def test_deleting_the_account_keeps_votes_anonymised_and_verified(client, verified_user):
    a, b = ResponseFactory(), None
    b = ResponseFactory(challenge=a.challenge)
    votes = votes_between(a, b, "ab")
    Vote.objects.filter(pk__in=[v.pk for v in votes]).update(user=verified_user, is_verified=True)
    LabRun.objects.create(owner="x", user=verified_user, prompt="private")
    _login(client)

    refused = client.post(reverse("accounts:delete"), {"password": "not it"})
    assert refused.status_code == 400
    assert get_user_model().objects.filter(pk=verified_user.pk).exists()

    done = client.post(reverse("accounts:delete"), {"password": PASSWORD}, follow=True)

    assert "Your account is deleted" in done.content.decode()
    assert not get_user_model().objects.filter(pk=verified_user.pk).exists()
    assert list(Vote.objects.values_list("user_id", "is_verified")) == [(None, True)] * 2
    assert not LabRun.objects.exists()
    assert "_auth_user_id" not in client.session


def test_repeated_bad_passwords_lock_the_address_out_with_a_message(client, verified_user):
    # allauth counts failures per address, django-axes per (address, IP) for every login form:
    # whichever trips first, the visitor gets a message, never a 500 and never a sign-in.
    for _ in range(5):
        assert _login(client, "wrong").status_code in (200, 429)

    locked = _login(client, PASSWORD)

    page = locked.content.decode()
    assert locked.status_code in (200, 429)
    assert "Too many failed login attempts" in page or "Too many failed logins" in page
    assert "_auth_user_id" not in client.session


def test_a_signup_flood_gets_a_429_page_with_a_message(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/h/ip"}
    for n in range(2):
        client.post(reverse("account_signup"), {"email": f"u{n}@example.com"})

    flooded = client.post(reverse("account_signup"), {"email": "u9@example.com"})

    assert flooded.status_code == 429
    assert "Too many attempts" in flooded.content.decode()


def test_the_header_offers_sign_in_and_sign_up_or_the_users_menu(client, verified_user):
    anonymous = client.get("/methodology/").content.decode()
    assert 'href="/accounts/login/">Sign in' in anonymous
    assert "Sign up</a>" in anonymous

    _login(client)
    signed_in = client.get("/methodology/").content.decode()
    assert "ada@example.com</summary>" in signed_in
    assert "Sign out</button>" in signed_in
