"""`python main.py sales ...`: the sales side without a window, for stores whose server
has no screen (`serve`) and for IT scripts: the product catalog, salespeople, paired
tablets, POS CSV imports and the three sales reports.

    sales catalog FILE [--map FIELD=COLUMN ...] [--encoding E]
    sales people [--all]
    sales add-person NAME --code C --zones Z1,Z2        (PIN asked, or one line on stdin)
    sales edit-person CODE [--name N] [--zones ...] [--new-pin] [--deactivate | --activate]
    sales pair                                           (a code from the running server)
    sales devices [--all]  |  sales revoke DEVICE_ID
    sales webhook [--rotate]                             (the POS webhook's secret)
    sales pos FILE [--map FIELD=COLUMN ...] [--encoding E] [--time-format F] [--check]
    sales report {items,categories,salespeople,zones} [--from D] [--to D] [--zone Z]
                 [--salesperson CODE] [--csv OUT]

Imports show a progress bar, list every invalid row with its line number, and write
all valid rows in one transaction (a refused file writes nothing). Settings (time zone,
zones, link window) come from config.toml in the data directory or `--config`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from app.cli.main import load_settings, parse_day
from app.config import AppConfig
from app.errors import CliError
from app.paths import data_dir
from app.words import plural

P = TypeVar("P")
REPORTS = ("items", "categories", "salespeople", "zones", "services")
MAX_ERRORS_SHOWN = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="store file (default: data dir)")
    parser.add_argument(
        "--config", type=Path, help="settings file (default: config.toml in the data directory)"
    )
    sub = parser.add_subparsers(dest="action", required=True)
    cat = sub.add_parser("catalog", help="import the product catalogue from a CSV file")
    _import_args(cat, "barcode, name, category, price")
    people = sub.add_parser("people", help="list the salespeople")
    people.add_argument("--all", action="store_true", help="include deactivated ones")
    add = sub.add_parser("add-person", help="add a salesperson (the PIN is asked)")
    add.add_argument("name")
    add.add_argument("--code", required=True, help="employee code (as the POS knows them)")
    add.add_argument("--zones", default="", help="zones they serve, comma-separated")
    edit = sub.add_parser("edit-person", help="change a salesperson, by employee code")
    edit.add_argument("code")
    edit.add_argument("--name")
    edit.add_argument("--zones", help="zones they serve, comma-separated (replaces)")
    edit.add_argument("--new-pin", action="store_true", help="set a new PIN (asked)")
    state = edit.add_mutually_exclusive_group()
    state.add_argument(
        "--deactivate", action="store_true", help="deactivate (revokes their tablets)"
    )
    state.add_argument("--activate", action="store_true")
    sub.add_parser(
        "pair", help="a new pairing code and QR code from the server running on this machine"
    )
    dev = sub.add_parser("devices", help="list the paired tablets")
    dev.add_argument("--all", action="store_true", help="include revoked ones")
    rev = sub.add_parser("revoke", help="revoke a paired tablet (by the id `devices` shows)")
    rev.add_argument("device_id")
    pos = sub.add_parser("pos", help="import POS purchases from a CSV file")
    _import_args(
        pos,
        "transaction_id, time, time_of_day (when the time has a column of its own beside "
        "the date), barcode, amount, salesperson_code",
    )
    pos.add_argument(
        "--time-format",
        help="strptime format of the time column (default: ISO 8601, or day/month/year or "
        "month/day/year as the file's dates show)",
    )
    pos.add_argument("--check", action="store_true", help="only check the rows; import nothing")
    hook = sub.add_parser("webhook", help="the POS webhook's address and signing secret")
    hook.add_argument("--rotate", action="store_true", help="make a new secret (the old one stops)")
    rep = sub.add_parser("report", help="a sales report, printed or written as CSV")
    rep.add_argument("kind", choices=REPORTS)
    rep.add_argument(
        "--from", dest="date_from", help="first day, YYYY-MM-DD (default: 30 days ago)"
    )
    rep.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default: today)")
    rep.add_argument("--zone", help="only this zone")
    rep.add_argument("--salesperson", help="only this employee code")
    rep.add_argument("--csv", type=Path, help="write the report to this CSV file")


def _import_args(p: argparse.ArgumentParser, names: str) -> None:
    p.add_argument("file", type=Path)
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=f"which column holds a field ({names}); unmapped fields are guessed from the header",
    )
    p.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


# --- plumbing -----------------------------------------------------------------------------


def _mapping(
    pairs: list[str], header: list[str], guess: dict[str, str], known: Sequence[str]
) -> dict[str, str]:
    out = dict(guess)
    for pair in pairs:
        fld, sep, col = pair.partition("=")
        if not sep or fld not in known:
            raise CliError(
                f"--map wants FIELD=COLUMN with FIELD one of {', '.join(known)}: {pair!r}"
            )
        if col and col not in header:
            raise CliError(f"the file has no column {col!r}; its columns are: {', '.join(header)}")
        out[fld] = col
    return {k: v for k, v in out.items() if v}


def _progress(items: Iterator[P], quiet: bool, what: str) -> Iterator[P]:
    """tqdm over an importer's progress items (phase, done, total)."""
    if quiet:
        yield from items
        return
    from tqdm import tqdm

    bar = tqdm(total=0, desc=what, unit="row", file=sys.stderr, leave=False, disable=None)
    try:
        for item in items:
            total, done = getattr(item, "total", 0), getattr(item, "done", 0)
            if total and bar.total != total:
                bar.reset(total=total)
            bar.set_description(f"{what}: {getattr(item, 'phase', '')}")
            bar.n = done
            bar.refresh()
            yield item
    finally:
        bar.close()


