import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "DATABASE_URL": "postgres://rival@127.0.0.1:5432/rival",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "rival.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://rival.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_PROXY_SSL_HEADER": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "rival.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_the_documented_production_variables():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(50)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_embedded_default_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = manage(
        "check", env={"DEBUG": "0", "SECRET_KEY": "", "DATABASE_URL": "", "REDIS_URL": ""}
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_runs_without_a_secret_key_as_make_run_does(tmp_path):
    embedded = {"DATABASE_URL": "", "REDIS_URL": "", "RIVAL_VAR_DIR": str(tmp_path)}
    result = manage("check", env={"DEBUG": "1", "SECRET_KEY": "", **embedded})
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_lists_every_variable_the_settings_read():
    settings_text = (ROOT / "rival" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    import re

    read = set(re.findall(r'(?:env_bool|env_list|os\.environ\.get)\(\s*"([A-Z_]+)"', settings_text))
    missing = {name for name in read if name not in example}
    assert not missing, f".env.example does not mention: {sorted(missing)}"


def test_the_cache_gets_the_next_redis_database_and_rate_limits_stay_with_the_broker():
    show = (
        "from django.conf import settings as s; "
        "print(s.CACHES['default']['LOCATION'], s.CACHES['limits']['LOCATION'], "
        "s.CELERY_BROKER_URL)"
    )
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        show,
        env={"DEBUG": "1", "REDIS_URL": "redis://redis:6379/4", "CACHE_URL": ""},
    )
    assert result.stdout.split() == [
        "redis://redis:6379/5",
        "redis://redis:6379/4",
        "redis://redis:6379/4",
    ], result.stderr
    explicit = manage(
        "shell",
        "-v",
        "0",
        "-c",
        show,
        env={"DEBUG": "1", "REDIS_URL": "redis://redis:6379/0", "CACHE_URL": "redis://c:6379/0"},
    )
    assert explicit.stdout.split()[0] == "redis://c:6379/0"


@pytest.mark.parametrize(
    ("env", "seconds"),
    [
        ({"SITE_URL": "https://rival.example.com"}, "31536000"),
        ({"SITE_URL": "http://127.0.0.1:8000", "SECURE_SSL_REDIRECT": "1"}, "31536000"),
        ({"SITE_URL": "http://127.0.0.1:8000", "SECURE_SSL_REDIRECT": "0"}, "0"),
        ({"SITE_URL": "https://rival.example.com", "SECURE_HSTS_SECONDS": "0"}, "0"),
    ],
)
def test_hsts_is_on_by_default_when_the_site_is_served_over_https(env, seconds):
    show = "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS)"
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        show,
        env={"DEBUG": "1", "SECURE_SSL_REDIRECT": "", "SECURE_HSTS_SECONDS": "", **env},
    )
    assert result.stdout.strip() == seconds, result.stderr
