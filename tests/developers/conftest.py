import contextlib
import os
import socket
import subprocess
import sys
from datetime import date, timedelta

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from apps.arena.services import leaderboard as arena_leaderboard
from apps.catalog.models import AIModel
from tests.conftest import ROOT, _database_url_of_test_db
from tests.factories import (
    AIModelFactory,
    CapabilityFactory,
    CategoryFactory,
    ChallengeFactory,
    ModalityFactory,
    ProviderFactory,
    ResponseFactory,
    votes_between,
)
from tests.utils import wait_for


def server_env(**extra) -> dict:
    """The environment of a server process on the test database and test Redis."""
    return {
        **os.environ,
        "DATABASE_URL": _database_url_of_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def uvicorn_serving(workdir, **env):
    """uvicorn serving rival.asgi (site, API and /mcp) on a free port, with SITE_URL set to
    its own address and `env` on top; yields its URL. Proxy headers are Rival's business
    (TRUSTED_PROXIES), not uvicorn's, as the README runs it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "uvicorn.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "rival.asgi:application", "--port", str(port)]
        + ["--no-proxy-headers"],
        cwd=ROOT,
        env=server_env(SITE_URL=url, **env),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )

    def up():
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        try:
            wait_for(up, timeout=180, interval=0.2)
        except AssertionError:
            raise AssertionError("uvicorn did not start:\n" + log.read_text()) from None
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def asgi_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The ASGI server for one test module. Tests using it are transactional, so the server
    sees their data."""
    with uvicorn_serving(tmp_path_factory.mktemp("uvicorn")) as url:
        yield url


@pytest.fixture
def hub(db):
    """A small catalog with ratings: two creators, three listed models and a retired one,
    published and unpublished challenges and responses, and a computed leaderboard."""
    acme = ProviderFactory(slug="acme", name="Acme")
    zenith = ProviderFactory(slug="zenith", name="Zenith")
    reasoning = CapabilityFactory(slug="reasoning", name="Reasoning")
    text = ModalityFactory(slug="text", name="Text")
    vision = ModalityFactory(slug="vision", name="Vision")
    alpha = AIModelFactory(slug="alpha", name="Acme: Alpha", provider=acme)
    beta = AIModelFactory(slug="beta", name="Acme: Beta", provider=acme)
    gamma = AIModelFactory(slug="gamma", name="Zenith: Gamma", provider=zenith)
    old = AIModelFactory(
        slug="old",
        name="Zenith: Old",
        provider=zenith,
        status=AIModel.Status.RETIRED,
        retired_on=date(2025, 1, 1),
        retirement_reason="Superseded.",
    )
    alpha.capabilities.add(reasoning)
    alpha.modalities.add(text, vision)
    beta.modalities.add(text)
    coding = CategoryFactory(slug="coding", name="Coding")
    writing = CategoryFactory(slug="writing", name="Writing")
    c1 = ChallengeFactory(slug="fizzbuzz", title="FizzBuzz", category=coding, output_type="code")
    c2 = ChallengeFactory(slug="haiku", title="Haiku", category=writing)
    hidden = ChallengeFactory(slug="draft", title="Draft", category=writing, is_published=False)
    base = timezone.now() - timedelta(days=1)
    responses = {}
    for i, (m, c) in enumerate(
        [(alpha, c1), (beta, c1), (gamma, c1), (alpha, c2), (beta, c2), (old, c2)]
    ):
        responses[(m.slug, c.slug)] = ResponseFactory(
            model=m, challenge=c, collected_at=base + timedelta(minutes=i)
        )
    ResponseFactory(model=alpha, challenge=hidden)
    ResponseFactory(model=gamma, challenge=c2, is_published=False, content="unpublished secret")
    votes_between(responses[("alpha", "fizzbuzz")], responses[("beta", "fizzbuzz")], "a" * 8 + "b")
    votes_between(responses[("alpha", "haiku")], responses[("beta", "haiku")], "a" * 3 + "t")
    arena_leaderboard.leaderboard_recompute(rounds=20)
    return {
        "models": {m.slug: m for m in (alpha, beta, gamma, old)},
        "challenges": {c.slug: c for c in (c1, c2, hidden)},
        "responses": responses,
        "categories": {"coding": coding, "writing": writing},
    }
