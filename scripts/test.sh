#!/usr/bin/env bash
# `make test`: lint, migrations check, the pytest suite on PostgreSQL + Redis + Chromium,
# then a smoke run of the embedded default and pip-audit of the locked dependencies (last, so a
# vulnerability service that cannot be reached does not hide the suite's results). Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
uv() { bash scripts/uv.sh "$@"; }

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rival}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/9}"

uv sync --locked --quiet
uv run python scripts/services.py

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Chromium is missing: installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing and cannot be installed here (needs root and apt-get):"
    echo "  browser tests will be skipped (and fail under CI=true)."
  fi
fi

echo "== ruff"
uv run ruff check .
uv run ruff format --check .
echo "== import contracts (docs/architecture.md)"
uv run lint-imports --no-cache
echo "== migrations"
DJANGO_SETTINGS_MODULE=tests.settings uv run python manage.py makemigrations --check --dry-run
echo "== pytest"
uv run pytest "$@"
echo "== smoke run of the embedded default"
bash scripts/smoke.sh
echo "== pip-audit (locked dependencies; see scripts/audit.py for retries and offline use)"
requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
uv export --format requirements-txt --no-hashes --locked --quiet >"$requirements"
uv run python scripts/audit.py "$requirements"
