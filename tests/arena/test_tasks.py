import pytest
from django.conf import settings
from django.test import Client

from apps.arena.models import LeaderboardSnapshot
from apps.arena.tasks import recompute_leaderboard
from rival.celery import app
from tests.arena.test_voting import issued_token, vote
from tests.factories import ResponseFactory, votes_between
from tests.utils import wait_for


def test_beat_recomputes_the_leaderboard_every_few_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["arena-recompute-leaderboard"]
    assert entry["task"] == recompute_leaderboard.name
    assert entry["task"] in app.tasks
    assert 0 < entry["schedule"] <= 15 * 60


@pytest.mark.django_db
def test_recompute_task_writes_snapshots_and_can_run_twice():
    a, b = ResponseFactory(), ResponseFactory()
    votes_between(a, b, "aab")

    assert recompute_leaderboard.apply().get() >= 1
    assert recompute_leaderboard.apply().get() >= 1
    assert LeaderboardSnapshot.objects.filter(category__isnull=True, voters="all").count() == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_enough_new_votes_trigger_a_recompute_in_a_real_worker(
    celery_worker_process, challenge_pair, settings
):
    settings.ARENA_RECOMPUTE_AFTER_VOTES = 3
    celery_worker_process("--pool", "solo")
    client = Client()

    for _ in range(3):
        assert vote(client, issued_token(client), "a").status_code == 200

    # A recompute left queued in the broker by an interrupted earlier run may land first.
    snapshot = wait_for(
        lambda: LeaderboardSnapshot.objects.filter(category__isnull=True, votes_used=3).first(),
        timeout=60,
    )
    assert snapshot.votes_used == 3
