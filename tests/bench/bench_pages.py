"""Public-page benchmark: server time and throughput of every public page under load.

Run with `make bench` (or `uv run python -m tests.bench.bench_pages`). It

1. builds a large dataset in its own PostgreSQL database (BENCH_DATABASE_URL, default: the
   DATABASE_URL database name plus `_bench`, e.g. `rival_bench`) — 300 models, 200 challenges, 40k
   responses through `manage.py generate_dataset`, 1M arena votes loaded with COPY, one
   leaderboard recompute — or reuses it when it is already there with the same sizes;
2. starts gunicorn on it (127.0.0.1, an ephemeral port, DEBUG=0, a fresh SECRET_KEY, the
   Redis cache in REDIS_URL) with 3 sync workers: the views are CPU-bound Python on a
   two-core machine that also runs PostgreSQL and this load generator, so one process per
   core plus one to cover the time a worker waits on the database; threads in one process
   would only contend for the GIL (and it is what the Dockerfile runs);
3. warms every URL up, then drives each for BENCH_SECONDS with BENCH_CLIENTS client
   threads (sync workers close each connection, the clients reconnect), and reads the
   **server time** of every request from gunicorn's access log (`%(D)s`: from the request
   parsed to the response written, queueing excluded);
4. prints p50/p99 per page and overall against the budgets in DESIGN.md (p50 ≤ 25 ms,
   p99 ≤ 100 ms), and throughput as a ratio against /robots.txt — a plain Django view with
   no query that goes through the same middleware — measured on the same server in the run;
   then the p50 of one client alone per page ("solo"), to tell a slow page from a busy CPU.

Sizes: BENCH_MODELS, BENCH_CHALLENGES, BENCH_RESPONSES, BENCH_VOTES (small values make a
quick run; a database with other sizes is dropped and rebuilt). The dataset code is in
tests/bench/pages_dataset.py.
"""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rival")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")


def _bench_database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_bench"))


BENCH_DATABASE_URL = _bench_database_url()
# From here on, this process (the dataset builder) talks to the benchmark database only.
os.environ["DATABASE_URL"] = BENCH_DATABASE_URL

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
# One client alone after the load: the page's own cost without CPU contention, to tell a
# slow page from a busy machine.
SOLO_SECONDS = float(os.environ.get("BENCH_SOLO_SECONDS", "1.5"))
P50_BUDGET_MS = 25
P99_BUDGET_MS = 100
BASELINE = "/robots.txt"
ROOT = Path(__file__).resolve().parents[2]


