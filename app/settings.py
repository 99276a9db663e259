"""Settings declared once: key, type, default, Persian label, and where each lives.

Office settings (company details, VAT, area code) live in the database, so every desk sharing a PostgreSQL
server sees the same values. Desk settings (this PC's serial port, popup behaviour) live in a JSON file in
the user's data folder. Read them through get()/set() or the typed accessors below, never by bare strings
scattered around the code.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

OFFICE = "office"
DESK = "desk"


@dataclass(frozen=True)
class Option:
    key: str
    type: type
    default: Any
    label: str
    scope: str = OFFICE
    choices: tuple = ()


OPTIONS: dict[str, Option] = {}


def declare(key: str, type_: type, default: Any, label: str, scope: str = OFFICE, choices: tuple = ()) -> Option:
    opt = Option(key, type_, default, label, scope, choices)
    OPTIONS[key] = opt
    return opt


# --- the office -------------------------------------------------------------------------------------------
declare("office.name", str, "", "نام شرکت یا فروشگاه")
declare("office.area_code", str, "021", "کد شهر دفتر (برای شماره‌های بدون پیش‌شماره)")
declare("office.economic_code", str, "", "کد اقتصادی")
declare("office.national_id", str, "", "شناسه ملی")
declare("office.registration_no", str, "", "شماره ثبت")
declare("office.postal_code", str, "", "کد پستی")
declare("office.address", str, "", "نشانی")
declare("office.phone", str, "", "تلفن")
declare("office.logo_path", str, "", "پرونده نشان (لوگو)")
declare("money.show_toman", bool, False, "نمایش مبالغ به تومان")
declare("customers.types", str, "عمده‌فروش، خرده‌فروش، پیمانکار، سازمانی، مصرف‌کننده",
        "انواع مشتری (جدا با ویرگول «،»)")
declare("customers.statuses", str, "active,inactive,blacklist", "وضعیت‌ها")
declare("customers.sources", str, "معرفی دوستان، اینستاگرام، وب‌سایت، نمایشگاه، تبلیغات، تماس ورودی",
        "منابع آشنایی (جدا با ویرگول «،»)")
declare("backup.keep", int, 10, "تعداد پشتیبان‌های خودکار نگه‌داشته")
declare("backup.on_start", bool, True, "پشتیبان خودکار هنگام شروع", scope=DESK)
declare("ui.language", str, "fa", "زبان", scope=DESK, choices=("fa", "en"))
declare("ui.current_user", int, 0, "کاربر این میز", scope=DESK)

# Office-scope keys the program keeps by itself (not a person's choice): written whoever is signed in.
KEPT_BY_PROGRAM = {"reminders.generated_through"}

_office_cache: dict[str, Any] | None = None
_office_db: Any = None
_desk_cache: dict[str, Any] | None = None


def reset_cache() -> None:
    global _office_cache, _desk_cache
    _office_cache = None
    _desk_cache = None


def _coerce(opt: Option, value: Any) -> Any:
    if value is None:
        return opt.default
    try:
        if opt.type is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        return opt.type(value)
    except (TypeError, ValueError):
        logger.warning("setting %s has a bad value %r; using the default", opt.key, value)
        return opt.default


def _load_desk() -> dict[str, Any]:
    global _desk_cache
    if _desk_cache is None:
        from app.core.paths import config_file

        try:
            _desk_cache = json.loads(config_file().read_text(encoding="utf-8"))
            if not isinstance(_desk_cache, dict):
                _desk_cache = {}
        except (OSError, ValueError):
            _desk_cache = {}
    return _desk_cache


def _load_office() -> dict[str, Any]:
    global _office_cache, _office_db
    from models.base import db

    # The cache belongs to one database: another one opened later (a restore, --db) is read afresh.
    if _office_cache is None or _office_db is not db.obj:
        from models.core import Setting

        if db.obj is None:
            return {}        # not open yet: defaults apply, and nothing is cached that would hide the real values
        try:
            _office_cache = {s.key: s.value for s in Setting.select()}
            _office_db = db.obj
        except Exception:  # no table yet (before migrations): defaults apply, read again later
            logger.debug("settings table not readable yet", exc_info=True)
            return {}
    return _office_cache


def get(key: str) -> Any:
    opt = OPTIONS[key]
    store = _load_desk() if opt.scope == DESK else _load_office()
    return _coerce(opt, store.get(key))


def set(key: str, value: Any) -> None:  # the natural name beside get()
    opt = OPTIONS[key]
    value = _coerce(opt, value)
    if opt.scope == OFFICE and key not in KEPT_BY_PROGRAM:
        from app.office.roles import require

        require("settings.change")       # office settings are the manager's; the program's own bookkeeping is not
    if opt.scope == DESK:
        from app.core.paths import config_file

        data = dict(_load_desk())
        data[key] = value
        path = config_file()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
        _load_desk()[key] = value
    else:
        from models.core import Setting

        stored = json.dumps(value) if opt.type in (bool,) else str(value)
        Setting.insert(key=key, value=stored).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: stored}).execute()
        _load_office()[key] = value


def area_code() -> str:
    return get("office.area_code")


# A list typed in a Persian field is separated by the Persian comma «،» (U+060C) as often as by «,»; the
# Arabic semicolon «؛» and «;» count too. Each value is trimmed; empty ones and repeats are dropped.
_LIST_SEPARATORS = re.compile("[,،؛;]")


def csv_list(key: str) -> list[str]:
    out: list[str] = []
    for p in _LIST_SEPARATORS.split(str(get(key))):
        p = p.strip(" ‌ 	")
        if p and p not in out:
            out.append(p)
    return out