def _n(count: int, word: str) -> str:
    return plural(count, word)


def _print_errors(errors: Sequence[Any]) -> None:
    for e in errors[:MAX_ERRORS_SHOWN]:
        print(f"  line {e.line}: {e.reason}")
    if len(errors) > MAX_ERRORS_SHOWN:
        print(f"  … and {len(errors) - MAX_ERRORS_SHOWN} more")


def _ask_pin() -> str:
    """A PIN typed twice on a terminal, or one line on stdin (scripts)."""
    if not sys.stdin.isatty():
        pin = sys.stdin.readline().strip()
        if not pin:
            raise CliError("no PIN given: type it, or pipe it as one line on stdin")
        return pin
    pin = getpass.getpass("PIN: ")
    if getpass.getpass("PIN again: ") != pin:
        raise CliError("the two PINs differ; nothing was changed")
    return pin


def _zones(text: str, cfg: AppConfig) -> list[str]:
    zones = [z.strip() for z in text.split(",") if z.strip()]
    known = {z.name for z in cfg.zones}
    if zones and not known:
        print(
            "note: no zones are configured yet; the names given must match the zones' "
            "names once they are drawn",
            file=sys.stderr,
        )
    unknown = [z for z in zones if known and z not in known]
    if unknown:
        raise CliError(f"unknown zone {unknown[0]!r}; the zones are: {', '.join(sorted(known))}")
    return zones


def _person(store: Any, code: str) -> Any:
    from app.sync.catalog import list_salespeople

    for sp in list_salespeople(store):
        if sp.employee_code.casefold() == code.casefold():  # codes are unique in any case
            return sp
    raise CliError(f"no salesperson with employee code {code!r} (see `sales people`)")


def _when(ts: float | None, tz: ZoneInfo) -> str:
    if not ts:
        return "-"
    return dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


# --- actions ------------------------------------------------------------------------------


