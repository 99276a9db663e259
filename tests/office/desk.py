"""One desk of the office, in its own process, for the multi-desk tests and the bench.

    python -m tests.office.desk URL --user 2 --watch 2          # the real LiveOffice (Qt offscreen)
    python -m tests.office.desk URL --bare                      # only the event bus: every event, raw
    python -m tests.office.desk URL --user 2 --sign-in          # user 2 signed in (their role limits the popup)

Prints one JSON object per line: {"ready": ...} once it listens, then what this desk shows: {"popup": ...},
{"notice": ...}, {"refresh": key, ...},
{"taken": key, "text": ...} (a colleague answered the call), {"closed": key}; with --bare {"event": channel, "payload": ..., "recv": time}.
Ends when its standard input closes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def say(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--user", type=int, default=0)
    p.add_argument("--watch", default="all")
    p.add_argument("--bare", action="store_true")
    p.add_argument("--sign-in", action="store_true", help="--user is signed in here, with their role")
    p.add_argument("--other-extensions", action="store_true")
    args = p.parse_args()
    from app import settings
    from app.office import events
    from app.office import live as rules
    from models.connection import open_database

    open_database(args.url, migrate=False)
    settings.set(rules.WATCH_LINES, args.watch)            # this desk's own settings file (CRM_DATA_DIR)
    settings.set(rules.WATCH_OTHER_EXTENSIONS, args.other_extensions)
    if args.sign_in and args.user:
        from app.office import session
        from models.core import User

        u = User.get_by_id(args.user)
        session.set_interactive(True)
        session.set_principal(session.Principal(u.id, u.name, u.role))
    if args.bare:
        done = threading.Event()
        events.subscribe("*", lambda ev: say({"event": ev.channel, "payload": ev.payload, "desk": ev.desk,
                                              "sent": ev.sent_at, "recv": time.time()}))
        events.start()
        say({"ready": True, "desk": events.DESK_ID})
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
        done.wait()
        events.stop()
        return 0

    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication

    from ui.context import AppContext
    from ui.office.live import install

    app = QApplication([sys.argv[0]])
    ctx = AppContext(user_id=args.user or None)
    live = install(ctx)
    assert live is not None
    live.call_shown.connect(lambda v: say({"popup": v.key, "line": v.line, "number": v.number,
                                           "customer_id": v.customer_id, "recv": time.time(),
                                           "name": live.stack.popup_for(v.key).name_label.text()}))
    live.stack.taken.connect(lambda key, text: say({"taken": key, "text": text, "recv": time.time()}))
    live.stack.closed.connect(lambda key: say({"closed": key, "recv": time.time()}))
    live.notice_shown.connect(lambda n: say({"notice": n.task_id, "title": n.title_label.text(),
                                             "body": n.body_label.text(), "recv": time.time()}))

    def refreshed(key: str) -> None:
        out = {"refresh": key, "recv": time.time()}
        if key == "settings":
            out["office.name"] = settings.get("office.name")
        say(out)

    live.refreshed.connect(refreshed)

    class Quit(QObject):
        now = Signal()

    q = Quit()
    q.now.connect(app.quit)
    threading.Thread(target=lambda: (sys.stdin.read(), q.now.emit()), daemon=True).start()
    say({"ready": True, "desk": events.DESK_ID, "office.name": settings.get("office.name")})
    app.exec()
    live.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
