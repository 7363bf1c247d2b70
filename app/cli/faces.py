"""`python main.py faces`: opt-in recognition, headless.

    python main.py faces enrol NAME --role staff|optout PHOTO... [--consent] [--by WHO]
    python main.py faces list
    python main.py faces remove NAME
    python main.py faces erase --photo PHOTO [--dry-run]
    python main.py faces compare IMG1 IMG2

Templates are computed here and kept only in the encrypted store; nothing is printed
but names, counts and similarities. Enrolling staff needs `--consent` (the person agreed;
the consent is recorded with who recorded it). Every change is audited.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.cli.main import CliError, load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="store file (default: data dir)")
    parser.add_argument("--config", type=Path, default=None, help="settings file")
    sub = parser.add_subparsers(dest="action", required=True)
    e = sub.add_parser("enrol", help="enrol a staff member or an opt-out from photos")
    e.add_argument("name")
    e.add_argument("--role", choices=("staff", "optout"), required=True)
    e.add_argument("photos", nargs="+", type=Path, help="photos of that person (several: better)")
    e.add_argument("--consent", action="store_true", help="staff: the person gave consent")
    e.add_argument("--by", default="", help="who records this (default: your user name)")
    sub.add_parser("list", help="enrolled staff and opt-outs (names only)")
    r = sub.add_parser("remove", help="remove a staff member or an opt-out by name")
    r.add_argument("name")
    r.add_argument("--by", default="")
    x = sub.add_parser("erase", help="delete every template and picture of a person, by photo")
    x.add_argument("--photo", type=Path, required=True)
    x.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    x.add_argument("--by", default="")
    c = sub.add_parser("compare", help="similarity of the faces of two photos")
    c.add_argument("img1", type=Path)
    c.add_argument("img2", type=Path)


def _open(args: argparse.Namespace) -> Any:
    from app.cli.store import with_passphrase
    from app.store.db import open_store

    create = args.action == "enrol"  # enrolling may come before the first `serve`
    return with_passphrase(lambda pw: open_store(args.db, pw, create=create))


def _actor(args: argparse.Namespace) -> str:
    by = getattr(args, "by", "") or ""
    if by:
        return str(by)
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (some containers)
        return "cli"


def _photos_exist(paths: list[Path]) -> None:
    for p in paths:
        if not p.is_file():
            raise CliError(f"{p}: no such file")


def run(args: argparse.Namespace) -> int:
    from app.recognition import RecognitionError
    from app.vision.models import ModelError

    try:
        return _run(args)
    except RecognitionError as exc:
        raise CliError(str(exc)) from None
    except ModelError as exc:
        raise CliError(f"the face models are missing: {exc}") from None


def _run(args: argparse.Namespace) -> int:
    from app.recognition import PhotoFaces

    if args.action == "compare":
        _photos_exist([args.img1, args.img2])
        cfg = load_settings(args.config)
        sim = PhotoFaces.open(cfg).similarity(args.img1, args.img2)
        same = "same person" if sim >= cfg.faces.threshold else "different people"
        print(f"similarity {sim:.3f}: {same} (threshold {cfg.faces.threshold})")
        return 0
    store = _open(args)
    try:
        cfg = load_settings(args.config, store)
        return _with_store(args, cfg, store)
    finally:
        store.close()


def _with_store(args: argparse.Namespace, cfg: Any, store: Any) -> int:
    from app.recognition import enrol, erase_by_photo, face_store

    if args.action == "list":
        people = face_store(cfg, store).people()
        if not people:
            print("nobody enrolled")
        for p in people:
            since = datetime.fromtimestamp(p.since).strftime("%Y-%m-%d")
            consent = (
                f", consent {datetime.fromtimestamp(p.consent_at):%Y-%m-%d %H:%M}"
                if p.consent_at
                else ""
            )
            print(f"{p.name}  [{p.role}]  since {since}{consent}")
        print(f"mode: {cfg.store.privacy_mode.replace('_', ' ')}")
        return 0
    if args.action == "remove":
        n = face_store(cfg, store).remove(args.name, _actor(args))
        if not n:
            raise CliError(f"nobody called {args.name!r} is enrolled")
        print(f"removed {args.name} (template deleted)")
        return 0
    if args.action == "enrol":
        _photos_exist(args.photos)
        kept = enrol(cfg, store, args.name, args.role, args.photos, _actor(args),
                     consent=args.consent)  # fmt: skip
        dropped = [str(p) for i, p in enumerate(args.photos) if i not in kept]
        note = (
            f"; left out (not the same face as the others): {', '.join(dropped)}" if dropped else ""
        )
        print(f"enrolled {args.name} as {args.role} from {len(kept)} photo(s){note}")
        if cfg.store.privacy_mode == "anonymous":
            print("note: the store counts anonymously: nobody is recognised until a "
                  "recognition mode is chosen in Settings")  # fmt: skip
        return 0
    # erase
    _photos_exist([args.photo])
    rep = erase_by_photo(cfg, store, args.photo, _actor(args), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    staff = f"staff enrolment of {', '.join(rep.staff)}, " if rep.staff else ""
    print(f"{verb}: {staff}{rep.visitor_templates} visitor template(s), {rep.crops} picture(s)")
    if rep.optouts_kept:
        print("kept: the opt-out entry (it keeps this person from being recognised)")
    if not args.dry_run:
        print(
            "the erasure is in the audit log" if rep.total else "nothing of this person was found"
        )
    return 0
