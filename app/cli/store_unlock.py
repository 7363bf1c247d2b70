"""`python main.py store unlock --auto on|off` and `store recovery-key`: unattended start.

store unlock --auto on    the store opens by itself on this computer (after a power cut
                          `serve` starts with no one at the keyboard); a recovery key
                          is printed once the first time
store unlock --auto off   the passphrase is asked at every start again
store unlock              says whether automatic unlock is on
store recovery-key        prints a new recovery key (the previous one stops working)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.cli.main import CliError

Asker = Callable[[Callable[[str | None], Any]], Any]
RECOVERY_NOTE = (
    "Write it down and keep it away from this computer: it opens the store wherever the "
    "passphrase is asked (a new computer, a forgotten passphrase). It is shown only now."
)


def add_subcommands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    un = sub.add_parser("unlock", help="unlock the store automatically on this computer, or not")
    un.add_argument(
        "--auto", choices=["on", "off"], help="on: no passphrase at start on this computer"
    )
    rk = sub.add_parser("recovery-key", help="print a new recovery key (the old one stops working)")
    rk.add_argument("--yes", action="store_true", help="do not ask before replacing the old key")


def _path(args: argparse.Namespace) -> Path:
    from app.store.db import default_path

    path: Path = args.db or default_path()
    if not path.exists():
        raise CliError(f"no store at {path}")
    return path


def print_recovery(recovery: str) -> None:
    print(f"recovery key: {recovery}")
    print(RECOVERY_NOTE)


def unlock(args: argparse.Namespace, with_passphrase: Asker) -> int:
    """`with_passphrase(fn)` runs fn(None), then fn(passphrase typed) when one is needed."""
    from app.store import unattended

    path = _path(args)
    if args.auto is None:
        print(f"automatic unlock: {unattended.auto_unlock_state(path)}")
        return 0
    if args.auto == "off":
        was = unattended.disable_auto_unlock(path)
        print("automatic unlock is off" + ("" if was else " (it was not on)"))
        return 0
    recovery = with_passphrase(lambda pp: unattended.enable_auto_unlock(path, pp))
    print(f"automatic unlock is on: {path.name} opens by itself on this computer only")
    if recovery:
        print_recovery(recovery)
    return 0


def recovery_key(args: argparse.Namespace, with_passphrase: Asker) -> int:
    from app.store import unattended

    path = _path(args)
    if not args.yes:
        question = "A new recovery key replaces the one written down: the old one stops working."
        if not sys.stdin.isatty():
            raise CliError(f"{question} Run it again with --yes to go ahead.")
        print(question)
        if input("Make a new recovery key? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing changed")
            return 1
    print_recovery(with_passphrase(lambda pp: unattended.new_recovery_key(path, pp)))
    return 0