def _catalog(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.sync import catalog
    from app.sync.csvio import CsvRefused, read_csv

    try:
        header = read_csv(args.file, args.encoding, max_rows=1).header
        mapping = _mapping(
            args.map,
            header,
            catalog.guess_catalog_mapping(header),
            ("barcode", "name", "category", "price"),
        )
        items = catalog.import_catalog_csv(store, args.file, mapping, args.encoding)
        result = None
        for item in _progress(items, args.no_progress, "catalog"):
            result = item.result or result
    except CsvRefused as exc:
        raise CliError(f"{exc}; nothing was imported") from None
    assert result is not None
    print(
        f"{result.filename}: {_n(result.rows_total, 'row')}, {_n(result.added, 'product')} added, "
        f"{result.updated} updated, {_n(len(result.errors), 'row')} with problems"
    )
    _print_errors(result.errors)
    return 0


def _pos(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.sync import pos
    from app.sync.csvio import read_csv

    try:
        pv = pos.preview(args.file, args.encoding, n=1)
        m = _mapping(args.map, pv.header, pv.guess, pos.FIELDS)
        missing = [f for f in pos.FIELDS if f not in pos.OPTIONAL and f not in m]
        if missing:
            raise CliError(
                f"no column found for {', '.join(missing)}: add --map {missing[0]}=COLUMN "
                f"(the columns are: {', '.join(pv.header)})"
            )
        mapping = pos.PosMapping(**m)
        tz = ZoneInfo(cfg.store.timezone)
        if args.check:
            table = read_csv(args.file, args.encoding)
            rows, errors = pos.validate_rows(table, mapping, tz, args.time_format)
            order = pos.file_date_order(table, mapping, tz)
            if not args.time_format and order.order is not None:
                print(order.how)
            print(
                f"{table.path.name}: {_n(len(rows), 'valid row')}, "
                f"{_n(len(errors), 'row')} with problems (nothing imported)"
            )
            _print_errors(errors)
            return 0
        items = pos.import_pos_csv(
            store,
            args.file,
            mapping,
            tz=cfg.store.timezone,
            encoding=args.encoding,
            time_format=args.time_format,
            link_window_s=cfg.lan.link_window_min * 60.0,
        )
        result = None
        for item in _progress(items, args.no_progress, "POS import"):
            result = item.result or result
    except pos.PosImportError as exc:
        raise CliError(f"{exc}; nothing was imported") from None
    assert result is not None
    print(
        f"{result.filename}: {_n(result.rows_total, 'row')}, "
        f"{_n(result.imported, 'purchase')} imported, "
        f"{result.duplicates} already there, {result.linked} linked to a service, "
        f"{_n(len(result.errors), 'row')} with problems"
    )
    _print_errors(result.errors)
    return 0


def _people(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.sync.catalog import list_salespeople

    everyone = list_salespeople(store)
    people = [sp for sp in everyone if args.all or sp.active]
    if not everyone:
        print("no salespeople yet: add one with `sales add-person NAME --code C --zones Z`")
    elif not people:
        print(f"no active salespeople ({len(everyone)} deactivated: `sales people --all`)")
    for sp in people:
        state = "" if sp.active else "  (deactivated)"
        zones = ", ".join(sp.zones) or "no zones"
        print(f"{sp.employee_code:<12} {sp.name:<28} {zones}; {_n(sp.devices, 'tablet')}{state}")
    return 0


def _add_person(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.sync.catalog import create_salesperson

    zones = _zones(args.zones, cfg)
    try:
        create_salesperson(store, args.name, args.code, _ask_pin(), zones)
    except ValueError as exc:  # SalespersonError, PinError
        raise CliError(str(exc)) from None
    print(f"added {args.name.strip()} ({args.code.strip()}), zones: {', '.join(zones) or 'none'}")
    return 0


def _edit_person(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.sync.catalog import update_salesperson

    sp = _person(store, args.code)
    active = True if args.activate else (False if args.deactivate else None)
    try:
        update_salesperson(
            store,
            sp.id,
            name=args.name,
            zones=_zones(args.zones, cfg) if args.zones is not None else None,
            pin=_ask_pin() if args.new_pin else None,
            active=active,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"updated {args.code}" + ("; their tablets are revoked" if active is False else ""))
    return 0


def _devices(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.sync.lan.service import list_devices

    tz = ZoneInfo(cfg.store.timezone)
    devices = list_devices(store, include_revoked=args.all)
    if not devices:
        print("no paired tablets")
    for d in devices:
        revoked = f"  revoked {_when(d.revoked_at, tz)}" if d.revoked_at else ""
        print(
            f"{d.id}  {d.salesperson_name:<24} {d.label or '-':<20} paired {_when(d.created_at, tz)}"
            f", last seen {_when(d.last_seen, tz)}{revoked}"
        )
    return 0


def _revoke(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.sync.lan.service import revoke_device

    if not revoke_device(store, args.device_id):
        raise CliError(
            f"no paired tablet {args.device_id!r} that is not already revoked (see `sales devices`)"
        )
    print(f"revoked {args.device_id}: the tablet must be paired again")
    return 0


def _webhook(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.sync import pos

    secret = pos.rotate_webhook_secret(store) if args.rotate else pos.webhook_secret(store)
    scheme = "http" if cfg.lan.allow_http else "https"
    print(f"POST {scheme}://<this machine>:{cfg.lan.port}/api/v1/pos/webhook (as `serve` runs it)")
    print(f"secret {secret}" + ("  (new: update the POS)" if args.rotate else ""))
    print(
        "sign each request: X-Vitrine-Timestamp: <unix seconds>, X-Vitrine-Signature: "
        "sha256=HMAC-SHA256(secret, timestamp + '.' + body), hex"
    )
    print("body: JSON with Content-Type: application/json, at most 256 KB")
    return 0


def _pair(args: argparse.Namespace) -> int:
    """Ask the LAN server running on this machine (`serve` or the desktop app) for a
    pairing code; it lives in that server's memory, like the desktop's."""
    import httpx

    from app.cli.serve import print_pairing
    from app.sync.lan import admin

    info = admin.read_admin_file(data_dir())
    if info is None:
        raise CliError(
            "no Vitrine server is running on this machine: start `python main.py serve` "
            "(or the desktop app) first"
        )
    try:
        # loopback only, and the token is the credential: the self-signed certificate
        # names the LAN address, not 127.0.0.1
        r = httpx.post(
            f"{info.local_url}/api/v1/admin/pairing-code",
            headers={admin.ADMIN_HEADER: info.token},
            verify=False,
            timeout=10,
        )
    except httpx.HTTPError:
        raise CliError(
            f"the server at {info.local_url} does not answer: is `serve` still running?"
        ) from None
    if r.status_code != 200:
        raise CliError(f"the server refused a pairing code (HTTP {r.status_code})")
    doc = r.json()
    print_pairing(str(doc["code"]), str(doc["url"]))
    return 0


def _report(store: Any, cfg: AppConfig, args: argparse.Namespace) -> int:
    from app.store import sales_reports as sr

    tz = ZoneInfo(cfg.store.timezone)
    today = dt.datetime.now(tz).date()
    first = parse_day(args.date_from, today - dt.timedelta(days=29))
    last = parse_day(args.date_to, today)
    if last < first:
        raise CliError("--to is before --from")
    start = dt.datetime.combine(first, dt.time(), tz).timestamp()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz).timestamp()
    people = (_person(store, args.salesperson).id,) if args.salesperson else ()
    f = sr.ReportFilter(start, end, (args.zone,) if args.zone else (), people)
    t0 = time.perf_counter()
    with store.read_session() as s:
        if args.kind == "items":
            rows: list[Any] = sr.item_report(s, f)
        elif args.kind == "categories":
            rows = sr.category_report(s, f, sr.item_report(s, f))
        elif args.kind == "salespeople":
            rows = sr.salesperson_report(s, f)
        elif args.kind == "services":
            rows = sr.service_report(s, f, tz)
        else:
            rows = sr.zone_report(s, f)
    took = time.perf_counter() - t0
    kind = {
        "items": sr.ItemRow,
        "categories": sr.CategoryRow,
        "salespeople": sr.SalespersonRow,
        "zones": sr.ZoneRow,
        "services": sr.ServiceRow,
    }[args.kind]
    if args.csv:
        try:
            n = sr.export_csv(rows, args.csv, kind)
        except OSError as exc:
            raise CliError(f"cannot write {args.csv}: {exc.strerror}") from None
        print(f"{_n(n, 'row')} written to {args.csv} ({first} to {last})")
        return 0
    _table(rows, kind)
    print(f"{_n(len(rows), 'row')}, {first} to {last} ({took * 1000:.0f} ms)")
    return 0


def _table(rows: Sequence[Any], kind: type) -> None:
    """The report as the desktop shows it: no internal id, m:ss, % and "–"."""
    from app.store.sales_reports import shown_cell, shown_fields, shown_header

    names = shown_fields(kind)
    cells = [[shown_header(n) for n in names]]
    for r in rows:
        values = [shown_cell(r, n) for n in names]
        cells.append([f"{v:.2f}" if isinstance(v, float) else str(v) for v in values])
    widths = [min(32, max(len(c[i]) for c in cells)) for i in range(len(names))]
    for c in cells:
        print("  ".join(v[:32].ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())


ACTIONS = {
    "catalog": _catalog,
    "pos": _pos,
    "people": _people,
    "add-person": _add_person,
    "edit-person": _edit_person,
    "devices": _devices,
    "revoke": _revoke,
    "report": _report,
    "webhook": _webhook,
}


def run(args: argparse.Namespace) -> int:
    from app.cli.store import with_passphrase
    from app.store.db import default_path, open_store

    if args.action == "pair":  # talks to the running server, not to the store
        return _pair(args)

    path = args.db or default_path()
    store = with_passphrase(lambda pp: open_store(path, pp))
    try:
        cfg = load_settings(args.config, store)
        return ACTIONS[args.action](store, cfg, args)
    finally:
        store.close()
