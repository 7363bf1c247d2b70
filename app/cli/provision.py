"""`python main.py provision FILE`: enrol this store with HQ from the provisioning file HQ
made for it (app.sync.provisioning): the store's id and name, sync on, the HQ address,
and the store key into the secret vault. One line on success or on any problem."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.main import CliError, load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the provisioning file HQ gave for this store")
    parser.add_argument("--db", type=Path, default=None, help="store file (default: data dir)")


def run(args: argparse.Namespace) -> int:
    from app.cli.store import with_passphrase
    from app.store.db import default_path, open_store
    from app.sync.provisioning import ProvisioningError, provision_and_save, read_file

    try:  # a bad file is refused before the store is even opened
        read_file(args.file, allow_insecure_http=True)
    except ProvisioningError as exc:
        raise CliError(str(exc)) from None
    path = args.db or default_path()
    store = with_passphrase(lambda pp: open_store(path, pp))
    try:
        cfg = load_settings(None, store)
        try:
            done = provision_and_save(args.file, store, cfg, "provision command")
        except ProvisioningError as exc:
            raise CliError(str(exc)) from None
    finally:
        store.close()
    print(done.message)
    return 0
