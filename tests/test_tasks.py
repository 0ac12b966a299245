from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from rival.celery import app
from rival.tasks import clear_expired_sessions

pytestmark = pytest.mark.django_db


def test_beat_clears_expired_sessions_daily_with_a_task_the_worker_knows():
    entry = settings.CELERY_BEAT_SCHEDULE["clear-expired-sessions"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 86400


def test_clearing_sessions_deletes_expired_ones_and_keeps_live_ones():
    live, expired = SessionStore(), SessionStore()
    live.create()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert clear_expired_sessions.apply().get() == 1

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
