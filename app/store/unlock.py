"""Unattended start: the store key wrapped for this computer, and the recovery key.

Auto-unlock file (`vitrine.db.autounlock`, JSON, mode 0600, owner only): a random 256-bit
secret and the store key encrypted (AES-256-GCM) under HMAC-SHA256(secret, machine id).
Reading the file is not enough: the key also needs this computer's id (/etc/machine-id
on Linux, IOPlatformUUID on macOS, MachineGuid on Windows), so a copy of the data
directory on another computer does not open; it asks for the passphrase instead.

Recovery key (`VTRN-XXXX-...`, 160 random bits, shown once): the store key encrypted under
it is kept in the store's key header, so it opens the store wherever a passphrase is
asked, and lets automatic unlock be set up again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.store.errors import NeedPassphrase, StoreError
from app.store.fileperms import POSIX, write_private

AUTO_SUFFIX = ".autounlock"
_AUTO_AAD = b"vitrine-auto-unlock-v1"
_RECOVERY_AAD = b"vitrine-recovery-v1"
RECOVERY_PREFIX = "VTRN"
_RECOVERY_BYTES = 20  # 160 bits: 32 base32 characters
_LINUX_IDS = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


class MachineChanged(NeedPassphrase):
    """The auto-unlock file was made on another computer (or this one's id changed)."""


def auto_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + AUTO_SUFFIX)


def machine_id() -> str:
    """A stable id of this computer (not secret, but not in the data directory)."""
    found = ""
    if sys.platform.startswith("linux"):
        for p in _LINUX_IDS:
            try:
                found = p.read_text(encoding="ascii").strip()
            except OSError:
                continue
            if found:
                break
    elif sys.platform == "darwin":
        out = _run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"])
        found = next((ln.split('"')[-2] for ln in out.splitlines() if "IOPlatformUUID" in ln), "")
    elif sys.platform.startswith("win"):
        found = _windows_machine_guid()
    if not found:
        raise StoreError("this computer has no machine id: automatic unlock is not available")
    return found


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _windows_machine_guid() -> str:
    try:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        with winreg.OpenKey(  # type: ignore[attr-defined,unused-ignore]
            winreg.HKEY_LOCAL_MACHINE,  # type: ignore[attr-defined,unused-ignore]
            r"SOFTWARE\Microsoft\Cryptography",
        ) as k:
            return str(winreg.QueryValueEx(k, "MachineGuid")[0])  # type: ignore[attr-defined,unused-ignore]
    except OSError:
        return ""


def _machine_kek(secret: bytes) -> bytes:
    return hmac.new(secret, _AUTO_AAD + b"|" + machine_id().encode(), hashlib.sha256).digest()


def write_auto(db_path: Path, key: bytes) -> Path:
    """Write (or replace) the auto-unlock file of the store at `db_path`."""
    secret, nonce = secrets.token_bytes(32), secrets.token_bytes(12)
    wrapped = AESGCM(_machine_kek(secret)).encrypt(nonce, key, _AUTO_AAD)
    record = {"version": 1, "secret": secret.hex(), "nonce": nonce.hex(), "key": wrapped.hex()}
    path = auto_path(db_path)
    write_private(path, json.dumps(record, indent=1).encode())
    return path


def remove_auto(db_path: Path) -> bool:
    """Turn automatic unlock off; True if it was on."""
    path = auto_path(db_path)
    if not path.exists():
        return False
    size = path.stat().st_size
    with open(path, "r+b") as fh:  # overwrite the wrapped key before unlinking
        fh.write(b"\0" * size)
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()
    return True


def read_auto(db_path: Path) -> bytes | None:
    """The store key from the auto-unlock file (None without one); MachineChanged when the
    file belongs to another computer, StoreError when it is exposed or damaged."""
    path = auto_path(db_path)
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"the automatic unlock file {path} cannot be read ({exc})") from None
    if POSIX and mode & 0o077:
        raise StoreError(
            f"the automatic unlock file {path} can be read by other users (mode {mode:o}): "
            f"run 'chmod 600 {path}', or turn automatic unlock off and on again"
        )
    try:
        rec = json.loads(raw)
        secret, nonce = bytes.fromhex(rec["secret"]), bytes.fromhex(rec["nonce"])
        wrapped = bytes.fromhex(rec["key"])
    except (ValueError, KeyError, TypeError):
        raise StoreError(
            f"the automatic unlock file {path} is damaged: delete it, enter the passphrase "
            "and turn automatic unlock on again"
        ) from None
    try:
        return AESGCM(_machine_kek(secret)).decrypt(nonce, wrapped, _AUTO_AAD)
    except InvalidTag:
        raise MachineChanged(
            "automatic unlock was set up on another computer (or this computer's id "
            "changed): enter the store's passphrase or recovery key once, then turn "
            "automatic unlock on again ('python main.py store unlock --auto on')"
        ) from None


def new_recovery_key() -> str:
    """VTRN-XXXX-XXXX-... (32 base32 characters in groups of four)."""
    text = base64.b32encode(secrets.token_bytes(_RECOVERY_BYTES)).decode()
    return "-".join([RECOVERY_PREFIX, *(text[i : i + 4] for i in range(0, len(text), 4))])


def _normalized(recovery: str) -> str:
    text = "".join(recovery.upper().split()).replace("-", "")
    return text.removeprefix(RECOVERY_PREFIX)


def looks_like_recovery_key(text: str) -> bool:
    body = _normalized(text)
    if len(body) != _RECOVERY_BYTES * 8 // 5 or not text.strip().upper().startswith("VTRN"):
        return False
    try:
        base64.b32decode(body)
    except ValueError:
        return False
    return True


def _recovery_kek(recovery: str, salt: bytes) -> bytes:
    return hmac.new(salt, base64.b32decode(_normalized(recovery)), hashlib.sha256).digest()


def recovery_record(key: bytes, recovery: str) -> dict[str, Any]:
    """What the key header keeps: the store key encrypted under the recovery key."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    wrapped = AESGCM(_recovery_kek(recovery, salt)).encrypt(nonce, key, _RECOVERY_AAD)
    return {"salt": salt.hex(), "nonce": nonce.hex(), "key": wrapped.hex()}


def unwrap_recovery(record: dict[str, Any], recovery: str) -> bytes | None:
    """The store key, or None when this recovery key is not the right one."""
    try:
        kek = _recovery_kek(recovery, bytes.fromhex(record["salt"]))
        return AESGCM(kek).decrypt(
            bytes.fromhex(record["nonce"]), bytes.fromhex(record["key"]), _RECOVERY_AAD
        )
    except (InvalidTag, ValueError, KeyError, TypeError):
        return None
