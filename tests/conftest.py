import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from apps.catalog.models import Gateway
from apps.gateways.fakeprovider import FakeProvider

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    """Each test session starts with an empty Redis database (its own number, see settings)."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


def _database_url_of_test_db() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    """A real `celery worker` process on the test database and the test Redis broker."""

    def __init__(self, *extra_args: str, env: dict | None = None):
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url_of_test_db(),
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "rival",
            "worker",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *extra_args,
        ]
        self.proc: subprocess.Popen | None = None
        self.log: list[str] = []

    def start(self, timeout: float = 180) -> "WorkerProcess":
        self.proc = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own process group: signals reach the worker's children too (the embedded
            # beat of -B), which a SIGKILL to the worker alone would leave running.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)
            if " ready." in line:
                # Keep draining: a busy worker that fills the pipe blocks on its next log line.
                threading.Thread(target=self._drain, daemon=True).start()
                return self
            if time.monotonic() > deadline:
                break
        self.stop()
        raise RuntimeError("celery worker did not start:\n" + "".join(self.log[-40:]))

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)

    def stop(self, sig: int | None = None) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM if sig is None else sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            # Whatever of the group outlived the worker (an orphaned beat after a SIGKILL).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def celery_worker_process():
    """Start real worker processes; every one started is stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(*extra_args: str, env: dict | None = None) -> WorkerProcess:
        worker = WorkerProcess(*extra_args, env=env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


FAKE_KEY_ENV = "RIVAL_TEST_FAKE_PROVIDER_API_KEY"


@pytest.fixture
def fake_provider():
    """A fake provider on an ephemeral port; `fake_provider(latency=…, faults=…)` for more."""
    started: list[FakeProvider] = []

    def start(**options) -> FakeProvider:
        options.setdefault("hang", 5)
        fake = FakeProvider(**options).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def fake_key(monkeypatch):
    """The fake provider's API key, in the environment that workers started later inherit."""
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test-not-a-real-key")
    return FAKE_KEY_ENV


@pytest.fixture
def make_gateway(fake_key):
    def make(fake: FakeProvider, kind: str = Gateway.Kind.OPENAI, **fields) -> Gateway:
        defaults = {
            "name": f"fake-{uuid.uuid4().hex[:10]}",
            "base_url": fake.url if kind == Gateway.Kind.ANTHROPIC else fake.base_url,
            "api_key_env": fake_key,
            "max_concurrency": 16,
            "requests_per_second": 1000.0,
        }
        return Gateway.objects.create(kind=kind, **{**defaults, **fields})

    return make
