#!/usr/bin/env bash
# `make run`: the site on the embedded default (SQLite in var/, Celery's filesystem broker,
# local-memory cache, the offline demo gateway), with a real worker and beat beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
uv() { bash scripts/uv.sh "$@"; }

export DEBUG="${DEBUG:-1}"
host="${HOST:-127.0.0.1}"
port="${PORT:-8000}"
var_dir="${RIVAL_VAR_DIR:-var}"
mkdir -p "$var_dir"

uv sync --locked --quiet
uv run python manage.py migrate --noinput -v0
# Capture, then print: `tee /dev/stderr` reopened (and truncated) a redirected log file behind
# the shell's back, so the login line could be overwritten in the log the smoke run reads.
# The embedded default loads real data (the bundled rival-early responses and images), the
# demo gateway's models for the Lab and labelled simulated votes. A production database
# (DATABASE_URL set, or DEBUG=0) gets none of it unless RIVAL_LOAD_DEMO=1 asks.
if [[ -z "${DATABASE_URL:-}" && "$DEBUG" != "0" ]] || [[ "${RIVAL_LOAD_DEMO:-0}" == "1" ]]; then
  demo_output=$(uv run python manage.py loaddemo --admin --real-data)
else
  demo_output="Production settings: no demo data loaded (RIVAL_LOAD_DEMO=1 loads it)."
fi
printf '%s\n' "$demo_output"
login=$(printf '%s\n' "$demo_output" | grep '^Admin login:' || true)

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Threads: collection is I/O-bound (waiting on provider APIs), see README.
uv run celery -A rival worker -Q celery,lab --pool threads --concurrency 8 --loglevel INFO \
  >"$var_dir/worker.log" 2>&1 &
pids+=($!)
uv run celery -A rival beat --loglevel INFO --schedule "$var_dir/celerybeat-schedule" \
  >"$var_dir/beat.log" 2>&1 &
pids+=($!)
uv run python manage.py runserver "$host:$port" --noreload &
pids+=($!)

for _ in $(seq 1 100); do
  if curl -fsS "http://$host:$port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
echo
echo "Rival is running at http://$host:$port/"
echo "Admin: http://$host:$port/admin/  (${login#Admin login: })"
echo "Worker and beat logs: $var_dir/worker.log, $var_dir/beat.log. Ctrl-C stops everything."
wait -n "${pids[@]}"
