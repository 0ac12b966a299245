"""Soak: minutes of mixed traffic from a real load tool (locust, headless) against gunicorn on
loopback — no errors, worker memory flat (RSS growth under 10%), every vote answered 200 is
stored exactly once. Quick: 30 s; FAULTS_FULL=1: 5 minutes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apps.arena.models import Vote
from tests.conftest import ROOT, _database_url_of_test_db
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory
from tests.faults.conftest import Visitor, report, sized

# What the locustfile requests (it cannot be imported here: locust monkey-patches threads).
WARM_PATHS = ["/", "/models/", "/challenges/", "/leaderboard/", "/creators/", "/sitemap.xml"]
WARM_PATHS += ["/compare/soak-a-vs-soak-b/", "/api/v1/models", "/api/v1/models/soak-a"]
WARM_PATHS += ["/api/v1/challenges", "/api/v1/leaderboard"]

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def catalog():
    models = [AIModelFactory(slug="soak-a"), AIModelFactory(slug="soak-b")]
    models += [AIModelFactory() for _ in range(4)]
    for _ in range(12):
        challenge = ChallengeFactory()
        for model in models:
            ResponseFactory(model=model, challenge=challenge, blind=True)


def test_minutes_of_mixed_traffic_without_errors_leaks_or_lost_votes(
    redis_server, gunicorn, tmp_path
):
    catalog()
    redis = redis_server()
    # One load generator is one client address: lift the per-address vote and API limits.
    limits = {
        "ARENA_RATE_LIMIT_SESSION": "100000/60",
        "ARENA_RATE_LIMIT_IP": "1000000/60",
        "ARENA_ISSUE_LIMIT_SESSION": "100000/60",
        "ARENA_ISSUE_LIMIT_IP": "1000000/60",
        "API_RATE_LIMIT": "1000000/60",
    }
    site = gunicorn(
        database_url=_database_url_of_test_db(),
        redis_url=redis.url(0),
        cache_url=redis.url(1),
        env=limits,
        access_log=True,
    )
    seconds, users = sized(30, 300), sized(4, 16)
    # Warm both workers on every kind of request (imports, templates, first queries), then
    # with the soak's own mix for a while (first-touch allocations: caches, the exclusion
    # rules' reads as votes pile up), then measure memory: growth from there on is what a leak
    # would show.
    warm = Visitor(site.url)
    for _ in range(4):
        for path in WARM_PATHS:
            assert warm.get(path).status_code == 200
        assert warm.battle_and_vote() == (200, 200)
    warm.close()
    warm_rows = _locust(site.url, users, sized(15, 60), tmp_path / "warm")
    assert sum(row["num_failures"] for row in warm_rows.values()) == 0, warm_rows
    warm_votes = Vote.objects.count()
    warm_answered = site.answered("POST", "/arena/vote/")
    warm_answered_ok = site.answered("POST", "/arena/vote/", 200)
    rss_start = site.worker_rss_kb()
    rows = _locust(site.url, users, seconds, tmp_path / "soak")
    rss_end = site.worker_rss_kb()

    requests = sum(row["num_requests"] for row in rows.values())
    failures = sum(row["num_failures"] for row in rows.values())
    votes_sent = rows["vote"]["num_requests"]
    votes_answered = votes_sent - rows["vote"]["num_failures"]
    # The site's own count of vote requests (access log): every one the load tool sent and
    # saw answered, none it never heard back from.
    site_votes = site.answered("POST", "/arena/vote/") - warm_answered
    site_votes_ok = site.answered("POST", "/arena/vote/", 200) - warm_answered_ok
    stored = Vote.objects.count() - warm_votes
    growth = (rss_end - rss_start) / rss_start
    report(
        "soak",
        seconds=seconds,
        users=users,
        requests=requests,
        errors=failures,
        requests_per_second=round(requests / seconds, 1),
        votes=votes_answered,
        votes_site=site_votes,
        stored=stored,
        lost=max(0, votes_answered - stored),
        doubled=max(0, stored - votes_answered),
        rss_start_mb=round(rss_start / 1024, 1),
        rss_growth_pct=round(100 * growth, 1),
    )
    assert requests > 0
    assert failures == 0, rows
    # All votes accounted for, exactly: sent = answered 200 = seen by the site = stored.
    assert votes_answered > 0
    assert (votes_sent, site_votes, site_votes_ok, stored) == (votes_answered,) * 4
    assert growth < 0.10


def _locust(url: str, users: int, seconds: int, out: Path) -> dict:
    """Run the soak's traffic mix with locust for `seconds`; its final stats per name."""
    locust = subprocess.Popen(
        [
            sys.executable, "-m", "locust", "-f", str(ROOT / "tests/faults/locustfile.py"),
            "--headless", "--users", str(users), "--spawn-rate", str(users),
            "--run-time", f"{seconds}s", "--host", url,
            # The final figures, written after every user stopped (--csv files are rewritten
            # once a second while running and miss the last second's requests).
            "--json-file", str(out),
            "--only-summary", "--loglevel", "WARNING",
            # Let each user finish the task it is in when the time is up: by default locust
            # kills users mid-request, so a vote the site stored and answered would never be
            # counted by the load tool (seen as 2-3 "doubled" votes per run).
            "--stop-timeout", "30",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    _, errors_out = locust.communicate(timeout=seconds + 120)
    assert locust.returncode in (0, 1), errors_out[-2000:]  # 1: some request failed
    report_file = out.with_name(out.name + ".json")
    assert report_file.exists(), errors_out[-2000:]
    return {row["name"]: row for row in json.loads(report_file.read_text())}
