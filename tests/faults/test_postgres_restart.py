"""PostgreSQL restarted under load: while it is away every request gets the 503 "back in a
moment" page quickly (never a hang, never a 500 traceback), and once it is back requests
succeed again on their own — no restart of the web workers."""

import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.conftest import ROOT
from tests.faults.conftest import PostgresCluster, report, sized
from tests.utils import wait_for

pytestmark = pytest.mark.faults

PAGES = ["/", "/models/", "/challenges/", "/leaderboard/"]


def migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "rival.settings",
            "DEBUG": "1",
            "DATABASE_URL": database_url,
        },
        check=True,
        timeout=600,
    )


class Load:
    """Clients requesting pages in a loop, recording (time, status, seconds) per request.

    Each client carries a session cookie, as a signed-in visitor does: the anonymous page
    cache answers cookie-less requests from Redis without asking the database, so only
    visitors with a session show what happens while PostgreSQL is away.
    """

    def __init__(self, base_url: str, clients: int):
        self.base_url = base_url
        self.clients = clients
        self.results: list[tuple[float, int, float]] = []
        self.running = True
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(clients)]

    def _client(self, n: int) -> None:
        cookies = {"sessionid": f"load-client-{n}"}
        with httpx.Client(base_url=self.base_url, timeout=30, cookies=cookies) as http:
            i = n
            while self.running:
                started = time.monotonic()
                try:
                    status = http.get(PAGES[i % len(PAGES)]).status_code
                except httpx.HTTPError:
                    status = 0
                self.results.append((started, status, time.monotonic() - started))
                i += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        for thread in self.threads:
            thread.join()


def test_requests_fail_fast_with_a_503_while_postgres_restarts_and_then_recover(
    redis_server, gunicorn
):
    cluster = PostgresCluster()
    try:
        cluster.init()
        migrate(cluster.url)
        redis = redis_server()
        site = gunicorn(database_url=cluster.url, redis_url=redis.url(0), cache_url=redis.url(1))
        down_for = sized(4, 10)

        with Load(site.url, clients=sized(2, 4)) as load:
            # Warm workers first (a cold worker's first pages are slow on a busy machine).
            wait_for(lambda: [s for _, s, _ in load.results].count(200) >= sized(6, 40), 120)
            cluster.stop()
            time.sleep(down_for)  # the database stays away this long
            cluster.start()
            started_at = time.monotonic()
            deadline = started_at + 30
            while time.monotonic() < deadline:
                recent = [s for t, s, _ in load.results if t > started_at]
                if recent[-4:] == [200] * 4:
                    break
                time.sleep(0.1)
    finally:
        cluster.destroy()

    statuses = Counter(status for _, status, _ in load.results)
    unavailable = [d for _, s, d in load.results if s == 503]
    recovered = [t for t, s, _ in load.results if t > started_at and s == 200]
    recovery = min(recovered) - started_at if recovered else None
    report(
        "postgres-restart",
        requests=len(load.results),
        errors=sum(n for s, n in statuses.items() if s not in (200, 503)),
        unavailable_503=len(unavailable),
        slowest_503_s=round(max(unavailable, default=0), 2),
        recovery_seconds=None if recovery is None else round(recovery, 1),
    )
    assert set(statuses) <= {200, 503}, statuses
    assert unavailable, "no request saw the database away"
    # Not a hang: a hung request would be cut by gunicorn's 30 s timeout (a closed connection,
    # counted as an error above). A request in flight when the server stops gets its 503 when
    # PostgreSQL terminates its backend; on the shared 2-CPU box under load that took up to 9 s.
    assert max(unavailable) < 15
    assert recovery is not None and recovery < 15
