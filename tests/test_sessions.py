"""rival/sessions.py: Django's database sessions, read by hand-written SQL."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.utils import timezone

from rival.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_session_saved_by_django_reads_back_the_same(django_assert_num_queries):
    saved = django_db.SessionStore()
    saved["arena_voter"] = "voter-1"
    saved.create()

    loaded = SessionStore(saved.session_key)
    with django_assert_num_queries(1):
        assert loaded["arena_voter"] == "voter-1"
    assert loaded.session_key == saved.session_key


def test_a_session_saved_here_reads_back_in_djangos_store():
    saved = SessionStore()
    saved["arena_voter"] = "voter-2"
    saved.save()

    assert django_db.SessionStore(saved.session_key)["arena_voter"] == "voter-2"


def test_an_expired_session_reads_as_empty_and_a_save_starts_a_new_one():
    saved = SessionStore()
    saved["arena_voter"] = "old"
    saved.save()
    Session.objects.filter(pk=saved.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    loaded = SessionStore(saved.session_key)
    assert loaded.get("arena_voter") is None
    loaded["arena_voter"] = "new"
    loaded.save()

    assert loaded.session_key != saved.session_key


def test_a_made_up_key_is_not_taken_as_the_visitors_session():
    loaded = SessionStore("x" * 32)
    assert loaded.get("arena_voter") is None
    loaded["arena_voter"] = "mine"
    loaded.save()

    assert loaded.session_key != "x" * 32
    assert not Session.objects.filter(pk="x" * 32).exists()


def test_a_tampered_session_reads_as_empty():
    saved = SessionStore()
    saved["arena_voter"] = "voter-3"
    saved.save()
    Session.objects.filter(pk=saved.session_key).update(session_data="forged:data")

    assert SessionStore(saved.session_key).get("arena_voter") is None
