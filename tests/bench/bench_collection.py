"""Collection throughput: 1,000 jobs, gateway latency 500 ms, concurrency 50.

Run with `make bench` (or `uv run python -m tests.bench.bench_collection`) against the
PostgreSQL in DATABASE_URL and the Redis in REDIS_URL: a throwaway database is created and
dropped, the fake provider runs in its own process, and one real Celery worker (threads pool)
does the work on its own queue. Prints the wall time from starting the run to its end and the
ratio to the ideal 1000 × 0.5 / 50 = 10 s, and the worker's CPU time per job, user and system
(issue 16's targets with one worker process: ratio ≤ 1.1, ≤ 5 ms of worker CPU per job). On a
shared machine steer by the CPU per job: the wall time depends on the neighbours.

A worker that has been up a while has its database and Redis connections open, one set per
thread; a new one opens them during its first run (50 threads: ~150 connections, a tenth of a
second of CPU while every loop waits for the GIL). So a small run goes first, timed and
printed apart, and the measured run is the next one.

BENCH_JOBS, BENCH_LATENCY, BENCH_CONCURRENCY, BENCH_WORKERS (processes sharing the
concurrency; default one per CPU, as the README recommends for deployments, since each job
still costs the worker some milliseconds of CPU under the GIL) change the sizes.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

QUEUE = "bench-collection"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = QUEUE

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

JOBS = int(os.environ.get("BENCH_JOBS", "1000"))
LATENCY = float(os.environ.get("BENCH_LATENCY", "0.5"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 1)))
ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "RIVAL_BENCH_FAKE_API_KEY"
# The first run after the worker starts, timed apart: 2 challenges × 50 models, a loop each.
FIRST_RUN_CHALLENGES = 2


def start_fake_provider() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "fakeprovider", "--port", "0", "--latency", str(LATENCY)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"base URL (\S+)\)", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"fake provider did not start: {line!r}")
    return proc, match.group(1)


def start_worker(concurrency: int, log_path: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        KEY_ENV: "bench-key",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "rival", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "--queues", QUEUE, "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    log = log_path.open("w")
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while " ready." not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("worker did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.2)
    return proc


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU time of a process so far (Linux /proc; zeros elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def populate(base_url: str):
    from apps.catalog.models import AIModel, Gateway, Provider
    from apps.challenges.models import Challenge

    gateway = Gateway.objects.create(
        name=f"bench-{os.getpid()}",
        kind=Gateway.Kind.OPENAI,
        base_url=base_url,
        api_key_env=KEY_ENV,
        max_concurrency=CONCURRENCY,
        requests_per_second=10_000,
    )
    provider = Provider.objects.create(slug="bench", name="Bench")
    n_models = 50
    n_challenges = -(-JOBS // n_models)
    AIModel.objects.bulk_create(
        AIModel(
            slug=f"bench-{i}",
            name=f"Bench: Model {i}",
            provider=provider,
            gateway=gateway,
            gateway_model_id=f"bench/model-{i}",
        )
        for i in range(n_models)
    )
    return Challenge.objects.bulk_create(
        Challenge(slug=f"bench-{i}", title=f"Bench {i}", prompt=f"Question {i}?", is_published=True)
        for i in range(n_challenges + FIRST_RUN_CHALLENGES)
    )


def collect(challenges) -> tuple[float, int, object]:
    """Start a run for the challenges and wait for its end: (wall seconds, jobs, run)."""
    from apps.collection.models import CollectionRun
    from apps.collection.services import run_create

    started = time.monotonic()
    run = run_create(scope=CollectionRun.Scope.CHALLENGE, challenges=challenges)
    jobs = run.jobs.count()
    while CollectionRun.objects.get(pk=run.pk).state == CollectionRun.State.RUNNING:
        if time.monotonic() - started > 300:
            raise RuntimeError("the run did not finish within 300 s")
        time.sleep(0.05)
    return time.monotonic() - started, jobs, run


def main() -> None:
    from celery import current_app

    from apps.collection.models import CollectionRun

    os.environ[KEY_ENV] = "bench-key"
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_bench"
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    fake, base_url = start_fake_provider()
    workers = []
    log_dir = Path(os.environ.get("RIVAL_VAR_DIR", ROOT / "var"))
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        current_app.connection_for_write().default_channel.queue_purge(QUEUE)
        challenges = populate(base_url)
        per_worker = CONCURRENCY // WORKERS
        workers = [
            start_worker(per_worker, log_dir / f"bench-collection-worker-{i}.log")
            for i in range(WORKERS)
        ]
        # A process's first message finalizes the Celery app (importing every task module)
        # and opens its broker connection: a running site's web process has done both before
        # anyone starts a run, so they happen before the clock starts.
        current_app.finalize(auto=True)
        with current_app.producer_or_acquire():
            pass
        first_wall, first_jobs, _ = collect(challenges[-FIRST_RUN_CHALLENGES:])
        cpu_before = {p.pid: cpu_seconds(p.pid) for p in [fake, *workers]}
        wall, jobs, run = collect(challenges[:-FIRST_RUN_CHALLENGES])
        cpu = {
            pid: tuple(now - then for now, then in zip(cpu_seconds(pid), before, strict=True))
            for pid, before in cpu_before.items()
        }
        worker_user = sum(cpu[p.pid][0] for p in workers)
        worker_system = sum(cpu[p.pid][1] for p in workers)
        worker_cpu = worker_user + worker_system
        counts = CollectionRun.objects.with_counts().get(pk=run.pk)
        ideal = jobs * LATENCY / CONCURRENCY
        print(
            f"collection: {jobs} jobs, latency {LATENCY * 1000:.0f} ms, concurrency {CONCURRENCY} "
            f"({WORKERS} worker process(es), threads pool)"
        )
        print(f"  done {counts.n_done}, failed {counts.n_failed}")
        print(
            f"  CPU: worker(s) {worker_cpu:.1f} s ({worker_cpu / jobs * 1000:.1f} ms/job: "
            f"user {worker_user / jobs * 1000:.1f}, system {worker_system / jobs * 1000:.1f}), "
            f"fake provider {sum(cpu[fake.pid]):.1f} s; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        ratio = wall / ideal
        print(f"  wall time {wall:.2f} s; ideal {ideal:.2f} s; ratio {ratio:.2f}")
        first_ideal = first_jobs * LATENCY / CONCURRENCY
        print(
            f"  before it, the first run after the worker started ({first_jobs} jobs, each "
            f"thread opening its connections): {first_wall:.2f} s; ideal {first_ideal:.2f} s; "
            f"ratio {first_wall / first_ideal:.2f}"
        )
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=60)
        fake.terminate()
        fake.wait(timeout=10)
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
