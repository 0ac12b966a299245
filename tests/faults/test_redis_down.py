"""Redis stopped under a running site: pages are still served (computed, uncached), votes are
still stored (rate limits let them through), nothing answers 500, and when Redis is back the
site uses it again without a restart. /healthz is the one page that says 503 meanwhile."""

import time

import pytest

from apps.arena.models import Vote
from tests.conftest import _database_url_of_test_db
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory
from tests.faults.conftest import Visitor, report, sized
from tests.utils import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/models/",
    "/challenges/",
    "/leaderboard/",
    "/compare/alpha-vs-bravo/",
    "/sitemap.xml",
    "/sitemap-models.xml?p=1&junk=2",
]


def some_answers():
    alpha = AIModelFactory(slug="alpha")
    bravo = AIModelFactory(slug="bravo")
    for _ in range(3):
        challenge = ChallengeFactory()
        for model in (alpha, bravo):
            ResponseFactory(model=model, challenge=challenge, blind=True)


def browse_and_vote(visitor: Visitor, rounds: int) -> dict:
    statuses: list[int] = []
    votes = 0
    for _ in range(rounds):
        statuses += [visitor.get(path).status_code for path in PAGES]
        page, vote = visitor.battle_and_vote()
        statuses += [page, vote]
        votes += vote == 200
    return {"requests": len(statuses), "errors": sum(s != 200 for s in statuses), "votes": votes}


def test_pages_and_votes_survive_redis_going_down_and_coming_back(redis_server, gunicorn):
    some_answers()
    redis = redis_server()
    site = gunicorn(
        database_url=_database_url_of_test_db(), redis_url=redis.url(0), cache_url=redis.url(1)
    )
    visitor = Visitor(site.url)
    rounds = sized(3, 20)

    before = browse_and_vote(visitor, rounds)
    redis.stop()
    started = time.monotonic()
    down = browse_and_vote(visitor, rounds)
    down_seconds = time.monotonic() - started
    health_while_down = visitor.get("/healthz").status_code

    redis.start()
    back_at = time.monotonic()
    wait_for(lambda: visitor.get("/healthz").status_code == 200, timeout=15, interval=0.2)
    recovery = time.monotonic() - back_at
    after = browse_and_vote(visitor, rounds)
    visitor.close()

    answered = before["votes"] + down["votes"] + after["votes"]
    stored = Vote.objects.count()
    report(
        "redis-down",
        requests=before["requests"] + down["requests"] + after["requests"],
        errors=before["errors"] + down["errors"] + after["errors"],
        votes=answered,
        lost=max(0, answered - stored),
        doubled=max(0, stored - answered),
        seconds_per_request_down=round(down_seconds / down["requests"], 3),
        recovery_seconds=round(recovery, 1),
    )
    assert before["errors"] == down["errors"] == after["errors"] == 0
    assert down["votes"] == rounds
    assert stored == answered == 3 * rounds
    assert health_while_down == 503
