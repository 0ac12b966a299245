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

for _ in $(seq 1 900); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$run_pid" 2>/dev/null || fail "run.sh exited early"
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || fail "/healthz never answered"
curl -fsS "http://127.0.0.1:$port/" -o "$scratch/home.html" || fail "home page failed"
grep -q "Newest responses" "$scratch/home.html" || fail "home page is wrong"
grep -q "^Admin login: admin / " "$scratch/run.log" || fail "no admin login printed"

# Real data out of the box: the bundled rival-early responses and images, and a leaderboard
# from simulated votes that says so.
page() { curl -fsS "http://127.0.0.1:$port$1" -o "$scratch/page.html" || fail "$1 failed"; }
page /challenges/count-letters/
grep -q "Count the Letters" "$scratch/page.html" || fail "no rival-early challenge"
page /images/
grep -q "Hyperrealistic Portrait" "$scratch/page.html" || fail "no rival-early images on /images/"
image=$(grep -o 'class="image-link" href="[^"]*"' "$scratch/page.html" | head -1 | cut -d'"' -f4)
[ "$(curl -fsS -o /dev/null -w '%{content_type}' "http://127.0.0.1:$port$image")" = image/png ] \
  || fail "the image $image is not served"
page /leaderboard/
grep -q "Demo votes." "$scratch/page.html" || fail "the leaderboard does not label demo votes"
grep -q '<td>1</td>' "$scratch/page.html" || fail "the leaderboard is empty"
page /arena/
grep -q "Demo votes." "$scratch/page.html" || fail "the arena does not label demo votes"
# A model, one of its answers and a comparison of two models that answered the same
# challenge: the pages whose hand-written and compiled-once reads differ most between
# SQLite and PostgreSQL.
urls=$(uv run python manage.py shell -v0 -c '
from apps.responses.models import Response
response = Response.objects.visible().select_related("model", "challenge").order_by("id").first()
other = (Response.objects.visible().filter(challenge=response.challenge)
         .exclude(model=response.model).select_related("model").order_by("id").first())
print(f"/models/{response.model.slug}/", response.get_absolute_url(),
      f"/compare/{response.model.slug}-vs-{other.model.slug}/")')
read -r model_url response_url compare_url <<<"$urls"
for url in "$model_url" "$response_url" "$compare_url"; do
  page "$url"
  grep -q "</html>" "$scratch/page.html" || fail "$url is not a whole page"
done

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
echo "smoke: embedded default serves real data, labelled demo votes, and its worker runs tasks (port $port)"
