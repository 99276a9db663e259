#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine: the system libraries Qt needs, a virtualenv in .venv, the package.
# Safe to run again: it only installs what is missing. Usage: scripts/setup.sh [--test|--build]
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
want_build=0
[ "${1:-}" = "--test" ] && want_test=1
[ "${1:-}" = "--build" ] && want_build=1

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3.12 python3.13 python3; do
    if command -v "$c" >/dev/null 2>&1; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "Python 3.11 or newer is needed (apt-get install python3 python3-venv)." >&2; exit 1; }

# Debian packages: Qt's xcb/EGL/font libraries, xvfb (a virtual screen when there is none),
# poppler-utils (pdftoppm/pdftotext for the PDF tests), python3-venv; for --build, nsis (makensis compiles the
# Windows installer) and p7zip-full (7z lists what the installer holds); for --test and --build, appstream and desktop-file-utils (appstreamcli and
# desktop-file-validate check the Linux menu entry and metadata).
pkgs="libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
      libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
      libxcb-render-util0 libxcb-image0 libxcb-xkb1 libx11-xcb1 libnss3 libasound2 xvfb xauth poppler-utils"
if [ $want_build = 1 ]; then pkgs="$pkgs nsis p7zip-full appstream desktop-file-utils"; fi
if [ $want_test = 1 ]; then pkgs="$pkgs appstream desktop-file-utils"; fi
if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $pkgs; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then missing="$missing python3-venv"; fi
  if [ -n "$missing" ]; then
    echo "Installing system packages:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
    # libasound2 is called libasound2t64 on newer releases: install one by one and carry on if a name is unknown.
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    for p in $missing; do
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$p" >/dev/null 2>&1 \
        || { [ "$p" = libasound2 ] && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libasound2t64 >/dev/null 2>&1; } \
        || echo "  (could not install $p; continuing)"
    done
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extras=""
stamp=".venv/.installed"
if [ $want_test = 1 ]; then
  extras="[test]"
  stamp=".venv/.installed-test"
fi
if [ $want_build = 1 ]; then
  extras="[build]"
  stamp=".venv/.installed-build"
fi
hash=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".$extras"
  echo "$hash" > "$stamp"
fi
