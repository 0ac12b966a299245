import ipaddress

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def curator(django_user_model):
    return django_user_model.objects.create_superuser("curator", "c@example.com", "right-pw")


def fail(client, times: int, username: str = "curator", **extra):
    return [
        client.post(LOGIN, {"username": username, "password": "wrong"}, **extra).status_code
        for _ in range(times)
    ]


def test_admin_login_locks_out_a_username_and_address_after_the_failure_limit(
    client, curator, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    assert fail(client, 2) == [200, 200]
    locked = client.post(LOGIN, {"username": "curator", "password": "wrong"})

    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # The right password does not get through while locked out.
    right = client.post(LOGIN, {"username": "curator", "password": "right-pw"})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_address_and_per_username(client, curator, settings):
    settings.AXES_FAILURE_LIMIT = 2
    fail(client, 2, REMOTE_ADDR="203.0.113.5")

    from_elsewhere = client.post(
        LOGIN, {"username": "curator", "password": "right-pw"}, REMOTE_ADDR="198.51.100.7"
    )
    assert from_elsewhere.status_code == 302
    client.logout()
    other_user = client.post(
        LOGIN, {"username": "someone", "password": "x"}, REMOTE_ADDR="203.0.113.5"
    )
    assert other_user.status_code == 200


def test_forged_forwarded_for_does_not_escape_the_lockout(client, curator, settings):
    settings.AXES_FAILURE_LIMIT = 2
    # One trusted proxy at 10.0.0.1: only the hop it appended (203.0.113.9) is believed.
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.1/32")]
    statuses = [
        client.post(
            LOGIN,
            {"username": "curator", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9",
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 429, 429, 429]


def test_any_login_through_authenticate_is_counted(curator, settings):
    settings.AXES_FAILURE_LIMIT = 2
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.8")
    for _ in range(2):
        assert authenticate(request, username="curator", password="wrong") is None
    assert authenticate(request, username="curator", password="right-pw") is None
    assert getattr(request, "axes_locked_out", False)
