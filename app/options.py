"""Every option of the program, declared once, typed: key, type, default, Persian label, where it lives.

Office options (company details, VAT, area code, SMS line…) live in the database, so every desk sharing a
PostgreSQL server sees the same values; desk options (this PC's serial port, popup behaviour) live in a JSON file
in the user's data folder. The storage is app/settings.py; read an option as `SALES_PAPER.get()` or
`settings.get(SALES_PAPER)`, write it with `.set(value)` / `settings.set(...)` — never by a bare key string.

This module imports nothing of the project but app/core, so any module may use it without an import circle, and
every option exists as soon as it is imported (no declaration hidden in the module that happens to use it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

OFFICE = "office"
DESK = "desk"


class Storage(Protocol):
    def get(self, key: Option | str) -> Any: ...

    def set(self, key: Option | str, value: Any) -> None: ...


_storage: Storage | None = None


def bind_storage(storage: Storage) -> None:
    """app/settings.py hands itself over when it is imported (it imports this module, not the other way)."""
    global _storage
    _storage = storage


def _store() -> Storage:
    if _storage is None:
        raise RuntimeError("options are stored by app.settings: import it before reading an option")
    return _storage


@dataclass(frozen=True)
class Option:
    key: str
    type: type
    default: Any
    label: str
    scope: str = OFFICE
    choices: tuple = ()

    def get(self) -> Any:
        return _store().get(self)

    def set(self, value: Any) -> None:  # the natural name beside get()
        _store().set(self, value)


OPTIONS: dict[str, Option] = {}


def declare(key: str, type_: type, default: Any, label: str, scope: str = OFFICE, choices: tuple = ()) -> Option:
    """Register an option. A key is declared once: a second, different declaration is a programming error."""
    opt = Option(key, type_, default, label, scope, choices)
    old = OPTIONS.get(key)
    if old is not None and old != opt:
        raise ValueError(f"option {key!r} is declared twice, differently")
    OPTIONS[key] = opt
    return opt


# --- the office -------------------------------------------------------------------------------------------------
OFFICE_NAME = declare("office.name", str, "", "نام شرکت یا فروشگاه")
OFFICE_AREA_CODE = declare("office.area_code", str, "021", "کد شهر دفتر (برای شماره‌های بدون پیش‌شماره)")
OFFICE_ECONOMIC_CODE = declare("office.economic_code", str, "", "کد اقتصادی")
OFFICE_NATIONAL_ID = declare("office.national_id", str, "", "شناسه ملی")
OFFICE_REGISTRATION_NO = declare("office.registration_no", str, "", "شماره ثبت")
OFFICE_POSTAL_CODE = declare("office.postal_code", str, "", "کد پستی")
OFFICE_ADDRESS = declare("office.address", str, "", "نشانی")
OFFICE_PHONE = declare("office.phone", str, "", "تلفن")
OFFICE_LOGO_PATH = declare("office.logo_path", str, "", "پرونده نشان (لوگو)")
# the seller's details printed on an invoice, by the name the invoice uses
OFFICE_DETAILS = {"name": OFFICE_NAME, "economic_code": OFFICE_ECONOMIC_CODE, "national_id": OFFICE_NATIONAL_ID,
                  "registration_no": OFFICE_REGISTRATION_NO, "postal_code": OFFICE_POSTAL_CODE,
                  "address": OFFICE_ADDRESS, "phone": OFFICE_PHONE, "logo_path": OFFICE_LOGO_PATH}
MONEY_SHOW_TOMAN = declare("money.show_toman", bool, False, "نمایش مبالغ به تومان")
CUSTOMERS_TYPES = declare("customers.types", str, "عمده‌فروش، خرده‌فروش، پیمانکار، سازمانی، مصرف‌کننده",
                          "انواع مشتری (جدا با ویرگول «،»)")
CUSTOMERS_STATUSES = declare("customers.statuses", str, "active,inactive,blacklist", "وضعیت‌ها")
CUSTOMERS_SOURCES = declare("customers.sources", str,
                            "معرفی دوستان، اینستاگرام، وب‌سایت، نمایشگاه، تبلیغات، تماس ورودی",
                            "منابع آشنایی (جدا با ویرگول «،»)")

# --- this desk --------------------------------------------------------------------------------------------------
BACKUP_KEEP = declare("backup.keep", int, 10, "تعداد پشتیبان‌های خودکار نگه‌داشته")
BACKUP_ON_START = declare("backup.on_start", bool, True, "پشتیبان خودکار هنگام شروع", scope=DESK)
UI_CURRENT_USER = declare("ui.current_user", int, 0, "کاربر این میز", scope=DESK)

# --- sign-in (app/office/auth.py) and live events between desks (app/office/live.py) ----------------------------
OFFICE_LOCKOUT_MINUTES = declare("office.lockout_minutes", int, 15,
                                 "مدت بسته ماندن ورود پس از پنج رمز نادرست (دقیقه)")
OFFICE_REMEMBER_TOKEN = declare("office.remember_token", str, "", "ورود خودکار این رایانه (مرا به خاطر بسپار)",
                                scope=DESK)
OFFICE_AUTO_SIGN_IN_TOKEN = declare("office.auto_sign_in_token", str, "",
                                    "ورود خودکار این میز (به انتخاب مدیر سیستم)", scope=DESK)
OFFICE_WATCH_LINES = declare("office.watch_lines", str, "all",
                             "تماس کدام خط‌ها روی این میز نشان داده شود (همه، هیچ، یا شماره خط‌ها مانند ۲ یا ۱،۳)",
                             scope=DESK)
OFFICE_WATCH_OTHER_EXTENSIONS = declare("office.watch_other_extensions", bool, False,
                                        "تماس‌هایی که داخلی همکاران را زنگ می‌زند هم روی این میز نشان داده شود",
                                        scope=DESK)

# --- caller ID (app/callerid/) ----------------------------------------------------------------------------------
# Everything about the hardware is per PC (desk scope); the names of the lines and the PBX extensions are the
# office's.
CALLERID_DEVICE_KINDS = ("auto", "modem", "ncid", "segal", "yasna", "techno", "ami", "smdr")
CALLERID_BAUD_RATES = (57600, 19200, 9600, 115200, 38400, 4800, 2400, 1200)
CALLERID_POPUP_HANGUP_CHOICES = ("close", "dim", "keep")
CALLERID_PBX_AUTH_CHOICES = ("md5", "plain")
CALLERID_PBX_TECH_CHOICES = ("PJSIP", "SIP", "IAX2", "Local")
CALLERID_SMDR_LINK_CHOICES = ("tcp", "serial")
CALLERID_DEFAULT_RING_TIMEOUT = 8.0      # seconds without a ring before a ringing call counts as over
# The caller-ID commands of the common chipsets, tried in turn (NCID's table, see
# shared/reference/callerid-formats.md). Stored as one string, commands separated by "|" or new lines,
# because the commands themselves contain ";" and ",".
CALLERID_DEFAULT_INIT_COMMANDS = (
    "AT+VCID=1",            # IS-101: Conexant/Rockwell HCF, Lucent, Cirrus
    "AT#CID=1",             # USR, TI, Rockwell, Hayes, PCTel
    "AT%CCID=1",            # Practical Peripherals
    "AT*ID1",               # some Motorola
    "AT#CC1",               # older Aspen/Cirrus/Motorola
    "AT+FCLASS=8;+VCID=1",  # voice class first, for modems that accept +VCID only there
    "AT#CLS=8#CID=1",
    "AT$JSCID=4,1",
)

CALLERID_ENABLED = declare("callerid.enabled", bool, True, "نمایش شناسه تماس", scope=DESK)
CALLERID_DEVICE = declare("callerid.device", str, "auto", "نوع دستگاه شناسه تماس", scope=DESK,
                          choices=CALLERID_DEVICE_KINDS)
CALLERID_PORT = declare("callerid.port", str, "", "درگاه سریال (مانند COM3 یا /dev/ttyACM0)", scope=DESK)
CALLERID_BAUD = declare("callerid.baud", int, 57600, "سرعت درگاه (baud)", scope=DESK, choices=CALLERID_BAUD_RATES)
CALLERID_INIT = declare("callerid.init", bool, True, "راه‌اندازی مودم با فرمان‌های AT هنگام اتصال", scope=DESK)
CALLERID_INIT_COMMANDS = declare("callerid.init_commands", str, "|".join(CALLERID_DEFAULT_INIT_COMMANDS),
                                 "فرمان‌های فعال‌کردن شناسه تماس (به ترتیب امتحان می‌شوند، با | جدا کنید)",
                                 scope=DESK)
CALLERID_NCID_ADDRESS = declare("callerid.ncid", str, "127.0.0.1:3333", "نشانی سرور NCID (میزبان:درگاه)",
                                scope=DESK)
CALLERID_LINES = declare("callerid.lines", int, 1, "تعداد خطوط تلفن دستگاه", scope=DESK)
CALLERID_LINE_LABELS = declare("callerid.line_labels", str, "",
                               "نام هر خط (با | جدا کنید، مانند «خط فروش|خط پشتیبانی»)", scope=OFFICE)
CALLERID_POPUP_ON_HANGUP = declare("callerid.popup_on_hangup", str, "dim", "پنجره تماس پس از قطع تماس",
                                   scope=DESK, choices=CALLERID_POPUP_HANGUP_CHOICES)
CALLERID_DIAL_RELEASE_AFTER = declare("callerid.dial_release_after", float, 8.0,
                                      "آزاد کردن خط مودم پس از شماره‌گیری (ثانیه، اگر زودتر گوشی برداشته نشد)",
                                      scope=DESK)
CALLERID_RING_TIMEOUT = declare("callerid.ring_timeout", float, CALLERID_DEFAULT_RING_TIMEOUT,
                                "پایان زنگ: چند ثانیه بدون زنگ یعنی تماس تمام شده است", scope=DESK)
CALLERID_POPUP_ENABLED = declare("callerid.popup_enabled", bool, True,
                                 "نمایش پنجره تماس (خاموش: فقط اعلان کنار ساعت)", scope=DESK)
CALLERID_POPUP_CLOSE_AFTER = declare("callerid.popup_close_after", int, 20,
                                     "بستن پنجره تماس تمام‌شده پس از (ثانیه، ۰ یعنی هرگز)", scope=DESK)
# the office's telephone system (kind "ami": Asterisk / Issabel / FreePBX; "smdr": Panasonic call records)
CALLERID_PBX_ADDRESS = declare("callerid.pbx_address", str, "",
                               "نشانی مرکز تلفن (میزبان:درگاه، مانند 192.168.1.10:5038)", scope=DESK)
CALLERID_PBX_USER = declare("callerid.pbx_user", str, "",
                            "نام کاربری مرکز تلفن (کاربر AMI در manager.conf، یا SMDR)", scope=DESK)
CALLERID_PBX_SECRET = declare("callerid.pbx_secret", str, "", "رمز مرکز تلفن", scope=DESK)
CALLERID_PBX_AUTH = declare("callerid.pbx_auth", str, "md5", "روش ورود AMI", scope=DESK,
                            choices=CALLERID_PBX_AUTH_CHOICES)
CALLERID_PBX_TECH = declare("callerid.pbx_tech", str, "PJSIP", "فناوری داخلی‌ها برای شماره‌گیری (PJSIP یا SIP)",
                            scope=DESK, choices=CALLERID_PBX_TECH_CHOICES)
CALLERID_PBX_CONTEXT = declare("callerid.pbx_context", str, "from-internal",
                               "context شماره‌گیری بیرونی در مرکز تلفن", scope=DESK)
CALLERID_PBX_EXTENSION = declare("callerid.pbx_extension", str, "",
                                 "داخلی تلفن این میز (برای شماره‌گیری با کلیک)", scope=DESK)
CALLERID_PBX_EXTENSIONS = declare("callerid.pbx_extensions", str, "",
                                  "داخلی‌ها و کاربران (مانند «101=علی رضایی|102=مریم احمدی»)", scope=OFFICE)
CALLERID_SMDR_LINK = declare("callerid.smdr_link", str, "tcp", "اتصال به گزارش SMDR: شبکه یا درگاه سریال",
                             scope=DESK, choices=CALLERID_SMDR_LINK_CHOICES)

# --- sales (app/sales/) -----------------------------------------------------------------------------------------
SALES_VAT_RATES = declare("sales.vat_rates", str, "1402/01/01=9,1403/01/01=10",
                          "نرخ مالیات بر ارزش افزوده از هر تاریخ (تاریخ=درصد، با ویرگول)")
SALES_PAYMENT_DAYS = declare("sales.payment_days", int, 30, "مهلت پرداخت فاکتور نسیه (روز)")
SALES_PROFORMA_VALID_DAYS = declare("sales.proforma_valid_days", int, 7, "اعتبار پیش‌فاکتور (روز)")
SALES_PAPER = declare("sales.paper", str, "A4", "اندازه کاغذ فاکتور", choices=("A4", "A5"))
SALES_INVOICE_FOOTER = declare("sales.invoice_footer", str, "", "توضیحات پیش‌فرض پای فاکتور")

# --- tasks and reminders (app/tasks/) ---------------------------------------------------------------------------
REMINDERS_DAY_START = declare("reminders.day_start", str, "09:00", "ساعت یادآوری تولدها و کارهای بدون ساعت")
REMINDERS_DEFAULT_BEFORE = declare("reminders.default_before", int, 15, "یادآوری پیش‌فرض (دقیقه پیش از موعد)")
REMINDERS_GENERATED_THROUGH = declare("reminders.generated_through", str, "",
                                      "آخرین روزی که یادآوری تولدها ساخته شد")

# --- after the sale: service requests (app/service/) and documents (app/documents/) -----------------------------
SERVICE_STATUS_NAMES = declare("service.status_names", str, "جدید، در دست بررسی، در انتظار مشتری، انجام شد، بسته",
                               "نام وضعیت‌های درخواست (پنج نام به ترتیب، جدا با ویرگول)")
SERVICE_DEFAULT_RESPONSE_MINUTES = declare("service.default_response_minutes", int, 60,
                                           "مهلت پیش‌فرض نخستین پاسخ (دقیقه کاری)")
SERVICE_DEFAULT_RESOLVE_MINUTES = declare("service.default_resolve_minutes", int, 480,
                                          "مهلت پیش‌فرض انجام درخواست (دقیقه کاری)")
SERVICE_BUSINESS_HOURS = declare("service.business_hours", bool, True, "زمان‌های خدمت فقط در ساعت کاری شمرده شود")
SERVICE_HOURS_WEEKDAY = declare("service.hours_weekday", str, "08:00-17:00", "ساعت کاری شنبه تا چهارشنبه")
SERVICE_HOURS_THURSDAY = declare("service.hours_thursday", str, "08:00-13:00", "ساعت کاری پنجشنبه (خالی: تعطیل)")
SERVICE_HOLIDAYS = declare("service.holidays", str, "", "تعطیلات رسمی (تاریخ‌های شمسی جدا با ویرگول)")
SERVICE_REASSIGN_RULES = ("off", "round_robin", "least_loaded")
SERVICE_REASSIGN_RULE = declare("service.reassign_rule", str, "least_loaded",
                                "ارجاع خودکار درخواست‌های رسیدگی‌نشده", choices=SERVICE_REASSIGN_RULES)
SERVICE_TEAM = declare("service.team", str, "", "تیم خدمات (نام‌های کاربری جدا با ویرگول؛ خالی: همه همکاران)")
SERVICE_RR_LAST = declare("service.rr_last", int, 0, "آخرین همکاری که در نوبت درخواست گرفت")
DOCUMENTS_MAX_MB = declare("documents.max_mb", int, 50, "بیشترین اندازه هر سند پیوست (مگابایت)")

# --- SMS and email (app/sms/): office-wide, every desk sends through one panel -----------------------------------
SMS_PROVIDER = declare("sms.provider", str, "kavenegar", "سامانه پیامک",
                       choices=("kavenegar", "smsir", "melipayamak", "ghasedak", "ippanel", "gsm"))
SMS_KEY = declare("sms.key", str, "", "کلید دسترسی (API) سامانه پیامک")
SMS_SENDER = declare("sms.sender", str, "", "شماره خط فرستنده")
SMS_LINE_KIND = declare("sms.line_kind", str, "advertising", "نوع خط", choices=("advertising", "service"))
SMS_BASE_URL = declare("sms.base_url", str, "", "نشانی سرویس (خالی: نشانی رسمی سامانه)")
SMS_PORT = declare("sms.port", str, "", "درگاه سریال مودم GSM")
SMS_INTERVAL = declare("sms.interval", float, 0.0, "فاصله میان درخواست‌ها به ثانیه (۰: پیش‌فرض سامانه)")
SMS_APPEND_OPTOUT = declare("sms.append_optout", bool, True, "افزودن «لغو۱۱» به پایان پیام‌های گروهی")
EMAIL_HOST = declare("email.host", str, "", "کارگزار SMTP")
EMAIL_PORT = declare("email.port", int, 587, "درگاه SMTP")
EMAIL_SECURITY = declare("email.security", str, "starttls", "امنیت اتصال", choices=("starttls", "ssl", "none"))
EMAIL_USER = declare("email.user", str, "", "نام کاربری SMTP")
EMAIL_PASSWORD = declare("email.password", str, "", "گذرواژه SMTP")
EMAIL_SENDER = declare("email.sender", str, "", "نشانی فرستنده")
EMAIL_SENDER_NAME = declare("email.sender_name", str, "", "نام فرستنده (خالی: نام شرکت)")

# automatic messages (app/sms/automatic.py): each kind has its switch, its text and the moment it was switched on
SMS_AUTO_KINDS = ("birthday", "anniversary", "cheque", "invoice", "missed_call", "survey")
SMS_AUTO_LABELS = {"birthday": "تبریک تولد", "anniversary": "تبریک سالگرد ازدواج", "cheque": "یادآوری سررسید چک",
                   "invoice": "اطلاع صدور فاکتور", "missed_call": "پاسخ به تماس بی‌پاسخ",
                   "survey": "نظرسنجی پس از انجام درخواست خدمت"}
SMS_AUTO_DEFAULT_TEXT = {
    "birthday": "{نام} عزیز، زادروزتان خجسته باد. {نام_دفتر}",
    "anniversary": "{نام} عزیز، سالروز پیوندتان فرخنده باد. {نام_دفتر}",
    "cheque": "{نام} گرامی، یادآوری: چک شماره {شماره_چک} به مبلغ {مبلغ_چک} در تاریخ {سررسید_چک} سررسید می‌شود. "
              "{نام_دفتر}",
    "invoice": "{نام} گرامی، فاکتور شماره {شماره_فاکتور} به مبلغ {مبلغ_فاکتور} برای شما صادر شد. {نام_دفتر}",
    "missed_call": "با سلام، تماس شما را از دست دادیم؛ به‌زودی با شما تماس می‌گیریم. {نام_دفتر}",
    # the reply (a digit from 1 to 5) is recorded as the request's survey: app/service/survey.py
    "survey": "{نام} گرامی، درخواست {شماره_درخواست} انجام شد. لطفاً با فرستادن عددی از ۱ (ناراضی) تا ۵ "
              "(بسیار راضی) بگویید چقدر راضی بودید. {نام_دفتر}",
}
SMS_AUTO_ENABLED = {k: declare(f"sms.auto.{k}.enabled", bool, False, SMS_AUTO_LABELS[k]) for k in SMS_AUTO_KINDS}
SMS_AUTO_TEXT = {k: declare(f"sms.auto.{k}.text", str, SMS_AUTO_DEFAULT_TEXT[k], f"متن {SMS_AUTO_LABELS[k]}")
                 for k in SMS_AUTO_KINDS}
SMS_AUTO_SINCE = {k: declare(f"sms.auto.{k}.since", str, "", f"{SMS_AUTO_LABELS[k]}: روشن از")
                  for k in SMS_AUTO_KINDS}
SMS_AUTO_CHEQUE_DAYS = declare("sms.auto.cheque.days", int, 3, "چند روز پیش از سررسید چک")
SMS_AUTO_WINDOW_START = declare("sms.auto.window_start", str, "09:00", "آغاز بازه ارسال خودکار")
SMS_AUTO_WINDOW_END = declare("sms.auto.window_end", str, "20:00", "پایان بازه ارسال خودکار")
SMS_AUTO_FRIDAYS = declare("sms.auto.fridays", bool, False, "ارسال خودکار در روز جمعه")

# Office-scope options the program keeps by itself (not a person's choice): written whoever is signed in.
KEPT_BY_PROGRAM = frozenset({REMINDERS_GENERATED_THROUGH.key})
