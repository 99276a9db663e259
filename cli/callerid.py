"""`crm callerid …`: simulate, monitor, decode, lookup.

    crm callerid simulate [--device modem|segal|yasna|techno|ami|smdr] [--link /tmp/crm-modem | --tcp [--tcp-port N]]
                          [--ring 0212251432 …]
    crm callerid monitor [--port P | --ncid HOST:PORT | --ami HOST:PORT | --smdr HOST:PORT] [--format F] …
    crm callerid decode FILE [--format auto|modem|raw|ncid|segal|yasna|techno|ami|smdr] [--all]
    crm callerid lookup NUMBER
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time

from app.core.errors import UserError

logger = logging.getLogger(__name__)

FORMAT_HELP = ("قالب: auto، modem، raw، ncid، segal، yasna، techno، ami (مرکز تلفن Asterisk) یا smdr "
               "(مرکز تلفن پاناسونیک) (پیش‌فرض: تشخیص خودکار)")


def register(sub) -> None:
    p = sub.add_parser("callerid", help="شناسه تماس: شبیه‌ساز، پایش زنده، رمزگشایی، جست‌وجوی شماره")
    csub = p.add_subparsers(dest="callerid_command", metavar="VERB")
    p.set_defaults(func=lambda args: _help(p))

    # -- decode / lookup (implemented in app.callerid.cli_decode) ----------------------------------------
    d = csub.add_parser("decode", help="رمزگشایی پرونده بایت‌های ضبط‌شده از مودم یا دستگاه شناسه تماس")
    d.add_argument("file", help="پرونده بایت‌های ضبط‌شده")
    d.add_argument("--format", default="auto", help=FORMAT_HELP)
    d.add_argument("--all", "--all-events", dest="all_events", action="store_true",
                   help="همه رویدادها (زنگ، پاسخ، قطع، بی‌پاسخ، تماس خروجی)، نه فقط شماره تماس‌گیرنده")
    d.set_defaults(func=cmd_decode)

    lk = csub.add_parser("lookup", help="شکل‌های استاندارد یک شماره و مشتری‌هایی که آن را دارند")
    lk.add_argument("number", help="شماره همان‌طور که دستگاه گزارش داده")
    lk.set_defaults(func=cmd_lookup)

    # -- monitor ------------------------------------------------------------------------------------------
    m = csub.add_parser("monitor", help="نمایش زنده رویدادهای شناسه تماس (برای عیب‌یابی مودم یا دستگاه)")
    where = m.add_mutually_exclusive_group()
    where.add_argument("--port", help="درگاه سریال، مانند COM3 یا /dev/ttyACM0 یا /tmp/crm-modem، یا نشانی شبکه "
                                      "مانند socket://127.0.0.1:7001")
    where.add_argument("--ncid", metavar="HOST:PORT", help="سرور NCID، مانند 192.168.1.5:3333")
    where.add_argument("--ami", metavar="HOST:PORT", help="مرکز تلفن Asterisk/Issabel (AMI)، مانند 192.168.1.10:5038")
    where.add_argument("--smdr", metavar="HOST:PORT", help="گزارش SMDR مرکز تلفن پاناسونیک در شبکه، مانند 192.168.1.20:2300")
    m.add_argument("--user", default=None, help="نام کاربری AMI یا SMDR")
    m.add_argument("--secret", default=None, help="رمز AMI یا SMDR")
    m.add_argument("--format", default=None, help=FORMAT_HELP)
    m.add_argument("--baud", type=int, default=None, help="سرعت درگاه (پیش‌فرض ۵۷۶۰۰ یا مقدار تنظیمات)")
    m.add_argument("--init", action=argparse.BooleanOptionalAction, default=None,
                   help="فرستادن فرمان‌های راه‌اندازی مودم (پیش‌فرض: برای مودم و تشخیص خودکار بله)")
    m.add_argument("--bytes", dest="show_bytes", action="store_true", help="نمایش بایت‌های خام در stderr")
    m.add_argument("--seconds", type=float, default=None, help="پس از این چند ثانیه پایان بده")
    m.set_defaults(func=cmd_monitor)

    # -- simulate ------------------------------------------------------------------------------------------
    s = csub.add_parser("simulate", help="مودم یا دستگاه شناسه تماس شبیه‌سازی‌شده روی یک ترمینال مجازی (pty) "
                                         "یا درگاه شبکه (socket://، در ویندوز هم)")
    s.add_argument("--device", default="modem", choices=("modem", "segal", "yasna", "techno", "ami", "smdr"),
                   help="نوع دستگاه شبیه‌سازی‌شده (ami: سرور Asterisk روی 127.0.0.1؛ smdr: گزارش پاناسونیک)")
    s.add_argument("--tcp-port", type=int, default=None,
                   help="درگاه TCP شبیه‌ساز (پیش‌فرض ۷۰۰۱ برای مودم و دستگاه‌ها با --tcp، ۵۰۳۸ برای ami، ۲۳۰۰ برای "
                        "smdr با --tcp؛ ۰ = هر درگاه آزاد)")
    s.add_argument("--style", default="16", choices=("16", "11"), help="ami: رویدادهای Asterisk 12+ یا Asterisk 11")
    s.add_argument("--user", default=None, help="ami/smdr: نام کاربری (پیش‌فرض crm برای ami، SMDR برای smdr)")
    s.add_argument("--secret", default=None, help="ami/smdr: رمز (پیش‌فرض s3cret برای ami، PCCSMDR برای smdr)")
    s.add_argument("--extensions", default="101,102", help="ami/smdr: داخلی‌هایی که زنگ می‌خورند (با ویرگول)")
    s.add_argument("--answer-by", default=None, help="ami: داخلی پاسخ‌دهنده (پیش‌فرض: نخستین داخلی با --answer)")
    s.add_argument("--transfer", default=None, help="ami: انتقال تماس پاسخ‌داده‌شده به این داخلی")
    s.add_argument("--tcp", action="store_true",
                   help="روی درگاه شبکه 127.0.0.1 به‌جای pty (در ویندوز همیشه چنین است): در برنامه، درگاه "
                        "socket://127.0.0.1:7001 را بنویسید؛ smdr: با ورود (- / Enter Password:)")
    s.add_argument("--chipset", default="conexant",
                   choices=("conexant", "usr", "pctel", "motorola", "pp", "nocid"),
                   help="تراشه مودم: فرمان‌هایی که برای شناسه تماس می‌پذیرد (nocid: هیچ)")
    s.add_argument("--link", nargs="?", const="/tmp/crm-modem", default=None,
                   help="ساختن پیوند ثابت به درگاه (پیش‌فرض /tmp/crm-modem)")
    s.add_argument("--lines", type=int, default=None, help="تعداد خطوط دستگاه چندخطی")
    s.add_argument("--ring", action="append", default=[], metavar="[LINE:]NUMBER",
                   help="زنگ با این شماره (چند بار می‌شود داد؛ P = شماره پنهان، O = نامعلوم)")
    s.add_argument("--name", default=None, help="نام تماس‌گیرنده (فقط مودم)")
    s.add_argument("--rings", type=int, default=3, help="چند بار زنگ بخورد")
    s.add_argument("--answer", action="store_true", help="پس از زنگ‌ها پاسخ داده شود (دستگاه چندخطی)")
    s.add_argument("--talk", type=float, default=5.0, help="مدت مکالمه پاسخ‌داده‌شده، ثانیه")
    s.add_argument("--interval", type=float, default=3.0, help="فاصله میان تماس‌ها، ثانیه")
    s.add_argument("--repeat", type=int, default=1, help="چند بار فهرست زنگ‌ها تکرار شود (۰ = بی‌پایان)")
    s.add_argument("--ring-period", type=float, default=4.0, help="فاصله زنگ‌ها، ثانیه")
    s.add_argument("--raw", choices=("sdmf", "mdmf"), default=None, help="مودم: پیام خام SDMF/MDMF به‌صورت hex")
    s.add_argument("--cid-on", action="store_true", help="مودم: شناسه تماس از ابتدا روشن (بی‌نیاز به AT+VCID=1)")
    s.add_argument("--cid-first", action="store_true", help="مودم: شناسه تماس پیش از نخستین RING")
    s.add_argument("--dial-result", default="OK", choices=("OK", "NO DIALTONE", "BUSY", "ERROR"),
                   help="پاسخ مودم به شماره‌گیری (برای آزمودن پیام‌های خطا)")
    s.add_argument("--script", default=None,
                   help="سناریو، مانند \"ring 2 09121234567; wait 3; answer 2; wait 5; hangup 2\"")
    s.add_argument("--interactive", "-i", action="store_true", help="خواندن فرمان‌ها از ورودی (ring/answer/…)")
    s.add_argument("--exit", dest="exit_when_done", action="store_true",
                   help="پس از زنگ‌ها و سناریو پایان بده (بی‌آن تا Ctrl-C به فرمان‌های AT پاسخ می‌دهد)")
    s.add_argument("--trace", action="store_true", help="نمایش بایت‌های فرستاده‌شده در stderr")
    s.set_defaults(func=cmd_simulate)


def _help(parser) -> int:
    parser.print_help()
    return 2


def _print_json(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# --- decode / lookup ------------------------------------------------------------------------------------
def cmd_decode(args) -> int:
    from cli.callerid_decode import decode_main

    return decode_main(args.file, args.format, args.all_events)


def cmd_lookup(args) -> int:
    from cli.callerid_decode import lookup_main
    from cli.common import open_db

    open_db(args)
    return lookup_main(args.number)


# --- monitor --------------------------------------------------------------------------------------------
def event_json(event) -> dict:
    """The decode JSON shape plus "event" (the kind) and, where reported, rings / duration / source."""
    d = {"event": event.kind, **event.to_json_dict()}
    if event.kind != "incoming" and event.status is None:
        d["status"] = None
    if event.rings is not None:
        d["rings"] = event.rings
    if event.duration is not None:
        d["duration"] = event.duration
    if event.extra.get("device") is not None:
        d["device"] = event.extra["device"]
    d["source"] = event.source
    return d


def _monitor_source(args):
    from app.callerid import configured, sources

    fmt = args.format
    if args.ncid:
        from app.callerid.settings_keys import parse_host_port

        host, port = parse_host_port(args.ncid, sources.DEFAULT_NCID_PORT)
        return sources.NcidSource(host, port), fmt or "ncid"
    if getattr(args, "ami", None) or getattr(args, "smdr", None):
        from app.callerid import settings_keys as sk

        kind = "ami" if args.ami else "smdr"
        host, port = sk.parse_pbx_address(args.ami or args.smdr, kind)
        if kind == "ami":
            from app.callerid.ami import AmiSource

            return AmiSource(host, port, args.user or "", args.secret or ""), fmt or "ami"
        from app.callerid.smdr import SmdrTcpSource

        return SmdrTcpSource(host, port, args.user or sk.DEFAULT_SMDR_USER,
                             args.secret or sk.DEFAULT_SMDR_PASSWORD), fmt or "smdr"
    if args.port:
        fmt = fmt or "auto"
        init = None
        if args.init is None:
            init = {"modem": "modem", "auto": "auto", "raw": "modem"}.get(fmt)
        elif args.init:
            init = "modem"
        from app.callerid import settings_keys as sk

        return sources.SerialSource(args.port, args.baud or sources.DEFAULT_BAUD, fmt=fmt, init=init,
                                    init_commands=sk.init_commands()), fmt
    src = configured.source_from_settings()
    if args.baud and isinstance(src, sources.SerialSource):
        src.baud = args.baud
    if args.init is False and isinstance(src, sources.SerialSource):
        src.init = None
    return src, fmt or src.default_format


def cmd_monitor(args) -> int:
    from app.callerid import sources

    source, fmt = _monitor_source(args)
    try:
        from app.callerid.decoders import decoder_for

        decoder_for(fmt)
    except ValueError:
        raise UserError(f"قالب «{fmt}» شناخته نیست؛ یکی از این‌ها: auto، modem، raw، ncid، segal، yasna، techno، "
                        f"ami، smdr.") \
            from None
    if args.show_bytes:
        _trace_reads(source)

    def on_state(state: str, text: str) -> None:
        print(f"[{state}] {text}", file=sys.stderr, flush=True)

    stop = threading.Event()
    if args.seconds:
        timer = threading.Timer(args.seconds, stop.set)
        timer.daemon = True
        timer.start()
    pump = sources.Pump(source, fmt, on_event=lambda e: _print_json(event_json(e)), on_state=on_state)
    try:
        pump.run(stop)
    except KeyboardInterrupt:
        stop.set()
        source.close()
        print("[stopped] پایش متوقف شد.", file=sys.stderr, flush=True)
    return 0


def _trace_reads(source) -> None:
    read = source.read

    def traced(timeout=0.05):
        data = read(timeout)
        if data:
            print(f"<< {data!r}", file=sys.stderr, flush=True)
        return data

    source.read = traced


# --- simulate -------------------------------------------------------------------------------------------
def _parse_ring(spec: str) -> tuple[int | None, str]:
    if ":" in spec:
        line, number = spec.split(":", 1)
        if line.strip().lstrip("Ll").isdigit():
            return int(line.strip().lstrip("Ll")), number.strip()
    return None, spec.strip()


def cmd_simulate(args) -> int:
    import os

    if args.device in ("ami", "smdr"):
        from app.callerid.pbx_simulator import cmd_simulate as pbx_simulate

        return pbx_simulate(args)

    from app.callerid.simulator import Simulator, SimulatorOptions
    from app.callerid.sources import SIMULATOR_TCP_PORT

    # Windows has no pseudo-terminals: there the simulator always serves over TCP (socket://127.0.0.1:PORT)
    tcp = args.tcp or not hasattr(os, "openpty")
    if tcp and args.link:
        raise UserError("پیوند (--link) برای ترمینال مجازی است؛ شبیه‌ساز روی شبکه با نشانی socket:// خود پیدا "
                        "می‌شود. یکی از --link یا --tcp را بدهید.")

    rings = [_parse_ring(r) for r in args.ring]
    if args.device == "modem":
        lines = 1
    else:
        lines = args.lines or max([4] + [ln or 1 for ln, _ in rings])
    opts = SimulatorOptions(
        device=args.device, chipset=args.chipset, lines=lines, raw=args.raw, cid_enabled=args.cid_on,
        cid_position="before" if args.cid_first else "between", ring_period=args.ring_period,
        max_rings=max(1, args.rings) if rings else 8, dial_result=args.dial_result, link=args.link,
        transport="tcp" if tcp else "pty", tcp_port=SIMULATOR_TCP_PORT if args.tcp_port is None else args.tcp_port,
        output=(lambda text: print(f">> {text!r}", file=sys.stderr, flush=True)) if args.trace else None)
    try:
        sim = Simulator(opts)
        sim.start()
    except ValueError as e:
        raise UserError(f"تنظیم شبیه‌ساز درست نیست: {e}") from None
    except OSError as e:
        if tcp:
            raise UserError(f"درگاه {opts.tcp_port} برای شبیه‌ساز باز نشد ({e.strerror or e})؛ شاید شبیه‌ساز "
                            f"دیگری روشن است. با --tcp-port 0 یک درگاه آزاد بگیرید.") from None
        raise UserError(f"ترمینال مجازی یا پیوند «{args.link}» ساخته نشد: {e.strerror or e}") from None

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term)
    print(sim.path, flush=True)
    where = f"{sim.path}" + (f" (پیوند {sim.link})" if sim.link else "")
    kind = {"modem": f"مودم ({args.chipset})", "segal": "دستگاه اوج سگال", "yasna": "دستگاه یاسنا",
            "techno": "دستگاه تکنو"}[args.device]
    if tcp:
        print(f"شبیه‌ساز {kind} روی {where} آماده است. در تنظیمات شناسه تماس، همین نشانی را در «درگاه» بنویسید؛ "
              f"Ctrl-C برای پایان.", file=sys.stderr, flush=True)
    else:
        print(f"شبیه‌ساز {kind} روی {where} آماده است. در برنامه همین درگاه را انتخاب کنید؛ Ctrl-C برای پایان.",
              file=sys.stderr, flush=True)
    try:
        if tcp and (rings or args.script):
            # a network device's bytes reach only a connected computer: ring once the CRM is listening
            print("در انتظار اتصال برنامه به شبیه‌ساز…", file=sys.stderr, flush=True)
            while not sim.wait_for_client(1.0):
                pass
        _ring_list(sim, rings, args)
        if args.script:
            for note in sim.run_script(args.script):
                print(note, file=sys.stderr, flush=True)
        if args.interactive or (not rings and not args.script and not args.exit_when_done):
            _interactive(sim, prompt=args.interactive)
        if not args.exit_when_done:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, old_term)
        sim.close()
    return 0


def _ring_list(sim, rings, args) -> None:
    if not rings:
        return
    n = 0
    while args.repeat <= 0 or n < args.repeat:
        n += 1
        for line, number in rings:
            sim.ring(line, number, args.name)
            print(f"زنگ: خط {line or 1}، {number}", file=sys.stderr, flush=True)
            time.sleep(max(0.0, args.ring_period * (max(1, args.rings) - 1)) + 0.5)
            st = sim.lines.get(line or 1)
            if st is not None and st.state == "ringing":
                try:
                    if args.answer and sim.protocol.multi_line:
                        sim.answer(line)
                        time.sleep(max(0.0, args.talk))
                        sim.hangup(line)
                    else:
                        sim.miss(line)
                except ValueError:          # it rang out on its own meanwhile
                    pass
            time.sleep(max(0.0, args.interval))


def _interactive(sim, prompt: bool) -> None:
    if prompt:
        print("فرمان‌ها: ring <خط> <شماره> | answer <خط> | hangup <خط> [ثانیه] | miss <خط> | dial <خط> <شماره> | "
              "status | quit", file=sys.stderr, flush=True)
    for raw in sys.stdin:
        cmd = raw.strip()
        if cmd.lower() in ("quit", "exit", "q"):
            raise KeyboardInterrupt
        try:
            note = sim.execute(cmd)
        except (ValueError, IndexError) as e:
            print(f"? {e}", file=sys.stderr, flush=True)
            continue
        if note:
            print(note, file=sys.stderr, flush=True)
