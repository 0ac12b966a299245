#!/usr/bin/env bash
# Run uv, installing it with pip first when the machine has none.
set -euo pipefail
if command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then
  exec uv "$@"
fi
py=$(command -v python3.13 || command -v python3)
if ! "$py" -m uv --version >/dev/null 2>&1; then
  echo "uv not found: installing it with $py -m pip" >&2
  "$py" -m pip install --quiet --user uv 2>/dev/null || "$py" -m pip install --quiet uv
fi
exec "$py" -m uv "$@"
