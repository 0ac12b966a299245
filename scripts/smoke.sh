#!/usr/bin/env bash
# Start `make run` in a scratch var/ on a free port with no services configured, and check
# that the site answers and that its worker processes a task through the filesystem broker.
set -euo pipefail
cd "$(dirname "$0")/.."
uv() { bash scripts/uv.sh "$@"; }

scratch=$(mktemp -d)
port=$(uv run python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The embedded default as `make run` starts it: DEBUG=1 (a development key is allowed then) and
# no services; the manage.py commands below must see the same settings as the site.
export RIVAL_VAR_DIR="$scratch" PORT="$port" DEBUG=1
unset DATABASE_URL REDIS_URL SECRET_KEY

setsid bash scripts/run.sh >"$scratch/run.log" 2>&1 &
run_pid=$!
stop() { kill -- "-$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true; }
trap 'stop; rm -rf "$scratch"' EXIT

fail() { echo "smoke: $1"; tail -n 40 "$scratch/run.log" "$scratch"/worker.log 2>/dev/null; exit 1; }

for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$run_pid" 2>/dev/null || fail "run.sh exited early"
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || fail "/healthz never answered"
curl -fsS "http://127.0.0.1:$port/" -o "$scratch/home.html" || fail "home page failed"
grep -q "Newest responses" "$scratch/home.html" || fail "home page is wrong"
grep -q "^Admin login: admin / " "$scratch/run.log" || fail "no admin login printed"

# A collection run through the real worker on the filesystem broker: every active demo
# model answers a new challenge, and `collect --wait` follows the run to its end.
uv run python manage.py shell -v0 -c '
from apps.challenges.models import Challenge
Challenge.objects.create(slug="smoke", title="Smoke", prompt="Say hi.", is_published=True)
'
uv run python manage.py collect --challenge smoke --gateway demo --wait --timeout 120 \
  >"$scratch/collect.log" 2>&1 || { cat "$scratch/collect.log"; fail "the smoke run did not finish"; }
counts=$(uv run python manage.py shell -v0 -c '
from apps.catalog.models import AIModel
from apps.responses.models import Response
print(Response.objects.filter(challenge__slug="smoke").count(),
      AIModel.objects.active().filter(gateway__name="demo").count())')
read -r stored expected <<<"$counts"
[ "$stored" -gt 0 ] && [ "$stored" = "$expected" ] \
  || fail "the worker stored $stored smoke responses, expected $expected"
echo "smoke: embedded default serves pages and its worker runs tasks (port $port)"
