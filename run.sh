#!/usr/bin/env bash
# Sets everything up (first time only) and starts the CRM; a new database gets a small demo dataset.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ] && [ "$(uname)" = Linux ]; then
  echo "No display found (DISPLAY is empty): starting the CRM on a virtual screen (Xvfb)." >&2
  echo "نمایشگری پیدا نشد؛ برنامه روی صفحه مجازی (Xvfb) اجرا می‌شود." >&2
  exec xvfb-run -a -s "-screen 0 1366x850x24" .venv/bin/crm gui --demo-if-empty "$@"
fi
exec .venv/bin/crm gui --demo-if-empty "$@"
