"""Throwaway servers for the fault suite: each scenario starts (and kills, and restarts) its own
Redis, PostgreSQL cluster and gunicorn, never the shared ones.

Quick versions run in `make test`; FAULTS_FULL=1 (`make faults`) runs the full sizes and
durations. Every scenario prints one `FAULT <name>: figure=value, …` line (shown with -s).
"""

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.utils import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
FULL = os.environ.get("FAULTS_FULL") == "1"


def sized(quick, full):
    return full if FULL else quick


def report(scenario: str, **figures) -> None:
    print(f"\nFAULT {scenario}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RedisServer:
    """redis-server on a free loopback port, no persistence."""

    def __init__(self):
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10)
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGKILL)


class PostgresCluster:
    """A PostgreSQL cluster of its own (initdb in a temporary folder) on a free port."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            pytest.skip("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin")
        self.bin = Path(bins[-1])
        # Its own folder in /tmp: pytest's tmp_path is private to root, whom postgres is not.
        self.folder = Path(tempfile.mkdtemp(prefix="rival-faults-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/rival"

    def _run(self, *args: str) -> None:
        # initdb and postgres refuse to run as root: drop to the postgres user when we are.
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> "PostgresCluster":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "rival")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Gunicorn:
    """The site under gunicorn on loopback, DEBUG=0, with the given services."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        cache_url: str,
        workers: int = 2,
        env: dict | None = None,
        access_log: bool = False,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_SETTINGS_MODULE": "rival.settings",
            "DEBUG": "0",
            "SECRET_KEY": "fault-suite-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CACHE_URL": cache_url,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": self.url,
            "RIVAL_PLAIN_STATIC": "1",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_CONNECT_TIMEOUT": "2",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.args = [
            sys.executable,
            "-m",
            "gunicorn",
            "rival.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            # Load Django once before forking; no control socket (its default path is shared
            # by every gunicorn of this user).
            "--preload",
            "--no-control-socket",
            *(["--access-logfile", "-"] if access_log else []),
        ]
        self.proc: subprocess.Popen | None = None
        self.log = ROOT / "var" / f"faults-gunicorn-{self.port}.log"

    def start(self) -> "Gunicorn":
        self.log.parent.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )
        wait_for(self._serving, timeout=180, interval=0.3)
        return self

    def _serving(self) -> bool:
        assert self.proc and self.proc.poll() is None, self.log.read_text()[-3000:]
        try:
            return httpx.get(self.url + "/robots.txt", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def worker_rss_kb(self) -> int:
        total = 0
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        return total

    def answered(self, method: str, path: str, status: int | None = None) -> int:
        """How many `method path` requests the site answered (with `status`, or with any),
        by its access log (start with access_log=True)."""
        code = str(status) if status else r"\d{3}"
        line = re.compile(rf'"{method} {re.escape(path)}(?:\?\S*)? HTTP/[\d.]+" {code} ')
        return sum(1 for entry in self.log.read_text().splitlines() if line.search(entry))

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture
def redis_server():
    servers: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer().start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def gunicorn():
    servers: list[Gunicorn] = []

    def start(**options) -> Gunicorn:
        server = Gunicorn(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
BATTLE = re.compile(r'name="battle" value="([^"]+)"')


class Visitor:
    """One browser: cookies, and the arena's battle-then-vote round trip."""

    def __init__(self, base_url: str, timeout: float = 10):
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def battle_and_vote(self, outcome: str = "a") -> tuple[int, int]:
        """(status of the arena page, status of the vote); the vote is skipped (0) when the
        page had no battle."""
        page = self.http.get("/arena/")
        battle, csrf = BATTLE.search(page.text), CSRF.search(page.text)
        if page.status_code != 200 or not battle or not csrf:
            return page.status_code, 0
        vote = self.http.post(
            "/arena/vote/",
            data={
                "battle": battle.group(1),
                "outcome": outcome,
                "csrfmiddlewaretoken": csrf.group(1),
            },
        )
        return page.status_code, vote.status_code

    def close(self) -> None:
        self.http.close()
