#!/usr/bin/env bash
# Sets everything up (first time only) and runs the whole test suite headless.
# PostgreSQL tests run too when CRM_TEST_POSTGRES_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/mypy app models
exec .venv/bin/python -m pytest "$@"
