"""Silent provisioning: the provisioning file an installer put in a known place is used
once, at the first start of `serve` or the desktop app, with no question asked.

Where the file is looked for, first found wins:
  VITRINE_PROVISION_FILE                         (any platform; the tests, a remote tool)
  <data dir>/provision.json                      (copied there by the user or a script)
  /etc/vitrine/provision.json                    (Linux: dpkg -i with VITRINE_PROVISION=...)
  /Library/Application Support/Vitrine/provision.json   (macOS: the .pkg's postinstall)
  %ProgramData%\\Vitrine\\provision.json          (Windows: msiexec /qn PROVISION=...)

The token inside is one-time: after an enrolment (or a refusal HQ gave for this very
file) a marker `provisioned.json` in the data directory records the file's SHA-256, so
the same file is never sent twice; a new file (another digest) is tried again."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.config import AppConfig
from app.paths import data_dir
from app.store.fileperms import write_private
from app.sync.provisioning import ProvisioningError, provision_and_save

log = logging.getLogger(__name__)

ENV_FILE = "VITRINE_PROVISION_FILE"
MARKER = "provisioned.json"


def system_locations() -> list[Path]:
    """The platform's machine-wide place for the file (where the installers put it)."""
    if sys.platform == "darwin":
        return [Path("/Library/Application Support/Vitrine/provision.json")]
    if sys.platform.startswith("win"):
        base = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        return [Path(base) / "Vitrine" / "provision.json"]
    return [Path("/etc/vitrine/provision.json")]


def find_file() -> Path | None:
    env = os.environ.get(ENV_FILE)
    if env:
        return Path(env)
    for p in [data_dir() / "provision.json", *system_locations()]:
        if p.is_file():
            return p
    return None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _marker() -> dict[str, Any]:
    try:
        data = json.loads((data_dir() / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def already_used(path: Path) -> bool:
    try:
        return _marker().get("sha256") == _digest(path)
    except OSError:
        return False


def _mark(path: Path, outcome: str, store_id: str) -> None:
    body = {"sha256": _digest(path), "file": str(path), "outcome": outcome,
            "store_id": store_id, "at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    write_private(data_dir() / MARKER, json.dumps(body, indent=2).encode())


@dataclass(frozen=True)
class AutoResult:
    cfg: AppConfig | None  # the enrolled settings (saved already), None when not enrolled
    message: str
    ok: bool


def auto_provision(store: Any, cfg: AppConfig) -> AutoResult | None:
    """Enrol with the provisioning file found in a known place, once; None when there is
    no file or it was used already. Never raises for the file's or HQ's problems: the
    result's message says what happened (the app goes on without sync)."""
    path = find_file()
    if path is None or not path.is_file() or already_used(path):
        return None
    try:
        done = provision_and_save(path, store, cfg, "provisioning file at first start")
    except ProvisioningError as exc:
        msg = str(exc)
        if "refused the enrolment" in msg or "expired" in msg or "already holds data" in msg:
            _mark(path, f"refused: {msg}", cfg.store.id)  # this file will never work
        return AutoResult(None, f"provisioning file {path}: {msg}", False)
    _mark(path, "enrolled", done.cfg.store.id)
    return AutoResult(done.cfg, f"provisioning file {path}: {done.message}", True)
