"""The Linux menu entry: `crm install-desktop` puts Peyvand in the user's application menu with its Persian name.

Installed for the user alone (no root), under $XDG_DATA_HOME (default ~/.local/share), per the freedesktop.org
specs: applications/ir.peyvand.crm.desktop (its Exec naming the program that ran the command: the frozen
program, or the `crm` launcher of the virtualenv), icons/hicolor/{scalable,N×N}/apps/ir.peyvand.crm.{svg,png},
and metainfo/ir.peyvand.crm.metainfo.xml (AppStream). `crm install-desktop --remove` takes them away again.
No cache is rebuilt: menus watch the applications folder, and a user-level icon-theme.cache would hide icons that
other programs add later.
The templates live in resources/linux/ and resources/icons/ (shipped in the frozen build too).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app import APP_ID
from app.core.errors import UserError
from app.core.paths import resources_dir

logger = logging.getLogger(__name__)

DESKTOP_FILE = f"{APP_ID}.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"


@dataclass
class Installed:
    data_home: Path
    files: list[Path] = field(default_factory=list)
    command: str = ""


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "").strip()
    # the spec: a relative XDG_DATA_HOME is invalid and ignored
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def _quote(arg: str) -> str:
    """One Exec argument, quoted as the Desktop Entry spec asks when it holds a space or a reserved character."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def launch_command() -> list[str]:
    """How the menu entry starts this same program: the frozen executable, the `crm` launcher next to this
    Python (a virtualenv's bin/), the one on the PATH, or this Python running main.py."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "gui"]
    beside = Path(sys.executable).with_name("crm")
    if beside.exists():
        return [str(beside), "gui"]
    on_path = shutil.which("crm")
    if on_path:
        return [os.path.abspath(on_path), "gui"]
    main = Path(__file__).resolve().parents[1] / "main.py"
    return [sys.executable, str(main), "gui"]


def desktop_entry(command: list[str]) -> str:
    text = (resources_dir() / "linux" / DESKTOP_FILE).read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(_quote(a) for a in command)
        elif line.startswith("TryExec="):
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def _targets(home: Path) -> list[tuple[Path, Path]]:
    """(source, destination) of every file but the desktop entry, which is written from its template."""
    icons = resources_dir() / "icons"
    out = [(icons / "peyvand.svg", home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"),
           (resources_dir() / "linux" / METAINFO_FILE, home / "metainfo" / METAINFO_FILE)]
    for png in sorted((icons / "hicolor").glob("*.png")):
        size = png.stem
        out.append((png, home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"))
    return out


def _only_on_linux() -> None:
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        raise UserError("این فرمان میان‌بر منوی برنامه‌ها را در لینوکس می‌سازد؛ در ویندوز، برنامه‌نصب‌کن پیوند "
                        "میان‌برهای منوی شروع و میز کار را می‌سازد.",
                        en="This command adds the Linux menu entry; on Windows the Peyvand installer makes the "
                           "Start-menu and desktop shortcuts.")


def install(home: Path | None = None, command: list[str] | None = None) -> Installed:
    """Write the menu entry, the icons and the AppStream metadata for this user. Safe to run again."""
    _only_on_linux()
    home = home or data_home()
    command = command or launch_command()
    done = Installed(home, command=" ".join(_quote(a) for a in command))
    try:
        apps = home / "applications"
        apps.mkdir(parents=True, exist_ok=True)
        entry = apps / DESKTOP_FILE
        tmp = entry.with_suffix(".tmp")
        tmp.write_text(desktop_entry(command), encoding="utf-8")
        os.replace(tmp, entry)
        done.files.append(entry)
        for src, dst in _targets(home):
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            done.files.append(dst)
    except OSError as e:
        raise UserError(f"میان‌بر منو در «{home}» نوشته نشد: {e.strerror or e}",
                        en=f"The menu entry could not be written under {home}: {e.strerror or e}") from None
    logger.info("desktop entry installed under %s (%s)", home, done.command)
    return done


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what install() wrote; returns the files removed."""
    _only_on_linux()
    home = home or data_home()
    removed = []
    for path in [home / "applications" / DESKTOP_FILE, *(dst for _src, dst in _targets(home))]:
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise UserError(f"«{path}» پاک نشد: {e.strerror or e}", en=f"{path} could not be removed: {e}") from None
    return removed
