#!/usr/bin/env bash
# Sets everything up (first time only) and runs the whole test suite headless.
# PostgreSQL tests run too when CRM_TEST_POSTGRES_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -ge 128 ]; then
  # Known, rare: a queued cross-thread Qt signal reaching a finished pytest-qt waitSignal crashes the process
  # (seen about once in ten full runs, in the serial-port listener tests). A crash is not a test failure: run again
  # once and say so; a real failure still fails.
  echo "test.sh: the test process crashed (status $status); running the suite once more" >&2
  status=0
  .venv/bin/python -m pytest "$@" || status=$?
fi
exit "$status"
