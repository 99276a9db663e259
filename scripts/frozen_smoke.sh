#!/usr/bin/env bash
# Builds the frozen program (PyInstaller, installer/peyvand.spec) and runs it the way an office would:
# --help, demo-data, callerid decode of a capture, and the GUI offscreen to its main window on a new database;
# then compiles the Windows installer (installer/peyvand.nsi) against the frozen folder.
# The same smoke commands run on Windows in .github/workflows/windows.yml (tests/test_windows_workflow.py).
# Usage: bash scripts/frozen_smoke.sh   (after scripts/setup.sh; CI runs it after the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build >/dev/null
out=${FROZEN_DIR:-/tmp/peyvand-frozen}
rm -rf "$out"
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath "$out/dist" --workpath "$out/build" \
  installer/peyvand.spec
exe="$out/dist/peyvand/peyvand"
data="$out/data"
mkdir -p "$data"
export CRM_DATA_DIR="$data" QT_QPA_PLATFORM=offscreen
fail() { echo "frozen build: $*" >&2; exit 1; }

"$exe" --help | grep -q "demo-data" || fail "--help does not list the verbs"
"$exe" --db "$data/demo.sqlite3" demo-data --customers 30 >/dev/null || fail "demo-data failed"
n=$("$exe" callerid decode tests/callerid/captures/ncid_session.txt | grep -c '"number"') || true
[ "${n:-0}" -ge 3 ] || fail "callerid decode printed ${n:-0} events"
gui="$out/gui-data"          # a first start: no database yet; the demo office signs its admin in on this desk
mkdir -p "$gui"
CRM_DATA_DIR="$gui" "$exe" demo-data --customers 20 >/dev/null || fail "demo-data into the default database failed"
CRM_DATA_DIR="$gui" timeout 120 "$exe" gui --quit-after 2 >/dev/null 2>&1 || fail "the GUI did not start and quit"
grep -q "main window shown" "$gui/logs/crm.log" || fail "the main window was not shown"
want=$(ls models/migrations | grep -cE '^m[0-9]{4}_.*\.py$')
got=$(grep -c "applying migration" "$gui/logs/crm.log" || true)
[ "$got" -ge "$want" ] || fail "$got of $want migrations applied on a new database"
echo "frozen build: --help, demo-data, callerid decode ($n events), GUI main window, $got migrations: ok"

# The Windows installer script compiled against this frozen folder (makensis runs on Linux too; the folder holds
# Linux binaries here, so the program names are passed in, and the .exe is checked to be an NSIS installer).
command -v makensis >/dev/null 2>&1 || fail "makensis is missing (scripts/setup.sh --build installs the nsis package)"
version=$(.venv/bin/python -c "import app; print(app.__version__)")
setup="$out/peyvand-setup-$version.exe"
makensis -V2 -WX -DVERSION="$version" -DSOURCE_DIR="$out/dist/peyvand" -DEXE=peyvand -DGUI_EXE=peyvand \
  -DOUT_FILE="$setup" installer/peyvand.nsi >"$out/makensis.log" 2>&1 || { cat "$out/makensis.log" >&2; fail "makensis failed"; }
.venv/bin/python - "$setup" <<'PY' || fail "the installer is not an NSIS executable"
import sys
data = open(sys.argv[1], "rb").read()
assert data[:2] == b"MZ" and b"NullsoftInst" in data and len(data) > 20_000_000, len(data)
print(f"windows installer: {sys.argv[1]} ({len(data) // 1_000_000} MB)")
PY
# What the installer would put in Program Files: the whole frozen folder, the fonts, the icon, the uninstaller.
command -v 7z >/dev/null 2>&1 || fail "7z is missing (scripts/setup.sh --build installs p7zip-full)"
listing=$(7z l -ba "$setup")
for f in peyvand _internal/resources/fonts/Vazirmatn-Regular.ttf peyvand.ico uninstall.exe; do
  grep -qE "[[:space:]]$f\$" <<<"$listing" || fail "the installer does not hold $f"
done
frozen=$(cd "$out/dist/peyvand" && find . -type f | sed 's#^\./##' | sort)
missing=$(comm -13 <(awk '{print $NF}' <<<"$listing" | sort) <(echo "$frozen") | head -5)
[ -z "$missing" ] || fail "files of the frozen folder missing from the installer: $missing"
echo "windows installer: all $(wc -l <<<"$frozen") files of the frozen folder, the fonts, icon and uninstaller inside"