def ensure_database() -> None:
    """Create the benchmark database when it does not exist (psycopg, outside Django)."""
    import psycopg

    parts = urlsplit(BENCH_DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def recreate_database() -> None:
    """Drop the benchmark database and create it empty again."""
    import psycopg

    parts = urlsplit(BENCH_DATABASE_URL)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ensure_database()


import django  # noqa: E402

ensure_database()
django.setup()

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402

from tests.bench.pages_dataset import dataset_build, pick_urls  # noqa: E402

# --- Server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_start(port: int, workdir: Path) -> tuple[subprocess.Popen, Path]:
    log = workdir / "access.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rival.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": BENCH_DATABASE_URL,
        "CACHE_KEY_PREFIX": f"rival-bench-{secrets.token_hex(4)}",
        "RIVAL_PLAIN_STATIC": "1",
        "STATIC_ROOT": str(workdir / "static"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    (workdir / "static").mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "rival.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--worker-class", "sync"]
        + ["--access-logfile", str(log), "--access-logformat", "%(s)s %(D)s %(r)s"]
        + ["--log-level", "warning"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, log
        except OSError:
            time.sleep(0.1)
    gunicorn_stop(server)
    raise SystemExit("gunicorn did not start within 30 s")


def gunicorn_stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- Load -----------------------------------------------------------------------------------


def fetch(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path, headers={"Host": "127.0.0.1", "Accept-Encoding": "gzip"})
    response = conn.getresponse()
    response.read()
    return response.status


def drive(port: int, path: str, seconds: float, clients: int) -> tuple[int, float]:
    """`clients` threads request `path` back to back for `seconds`; returns (requests, s).
    A failed request reconnects and is reported, so one reset cannot end a client early."""
    done, failed = Counter(), Counter()
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            try:
                fetch(conn, path)
                done[i] += 1
            except (OSError, http.client.HTTPException):
                failed[i] += 1
                conn.close()
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        print(f"  {path}: {sum(failed.values())} requests failed (connection errors)")
    return sum(done.values()), time.perf_counter() - started


LOG_LINE = re.compile(r"^(\d{3}) (\d+) GET (\S+) HTTP")


def server_times(log: Path, offset: int, path: str) -> tuple[np.ndarray, Counter, int]:
    """Server times (ms) and status counts logged for `path` since byte `offset`."""
    with log.open("rb") as f:
        f.seek(offset)
        text = f.read().decode()
    times, statuses = [], Counter()
    for line in text.splitlines():
        match = LOG_LINE.match(line)
        if match and match[3] == path:
            statuses[match[1]] += 1
            times.append(int(match[2]) / 1000)
    return np.array(times), statuses, offset + len(text.encode())


def canonical(port: int, path: str) -> str:
    """Follow one redirect (the compare pair's canonical order) so the load hits a 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status in (301, 302):
        return urlsplit(response.getheader("Location")).path
    return path


def report(rows: list[tuple], baseline_rps: float, all_times: np.ndarray) -> None:
    print()
    print(
        f"{'page':<16} {'url':<58} {'req':>6} {'p50 ms':>7} {'p99 ms':>7} {'solo':>6} "
        f"{'req/s':>7} {'÷ trivial':>9}  budgets"
    )
    for name, path, times, rps, statuses, solo in rows:
        p50, p99 = np.percentile(times, 50), np.percentile(times, 99)
        if name == "trivial":
            verdict = "(baseline)"
        else:
            ok50, ok99 = p50 <= P50_BUDGET_MS, p99 <= P99_BUDGET_MS
            verdict = f"p50 {'met' if ok50 else 'MISSED'}, p99 {'met' if ok99 else 'MISSED'}"
        bad = {s: n for s, n in statuses.items() if s != "200"}
        if bad:
            verdict += f" — non-200 responses: {bad}"
        shown = path if len(path) <= 58 else path[:55] + "..."
        print(
            f"{name:<16} {shown:<58} {times.size:>6} {p50:>7.1f} {p99:>7.1f} {solo:>6.1f} "
            f"{rps:>7.0f} {rps / baseline_rps:>9.2f}  {verdict}"
        )
    p50, p99 = np.percentile(all_times, 50), np.percentile(all_times, 99)
    print(
        f"{'all pages':<16} {'':<58} {all_times.size:>6} {p50:>7.1f} {p99:>7.1f}"
        f"{'':>25}  p50 {'met' if p50 <= P50_BUDGET_MS else 'MISSED'}, "
        f"p99 {'met' if p99 <= P99_BUDGET_MS else 'MISSED'}"
    )
    print(
        f"budgets (DESIGN.md): p50 ≤ {P50_BUDGET_MS} ms, p99 ≤ {P99_BUDGET_MS} ms server time; "
        f"throughput ÷ the trivial view {BASELINE} ({baseline_rps:.0f} req/s) on the same server"
    )
    print(
        "solo = p50 server time with one client alone; load average now "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
        + f" on {os.cpu_count()} CPUs (other work on the machine inflates every number)"
    )


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("bench_pages needs PostgreSQL: set DATABASE_URL=postgres://…")
    dataset_build(recreate_database=recreate_database)
    urls = pick_urls()
    connection.close()
    port = free_port()
    print(
        f"gunicorn: {WORKERS} sync workers on 127.0.0.1:{port}; load: {CLIENTS} "
        f"clients × {SECONDS:g} s per URL; {os.cpu_count()} CPUs shared by server, database "
        f"and client; load average before the run " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    with tempfile.TemporaryDirectory(prefix="rival-bench-") as tmp:
        server, log = gunicorn_start(port, Path(tmp))
        try:
            urls = {name: canonical(port, path) for name, path in urls.items()}
            targets = [("trivial", BASELINE), *urls.items()]
            for _, path in targets:
                drive(port, path, 0.5, CLIENTS)
            offset = log.stat().st_size
            rows, all_times, baseline_rps = [], [], 1.0
            for name, path in targets:
                requests, elapsed = drive(port, path, SECONDS, CLIENTS)
                time.sleep(0.2)  # let the last access-log lines land
                times, statuses, offset = server_times(log, offset, path)
                drive(port, path, SOLO_SECONDS, 1)
                time.sleep(0.2)
                solo, _, offset = server_times(log, offset, path)
                rps = requests / elapsed
                if name == "trivial":
                    baseline_rps = rps
                else:
                    all_times.append(times)
                rows.append((name, path, times, rps, statuses, np.percentile(solo, 50)))
        finally:
            gunicorn_stop(server)
    report(rows, baseline_rps, np.concatenate(all_times))


if __name__ == "__main__":
    main()
