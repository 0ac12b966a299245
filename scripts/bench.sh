#!/usr/bin/env bash
# `make bench`: every benchmark module in tests/bench/, one after the other. Each prints its
# own numbers; they run against the PostgreSQL in DATABASE_URL (a throwaway test database).
set -euo pipefail
cd "$(dirname "$0")/.."
uv() { bash scripts/uv.sh "$@"; }
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-tests.settings}"
status=0
for module in tests/bench/bench_*.py; do
  [ -e "$module" ] || continue
  name="$(basename "$module" .py)"
  echo "== $name"
  uv run python -m "tests.bench.$name" || status=1
done
exit $status
