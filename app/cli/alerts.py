"""`python main.py alerts`: the store's alerts, headless.

    python main.py alerts [--all] [--json]        open alerts (--all: recent ones too)
    python main.py alerts ack ID [ID ...] | --all  acknowledge (as "cli" or --by NAME)

Reads the local store (it can run while `serve` runs); acknowledging goes through the
store's single writer and is sent to HQ like every change of an alert.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from app.alerts import AlertRecord
from app.cli.main import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="store file (default: data dir)")
    parser.add_argument("--all", action="store_true", help="also resolved alerts (latest 200)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    sub = parser.add_subparsers(dest="action")
    ack = sub.add_parser("ack", help="acknowledge alerts by id (or --all open ones)")
    ack.add_argument("ids", nargs="*", help="alert ids (the first 8 characters are enough)")
    ack.add_argument("--all", dest="ack_all", action="store_true", help="every open alert")
    ack.add_argument("--by", default="cli", help="who acknowledges (default: cli)")


def as_json(a: AlertRecord) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind,
        "subject": a.subject,
        "camera": a.camera,
        "zone": a.zone,
        "message": a.message,
        "state": "open" if a.is_open else "resolved",
        "opened_at": a.opened_at,
        "last_seen": a.last_seen,
        "count": a.count,
        "resolved_at": a.resolved_at,
        "acknowledged_at": a.acknowledged_at,
        "acknowledged_by": a.acknowledged_by,
    }


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _line(a: AlertRecord) -> str:
    state = "open" if a.is_open else f"resolved {_when(a.resolved_at)}"
    ack = f", acknowledged by {a.acknowledged_by}" if a.acknowledged_at is not None else ""
    again = f" ({a.count} times)" if a.count > 1 else ""
    return f"{a.id[:8]}  {_when(a.opened_at)}  {a.kind:<17} {a.message}{again}  [{state}{ack}]"


def _open(args: argparse.Namespace) -> Any:
    from app.cli.store import with_passphrase
    from app.store.db import open_store

    return with_passphrase(lambda pw: open_store(args.db, pw, create=False))


def _list(args: argparse.Namespace) -> int:
    from app.store.alert_log import list_alerts

    store = _open(args)
    try:
        with store.read_session() as s:
            found = list_alerts(s, include_resolved=args.all)
    finally:
        store.close()
    if args.json:
        json.dump({"alerts": [as_json(a) for a in found]}, sys.stdout, indent=2)
        print()
        return 0
    if not found:
        print("no open alerts" if not args.all else "no alerts")
        return 0
    for a in found:
        print(_line(a))
    return 0


def _ack(args: argparse.Namespace) -> int:
    from app.store.alert_log import acknowledge, list_alerts

    if bool(args.ids) == bool(args.ack_all):
        raise CliError("give the alert ids to acknowledge, or --all (not both)")
    store = _open(args)
    try:
        ids: list[str] | None = None
        if args.ids:
            with store.read_session() as s:
                known = [a.id for a in list_alerts(s)]
            ids = []
            for want in args.ids:
                match = [k for k in known if k.startswith(want)]
                if len(match) != 1:
                    why = "no open alert" if not match else "more than one open alert"
                    raise CliError(f"{why} has an id starting with {want!r}")
                ids += match
        done = acknowledge(store, ids, args.by, time.time()).result(60)
    finally:
        store.close()
    print(f"acknowledged {len(done.ids)} alert(s)")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "ack":
        return _ack(args)
    return _list(args)
