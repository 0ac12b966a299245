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
quick run; a database with other sizes is dropped and rebuilt).
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

MODELS = int(os.environ.get("BENCH_MODELS", "300"))
CHALLENGES = int(os.environ.get("BENCH_CHALLENGES", "200"))
RESPONSES = int(os.environ.get("BENCH_RESPONSES", "40000"))
VOTES = int(os.environ.get("BENCH_VOTES", "1000000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
# One client alone after the load: the page's own cost without CPU contention, to tell a
# slow page from a busy machine.
SOLO_SECONDS = float(os.environ.get("BENCH_SOLO_SECONDS", "1.5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1000"))
P50_BUDGET_MS = 25
P99_BUDGET_MS = 100
BASELINE = "/robots.txt"
ROOT = Path(__file__).resolve().parents[2]
SEED = 2026


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


def drop_database() -> None:
    import psycopg

    parts = urlsplit(BENCH_DATABASE_URL)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


import django  # noqa: E402

ensure_database()
django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from apps.arena import services  # noqa: E402
from apps.arena.models import LeaderboardSnapshot, Vote  # noqa: E402
from apps.catalog.models import AIModel  # noqa: E402
from apps.challenges.models import Challenge  # noqa: E402
from apps.responses.models import Response  # noqa: E402
from tests.bench.bench_ratings import _copy  # noqa: E402

# --- Dataset --------------------------------------------------------------------------------


def dataset_sizes() -> dict:
    return {
        "models": AIModel.objects.filter(slug__startswith="gen-").count(),
        "challenges": Challenge.objects.filter(slug__startswith="gen-").count(),
        "responses": Response.objects.filter(model__slug__startswith="gen-").count(),
        "votes": Vote.objects.count(),
        "snapshots": LeaderboardSnapshot.objects.count(),
    }


def dataset_is_current(sizes: dict) -> bool:
    return (
        sizes["models"] == MODELS
        and sizes["challenges"] == CHALLENGES
        and abs(sizes["responses"] - RESPONSES) <= max(50, RESPONSES // 50)
        and sizes["votes"] == VOTES
        and sizes["snapshots"] > 0
    )


def votes_load() -> None:
    """VOTES battles and votes between two responses to the same challenge, with outcomes
    drawn from hidden model strengths, written with COPY (bench_ratings' loader)."""
    rng = np.random.default_rng(SEED)
    rows = np.array(
        Response.objects.filter(model__slug__startswith="gen-")
        .order_by("challenge_id", "pk")
        .values_list("pk", "challenge_id", "model_id", "challenge__category_id"),
        dtype=np.int64,
    )
    challenge_ids, offsets, counts = np.unique(rows[:, 1], return_index=True, return_counts=True)
    keep = counts >= 2
    offsets, counts = offsets[keep], counts[keep]
    model_ids = np.unique(rows[:, 2])
    strength = dict(zip(model_ids.tolist(), rng.normal(0, 1, model_ids.size).tolist(), strict=True))

    which = rng.integers(0, offsets.size, VOTES)
    n = counts[which]
    x = rng.integers(0, n)
    y = (x + rng.integers(1, n)) % n
    ra, rb = rows[offsets[which] + x], rows[offsets[which] + y]
    sa = np.array([strength[m] for m in ra[:, 2].tolist()])
    sb = np.array([strength[m] for m in rb[:, 2].tolist()])
    u = rng.random(VOTES)
    p_a = 1 / (1 + np.exp(sb - sa))
    outcome = np.where(
        u < 0.15, "tie", np.where(u < 0.2, "both_bad", np.where(rng.random(VOTES) < p_a, "a", "b"))
    )
    stamp = "2026-01-01T00:00:00+00:00"
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('arena_battle', 'id'))")
        first = cursor.fetchone()[0]
    ids = range(first, first + VOTES)
    _copy(
        "arena_battle",
        ["id", "token", "session_key", "challenge_id", "response_a_id", "response_b_id"]
        + ["created_at", "expires_at"],
        (
            f"{bid}\tbench{bid}\ts{bid % 5000}\t{c}\t{a}\t{b}\t{stamp}\t{stamp}\n"
            for bid, c, a, b in zip(
                ids, ra[:, 1].tolist(), ra[:, 0].tolist(), rb[:, 0].tolist(), strict=True
            )
        ),
    )
    _copy(
        "arena_vote",
        ["battle_id", "outcome", "model_a_id", "model_b_id", "category_id", "session_key"]
        + ["ip_hash", "created_at", "is_counted"],
        (
            f"{bid}\t{o}\t{a}\t{b}\t{cat}\ts{bid % 5000}\th{bid % 3000}\t{stamp}\tt\n"
            for bid, o, a, b, cat in zip(
                ids,
                outcome.tolist(),
                ra[:, 2].tolist(),
                rb[:, 2].tolist(),
                ra[:, 3].tolist(),
                strict=True,
            )
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('arena_battle', 'id'), %s)", [first + VOTES]
        )


def dataset_build() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    sizes = dataset_sizes()
    if dataset_is_current(sizes):
        print(f"reusing the dataset in {connection.settings_dict['NAME']}: {sizes}")
        return
    if any(sizes[k] for k in ("models", "challenges", "votes")):
        print(f"dataset has other sizes ({sizes}): rebuilding")
        connection.close()
        drop_database()
        ensure_database()
        call_command("migrate", verbosity=0)
    coverage = min(1.0, RESPONSES / max(1, MODELS * CHALLENGES))
    call_command(
        "generate_dataset",
        models=MODELS,
        challenges=CHALLENGES,
        coverage=coverage,
        seed=SEED,
        stdout=sys.stdout,
    )
    step = time.perf_counter()
    votes_load()
    print(f"loaded {VOTES:,} battles and votes with COPY in {time.perf_counter() - step:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    step = time.perf_counter()
    services.leaderboard_recompute(rounds=ROUNDS)
    print(f"leaderboard recompute ({ROUNDS} rounds) in {time.perf_counter() - step:.1f} s")
    print(f"dataset built in {time.perf_counter() - started:.0f} s: {dataset_sizes()}")


def pick_urls() -> dict[str, str]:
    """A representative URL per public page, with real slugs: the busiest model, challenge
    and pair, so every page shows its largest realistic content."""
    model = (
        AIModel.objects.filter(slug__startswith="gen-", status=AIModel.Status.ACTIVE)
        .annotate(n=Count("responses"))
        .order_by("-n", "pk")
        .select_related("provider")
        .first()
    )
    challenge = (
        Challenge.objects.filter(slug__startswith="gen-")
        .annotate(n=Count("responses"))
        .order_by("-n", "pk")
        .first()
    )
    response = Response.objects.filter(model=model).select_related("challenge").first()
    other = (
        AIModel.objects.filter(slug__startswith="gen-", status=AIModel.Status.ACTIVE)
        .exclude(pk=model.pk)
        .filter(responses__challenge__responses__model=model)
        .annotate(shared=Count("responses"))
        .order_by("-shared", "pk")
        .first()
    )
    return {
        "home": "/",
        "models": "/models/",
        "models filtered": f"/models/?sort=price&creator={model.provider.slug}",
        "model": f"/models/{model.slug}/",
        "response": f"/models/{model.slug}/responses/{response.challenge.slug}/",
        "challenges": "/challenges/",
        "challenge": f"/challenges/{challenge.slug}/",
        "compare pair": f"/compare/{model.slug}-vs-{other.slug}/",
        "leaderboard": "/leaderboard/",
        "creators": "/creators/",
    }


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
    dataset_build()
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
