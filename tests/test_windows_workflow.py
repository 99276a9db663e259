"""The Windows CI workflow and build script: valid YAML with the shape GitHub Actions expects, on a Windows runner,
running the same smoke commands as scripts/frozen_smoke.sh on Linux (and checking the same things); the NSIS
script names what the build makes."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "windows.yml"
SMOKE = ROOT / "scripts" / "frozen_smoke.sh"
BUILD = ROOT / "installer" / "build-windows.ps1"
NSIS = ROOT / "installer" / "peyvand.nsi"

STOP = ("|", "||", "&&", ";", "}", ")")


def _args_after(line: str, marker: str) -> list[str]:
    """The program's arguments on a line that runs it: variables and paths under them become <path>."""
    rest = line.split(marker, 1)[1].replace("\\", "/")
    try:
        tokens = shlex.split(rest, comments=True)
    except ValueError:                        # an unbalanced quote after the command (a PowerShell block)
        tokens = shlex.split(rest.split("|")[0])
    out: list[str] = []
    for tok in tokens:
        if tok in STOP or tok.startswith((">", "2>", "*>", "|")):
            break
        out.append("<path>" if "$" in tok else tok)
    return out


def bash_commands(text: str) -> list[list[str]]:
    return [_args_after(ln, '"$exe"') for ln in text.splitlines() if '"$exe"' in ln and not ln.lstrip().startswith("#")]


def pwsh_commands(text: str) -> list[list[str]]:
    return [_args_after(ln, "& $exe") for ln in text.splitlines() if "& $exe" in ln and not ln.lstrip().startswith("#")]


def load_workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_the_linux_smoke_commands_are_read_as_expected():
    cmds = bash_commands(SMOKE.read_text(encoding="utf-8"))
    assert cmds == [["--help"], ["--db", "<path>", "demo-data", "--customers", "30"],
                    ["callerid", "decode", "tests/callerid/captures/ncid_session.txt"],
                    ["demo-data", "--customers", "20"], ["gui", "--quit-after", "2"]]


def test_the_workflow_is_valid_yaml_for_a_windows_runner():
    wf = load_workflow()
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on"
    triggers = wf.get("on", wf.get(True))
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    job = wf["jobs"]["windows"]
    assert job["runs-on"].startswith("windows-")
    assert job["defaults"]["run"]["shell"] == "pwsh"
    assert job["env"]["QT_QPA_PLATFORM"] == "offscreen"
    for step in job["steps"]:
        assert ("uses" in step) != ("run" in step), step            # each step does one thing
        assert set(step) <= {"name", "uses", "with", "run", "env", "timeout-minutes", "shell", "if", "id"}, step
    uses = [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"] and "actions/upload-artifact" in uses
    runs = "\n".join(s["run"] for s in job["steps"] if "run" in s)
    assert "choco install nsis" in runs and "installer/build-windows.ps1" in runs


def test_the_workflow_runs_the_same_smoke_commands_as_the_linux_build():
    job = load_workflow()["jobs"]["windows"]
    runs = "\n".join(s["run"] for s in job["steps"] if "run" in s)
    linux = bash_commands(SMOKE.read_text(encoding="utf-8"))
    # the installed program is run once more after a silent install; the smoke commands come first, in order
    assert pwsh_commands(runs)[: len(linux)] == linux
    for check in ("main window shown", "applying migration", '"number"', "demo-data"):
        assert check in runs and check in SMOKE.read_text(encoding="utf-8")


def test_the_build_script_runs_them_too_and_then_makensis():
    text = BUILD.read_text(encoding="utf-8")
    assert pwsh_commands(text) == bash_commands(SMOKE.read_text(encoding="utf-8"))
    assert "installer\\peyvand.spec" in text and "installer\\peyvand.nsi" in text
    assert text.index("PyInstaller") < text.index("& $exe --help") < text.index("& $makensis")
    assert "-m venv .venv" in text


def test_a_changed_smoke_command_is_noticed():
    linux = bash_commands(SMOKE.read_text(encoding="utf-8"))
    changed = BUILD.read_text(encoding="utf-8").replace("demo-data --customers 30", "demo-data --customers 3")
    assert pwsh_commands(changed) != linux


def test_the_installer_script_installs_what_the_build_makes():
    text = NSIS.read_text(encoding="utf-8")
    assert '!insertmacro MUI_LANGUAGE "Farsi"' in text and '!insertmacro MUI_LANGUAGE "English"' in text
    assert re.search(r'!define GUI_EXE "peyvandw\.exe"', text) and re.search(r'!define EXE "peyvand\.exe"', text)
    assert 'name=app.APP_NAME + "w"' in (ROOT / "installer" / "peyvand.spec").read_text(encoding="utf-8")
    # the backup files' extension is the one the backups are written with
    from models.snapshot import SUFFIX

    assert f'!define BACKUP_EXT "{SUFFIX}"' in text
    assert "--open-backup" in text
    assert "$SMPROGRAMS" in text and "$DESKTOP" in text
    # the data folder is the one platformdirs gives on Windows, and it is removed only when asked
    assert '!define DATA_DIR_NAME "peyvand"' in text
    assert 'Section /o "un.$(SecUnData)"' in text


def test_the_uninstallers_data_folder_is_the_one_the_program_uses_on_windows(monkeypatch):
    """app.core.paths.data_dir() as platformdirs computes it on Windows (its Windows class, with the known folder
    %LOCALAPPDATA% given) ends in the folder name the uninstaller keeps or removes."""
    import platformdirs
    import platformdirs.windows

    from app.core import paths

    local = "C:\\Users\\Reza\\AppData\\Local"
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda csidl: {"CSIDL_LOCAL_APPDATA": local}[csidl])
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.windows.Windows)
    monkeypatch.setattr(paths, "_own_dir", lambda p: p)          # nothing is made on this disk
    monkeypatch.delenv("CRM_DATA_DIR", raising=False)
    got = str(paths.data_dir()).replace("\\", "/")
    name = re.search(r'!define DATA_DIR_NAME "([^"]+)"', NSIS.read_text(encoding="utf-8")).group(1)
    assert got == local.replace("\\", "/") + "/" + name
    assert "$LOCALAPPDATA\\${DATA_DIR_NAME}" in NSIS.read_text(encoding="utf-8")
