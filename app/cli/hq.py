"""`python main.py hq`: the reference HQ receiver and its store provisioning.

    hq --database-url postgresql://... [--host H] [--port N]    serve (migrates first)
    hq add-store --database-url ... --store-id ID --name NAME   prints the store key once
    hq rotate-key --database-url ... --store-id ID              a new key; the old one dies
    hq list-stores --database-url ...
    hq migrate --database-url ...                               only upgrade the schema
    hq users add NAME --role admin|analyst|regional [--region R]  a dashboard user
    hq users list | disable NAME | enable NAME | passwd NAME      (password: prompt, or
                                                   $VITRINE_HQ_PASSWORD for scripts)

The database URL may also come from VITRINE_HQ_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
from typing import TYPE_CHECKING

from app.cli.main import CliError

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

DEFAULT_PORT = 8480
URL_ENV = "VITRINE_HQ_DATABASE_URL"
TOKEN_ENV = "VITRINE_HQ_ANALYST_TOKEN"


def _db_arg(p: argparse.ArgumentParser, sub: bool) -> None:
    p.add_argument(
        "--database-url",
        default=argparse.SUPPRESS if sub else None,
        help=f"PostgreSQL URL, e.g. postgresql://user:pw@host:5432/hq (or ${URL_ENV})",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the reference HQ receiver (no SUBCOMMAND: serve), or manage its stores."
    )
    _db_arg(parser, sub=False)
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (0.0.0.0)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port ({DEFAULT_PORT})")
    parser.add_argument(
        "--analyst-token",
        default=None,
        help=f"bearer token required by the query API (or ${TOKEN_ENV}); unset: open",
    )
    sub = parser.add_subparsers(dest="hq_command", metavar="SUBCOMMAND")
    p = sub.add_parser("add-store", help="register a store and print its key (once)")
    _db_arg(p, sub=True)
    p.add_argument("--store-id", required=True, help="the store's id (its config store.id)")
    p.add_argument("--name", required=True, help="the store's name, for HQ's lists")
    p.add_argument("--timezone", default="UTC", help="IANA time zone (the store updates it)")
    p = sub.add_parser("rotate-key", help="issue a new key for a store")
    _db_arg(p, sub=True)
    p.add_argument("--store-id", required=True)
    p = sub.add_parser("list-stores", help="stores and when they last sent")
    _db_arg(p, sub=True)
    p = sub.add_parser("migrate", help="upgrade the HQ schema and exit")
    _db_arg(p, sub=True)
    _add_user_arguments(sub)


def _add_user_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("users", help="the dashboard's users (admin, analyst, regional)")
    _db_arg(p, sub=True)
    usub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    a = usub.add_parser("add", help="add a user (asks for the password)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=("admin", "analyst", "regional"))
    a.add_argument("--region", default=None, help="the region of a regional manager")
    _db_arg(a, sub=True)
    _db_arg(usub.add_parser("list", help="list the users"), sub=True)
    for name, text in (("disable", "refuse this user's logins"), ("enable", "allow again"),
                       ("passwd", "set a new password")):  # fmt: skip
        u = usub.add_parser(name, help=text)
        u.add_argument("username")
        _db_arg(u, sub=True)


def _engine(args: argparse.Namespace) -> Engine:
    from app.hq import db

    url = getattr(args, "database_url", None) or os.environ.get(URL_ENV)
    if not url:
        raise CliError(f"give --database-url postgresql://... (or set {URL_ENV})")
    try:
        engine = db.make_engine(url)
        db.check(engine)
        db.migrate(engine)
    except db.HqDatabaseError as exc:
        raise CliError(str(exc)) from None
    return engine


def _bind(host: str, port: int) -> socket.socket:
    if not 0 < port < 65536:
        raise CliError(f"--port {port} is not a TCP port (1-65535)")
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(info[4])
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.hq.app import create_app

    sock = _bind(args.host, args.port)
    engine = _engine(args)
    token = args.analyst_token or os.environ.get(TOKEN_ENV) or None
    if not token and args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the query API is open to anyone who can reach this port: set %s", TOKEN_ENV)
    app = create_app(engine, analyst_token=token)
    where = engine.url.render_as_string(hide_password=True)
    print(f"HQ receiver on http://{args.host}:{args.port} (database {where})", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        engine.dispose()
    return 0


def run(args: argparse.Namespace) -> int:
    from app.hq import auth

    cmd = args.hq_command
    if cmd is None:
        return _serve(args)
    if cmd == "users":
        return _users(args)
    engine = _engine(args)
    try:
        if cmd == "migrate":
            print("HQ schema is up to date")
        elif cmd == "add-store":
            key = auth.add_store(engine, args.store_id, args.name, args.timezone)
            print(f"store {args.store_id} added. Its key, shown only now (the store's config:")
            print("[sync] store_key):")
            print(key)
        elif cmd == "rotate-key":
            key = auth.rotate_key(engine, args.store_id)
            print(f"new key for store {args.store_id} (the old key no longer works):")
            print(key)
        elif cmd == "list-stores":
            for s in auth.list_stores(engine):
                last = s.last_batch_at.isoformat(timespec="seconds") if s.last_batch_at else "never"
                flag = " (disabled)" if s.disabled else ""
                print(f"{s.store_id}\t{s.name}\t{s.timezone}\tlast batch: {last}{flag}")
    except auth.ProvisioningError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()
    return 0


PASSWORD_ENV = "VITRINE_HQ_PASSWORD"


def _password() -> str:
    import getpass

    pw = os.environ.get(PASSWORD_ENV)
    if pw:
        return pw
    try:
        first = getpass.getpass("Password (10+ characters): ")
        again = getpass.getpass("Again: ")
    except (EOFError, KeyboardInterrupt):
        raise CliError(f"no password given (type it, or set {PASSWORD_ENV})") from None
    if first != again:
        raise CliError("the two passwords differ")
    return first


def _users(args: argparse.Namespace) -> int:
    from app.hq import users

    engine = _engine(args)
    try:
        act = args.users_command
        if act == "add":
            u = users.add_user(engine, args.username, _password(), args.role, args.region)
            where = f" of region {u.region}" if u.region else ""
            print(f"user {u.username} added ({u.role}{where})")
        elif act == "list":
            for u in users.list_users(engine):
                flag = " (disabled)" if u.disabled else ""
                print(f"{u.username}\t{u.role}\t{u.region or '-'}{flag}")
        elif act in ("disable", "enable"):
            users.set_disabled(engine, args.username, act == "disable")
            print(f"user {args.username} {act}d")
        elif act == "passwd":
            users.set_password(engine, args.username, _password())
            print(f"password of {args.username} changed; their sessions were closed")
    except users.UserError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()
    return 0
