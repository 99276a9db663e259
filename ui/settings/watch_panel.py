"""Settings → «تماس‌های این میز»: which calls pop on this desk when the caller-ID device hangs on another PC.

For a receptionist: «همه خطوط» (the default), only some lines («خط ۲ — فروش»), or none. The lines offered are
the device's (its line count and the office's line names), 1–8 when this desk does not know them. With the
office's telephone system, the calls ringing the signed-in colleague's extension always pop here; a box
asks whether the calls of the colleagues' extensions pop here too. Saved for this desk only (desk options
office.watch_lines and office.watch_other_extensions, read by app/office/live.py).
"""
from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app import fmt, settings
from app.callerid import settings_keys as sk
from app.office import live as rules

DEFAULT_LINES = 8
MAX_LINES = 16


def offered_lines() -> int:
    """How many lines to offer: the device's line count or the office's named lines, else 1–8."""
    labels = sk.line_labels()
    n = max(int(settings.get(sk.LINES) or 1), max(labels, default=0))
    return min(MAX_LINES, n if n > 1 else DEFAULT_LINES)


class WatchPanel(QWidget):
    TITLE = "تماس‌های این میز"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        intro = QLabel("وقتی دستگاه شناسه تماس به رایانه دیگری در دفتر وصل است، پنجره تماس کدام خط‌ها روی این "
                       "رایانه باز شود؟ این انتخاب فقط برای همین میز است.")
        intro.setWordWrap(True)
        lay.addWidget(intro)

        box = QGroupBox("خطوط")
        bl = QVBoxLayout(box)
        self.all_lines = QRadioButton("همه خطوط")
        self.some_lines = QRadioButton("فقط این خطوط:")
        self.no_lines = QRadioButton("هیچ خطی (پنجره تماس دیگران روی این میز باز نشود)")
        self.choice = QButtonGroup(self)
        for i, b in enumerate((self.all_lines, self.some_lines, self.no_lines)):
            self.choice.addButton(b, i)
        bl.addWidget(self.all_lines)
        bl.addWidget(self.some_lines)
        self.lines_box = QWidget()
        grid = QGridLayout(self.lines_box)
        grid.setContentsMargins(24, 0, 0, 0)
        self.line_checks: dict[int, QCheckBox] = {}
        n = offered_lines()
        for i in range(1, n + 1):
            c = QCheckBox(self.line_text(i))
            self.line_checks[i] = c
            grid.addWidget(c, (i - 1) // 2, (i - 1) % 2)
        bl.addWidget(self.lines_box)
        bl.addWidget(self.no_lines)
        lay.addWidget(box)

        pbx = QGroupBox("مرکز تلفن (داخلی‌ها)")
        pl = QVBoxLayout(pbx)
        self.extension_note = QLabel()
        self.extension_note.setWordWrap(True)
        pl.addWidget(self.extension_note)
        self.other_extensions = QCheckBox("تماس‌هایی که داخلی همکاران را زنگ می‌زند هم روی این میز نشان داده شود")
        pl.addWidget(self.other_extensions)
        lay.addWidget(pbx)

        row = QHBoxLayout()
        self.save_btn = QPushButton("ذخیره")
        self.message = QLabel()
        self.message.setWordWrap(True)
        row.addWidget(self.save_btn)
        row.addWidget(self.message, 1)
        lay.addLayout(row)
        lay.addStretch(1)

        self.choice.idToggled.connect(lambda _i, _on: self._update_enabled())
        self.save_btn.clicked.connect(self.save)
        self.load()

    @staticmethod
    def line_text(line: int) -> str:
        label = sk.line_labels().get(line, "")
        base = f"خط {fmt.digits(line)}"
        return f"{base} — {label}" if label else base

    def load(self) -> None:
        watch = rules.watched_lines()
        if watch == rules.ALL:
            self.all_lines.setChecked(True)
        elif watch == rules.NONE:
            self.no_lines.setChecked(True)
        else:
            self.some_lines.setChecked(True)
        chosen = watch if isinstance(watch, frozenset) else frozenset()
        for i, c in self.line_checks.items():
            c.setText(self.line_text(i))
            c.setChecked(i in chosen)
        self.other_extensions.setChecked(bool(settings.get(rules.WATCH_OTHER_EXTENSIONS)))
        mine = sorted(rules.desk_extensions(getattr(self.ctx, "user_id", None)))
        if mine:
            exts = "، ".join(fmt.digits(e) for e in mine)
            self.extension_note.setText(f"تماس‌هایی که داخلی {exts} را زنگ می‌زند همیشه روی این میز نشان داده "
                                        "می‌شود.")
        else:
            self.extension_note.setText("برای شما داخلی‌ای ثبت نشده است؛ تماس‌های مرکز تلفن مانند خطوط بالا "
                                        "نشان داده می‌شود. داخلی هر همکار در «همکاران و نقش‌ها» نوشته می‌شود.")
        self._update_enabled()

    def _update_enabled(self) -> None:
        self.lines_box.setEnabled(self.some_lines.isChecked())

    def chosen(self) -> str | frozenset[int]:
        if self.all_lines.isChecked():
            return rules.ALL
        if self.no_lines.isChecked():
            return rules.NONE
        return frozenset(i for i, c in self.line_checks.items() if c.isChecked())

    def save(self) -> bool:
        watch = self.chosen()
        if isinstance(watch, frozenset) and not watch:
            self._say(False, "دست‌کم یک خط را علامت بزنید، یا «هیچ خطی» را انتخاب کنید.")
            return False
        settings.set(rules.WATCH_LINES, rules.format_watch(watch))
        settings.set(rules.WATCH_OTHER_EXTENSIONS, self.other_extensions.isChecked())
        if watch == rules.ALL:
            text = "ذخیره شد: تماس همه خطوط روی این میز نشان داده می‌شود."
        elif watch == rules.NONE:
            text = "ذخیره شد: پنجره تماس خطوط دیگر روی این میز باز نمی‌شود."
        else:
            nums = [fmt.digits(i) for i in sorted(watch)]
            which = f"خط {nums[0]}" if len(nums) == 1 else f"خط‌های {'، '.join(nums[:-1])} و {nums[-1]}"
            text = f"ذخیره شد: فقط تماس {which} روی این میز نشان داده می‌شود."
        self._say(True, text)
        return True

    def _say(self, ok: bool, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #166534;" if ok else "color: #dc2626;")
