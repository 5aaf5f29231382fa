#!/usr/bin/env bash
# Create or refresh .venv (inside the project) from requirements.lock, the hashed lock of pyproject.toml.
# Quick when nothing changed: a stamp in .venv records the hash of the lock, pyproject.toml and the Python
# version it was installed from, and the script exits at once while that hash still matches.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.setup-stamp"

# Python 3.11 or newer: python3.11 when there is one, else python3.
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: CNN Explorer needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" -V 2>&1)." >&2
  exit 2
fi

key="$( (cat requirements.lock pyproject.toml; "$PYTHON" -V) | sha256sum | cut -c1-32)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$key" ] && "$VENV/bin/python" -c '' 2>/dev/null; then
  exit 0  # up to date
fi

echo "Setting up $VENV from requirements.lock (the first time takes a few minutes) ..." >&2
start=$(date +%s)
if ! "$VENV/bin/python" -c '' 2>/dev/null; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
rm -f "$STAMP"
# Every pinned package with its hash; then the project itself (editable, no dependencies: the lock has them).
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
echo "$key" > "$STAMP"
echo "$VENV is ready ($(( $(date +%s) - start )) s)." >&2
