"""The store's encryption key: from the OS keychain, or derived from a passphrase.

A small, non-secret header file beside the database (`vitrine.db.keyinfo`, JSON) says
how the key is obtained: `keyring` (a random 256-bit key kept in the OS keychain) or
`scrypt` (derived from a passphrase with a random salt kept in the header). The header
also holds a key check value (an HMAC of a constant under the key) so that a wrong
passphrase is recognised before the database file is touched. The key itself is never
written beside the database.

Keychains that are not secure do not count: keyring's fail/null backends and the
keyrings.alt file backends (plaintext or "encrypted" with a password typed at a prompt).
On such machines the passphrase comes from the caller or `VITRINE_STORE_PASSPHRASE`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.store import unlock
from app.store.errors import NeedPassphrase, StoreCorrupt, StoreError, WrongKey
from app.store.fileperms import narrow, write_private

log = logging.getLogger(__name__)

PASSPHRASE_ENV = "VITRINE_STORE_PASSPHRASE"
KEYRING_SERVICE = "Vitrine store"
HEADER_SUFFIX = ".keyinfo"
_CHECK_MSG = b"vitrine-store-key-check-v1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


@dataclass(frozen=True)
class KeyHeader:
    """The non-secret header beside the database."""

    version: int
    method: str  # "scrypt" | "keyring"
    check: str  # hex HMAC-SHA256(key, constant)[:32]
    salt: str = ""  # hex, scrypt only
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P
    keyring_service: str = ""
    keyring_user: str = ""
    recovery: dict[str, str] | None = None  # the key under the recovery key (unlock.py)


def header_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + HEADER_SUFFIX)


def key_check(key: bytes) -> str:
    return hmac.new(key, _CHECK_MSG, hashlib.sha256).hexdigest()[:32]


@functools.lru_cache(maxsize=8)
def derive_key(
    passphrase: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> bytes:
    """scrypt(passphrase, salt) -> 32-byte key (cached: opening a store many times is cheap)."""
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
    )


def read_header(db_path: Path) -> KeyHeader | None:
    hp = header_path(db_path)
    try:
        data = json.loads(hp.read_text(encoding="utf-8"))
        return KeyHeader(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise StoreCorrupt(
            f"the key header {hp} is damaged ({exc}); restore it from a backup"
        ) from None


def write_header(db_path: Path, header: KeyHeader) -> None:
    write_private(header_path(db_path), json.dumps(asdict(header), indent=1).encode())


def _backend_secure(kr: Any) -> bool:
    module = type(kr).__module__
    if module.startswith(_INSECURE_MODULES):
        return False
    backends = getattr(kr, "backends", None)
    if backends is not None:  # the chainer: secure if any member is
        return any(_backend_secure(b) for b in backends)
    try:
        return float(getattr(kr, "priority", 0)) > 0
    except Exception:  # some backends raise when probed on an unsupported platform
        return False


def keychain_usable() -> bool:
    """True when the OS keychain (not a plaintext file) can hold the store key."""
    try:
        import keyring

        return _backend_secure(keyring.get_keyring())
    except Exception as exc:
        log.debug("no keychain: %s", exc)
        return False


def _passphrase(explicit: str | None) -> str | None:
    if explicit is not None:
        return explicit
    return os.environ.get(PASSPHRASE_ENV) or None


def _keyring_user(db_path: Path) -> str:
    return "store-" + hashlib.sha256(str(db_path.resolve()).encode()).hexdigest()[:16]


MIN_PASSPHRASE = 8  # characters of a new store's passphrase (the desktop asks the same)


def _new_key(db_path: Path, passphrase: str | None) -> tuple[bytes, KeyHeader]:
    if passphrase:
        salt = secrets.token_bytes(16)
        n, r, p = SCRYPT_N, SCRYPT_R, SCRYPT_P  # read at call time (tests lower the cost)
        key = derive_key(passphrase, salt, n, r, p)
        return key, KeyHeader(1, "scrypt", key_check(key), salt=salt.hex(), n=n, r=r, p=p)
    if not keychain_usable():
        raise NeedPassphrase(
            "no secure keychain on this machine: give the store a passphrase "
            f"(set {PASSPHRASE_ENV} or enter it when asked)"
        )
    import keyring

    key = secrets.token_bytes(32)
    user = _keyring_user(db_path)
    try:
        keyring.set_password(KEYRING_SERVICE, user, key.hex())
    except Exception as exc:
        raise NeedPassphrase(
            f"the keychain refused the store key ({exc}); set {PASSPHRASE_ENV} instead"
        ) from None
    header = KeyHeader(
        1, "keyring", key_check(key), keyring_service=KEYRING_SERVICE, keyring_user=user
    )
    return key, header


def _unattended_key(db_path: Path, header: KeyHeader, passphrase: str | None) -> bytes | None:
    """The key from a recovery key typed as the passphrase, or from the auto-unlock file
    when no passphrase was given (None: neither applies)."""
    if passphrase and header.recovery and unlock.looks_like_recovery_key(passphrase):
        key = unlock.unwrap_recovery(header.recovery, passphrase)
        if key is None:
            raise WrongKey("this recovery key does not open this store (nothing was changed)")
        return key
    if not passphrase and header.method == "scrypt":
        return unlock.read_auto(db_path)
    return None


def _existing_key(db_path: Path, header: KeyHeader, passphrase: str | None) -> bytes:
    narrow(header_path(db_path))
    unattended = _unattended_key(db_path, header, passphrase)
    if unattended is not None:
        if not hmac.compare_digest(key_check(unattended), header.check):
            raise WrongKey(
                f"the automatic unlock file or recovery key does not belong to {db_path.name}: "
                "enter the store's passphrase"
            )
        return unattended
    if header.method == "scrypt":
        if not passphrase:
            raise NeedPassphrase(
                f"the store {db_path.name} is protected by a passphrase: set {PASSPHRASE_ENV} "
                "or enter it when asked (to start without it on this computer: "
                "'python main.py store unlock --auto on')"
            )
        key = derive_key(passphrase, bytes.fromhex(header.salt), header.n, header.r, header.p)
        what = "passphrase"
    elif header.method == "keyring":
        try:
            import keyring

            stored = keyring.get_password(header.keyring_service, header.keyring_user)
        except Exception as exc:
            raise StoreError(f"the keychain could not be read ({exc})") from None
        if not stored:
            raise WrongKey(
                "the key of this store is not in this machine's keychain: the store could not "
                "be opened (was it copied from another machine? restore its keychain entry)"
            )
        key = bytes.fromhex(stored)
        what = "key from the keychain"
    else:
        raise StoreCorrupt(f"unknown key method {header.method!r} in {header_path(db_path)}")
    if not hmac.compare_digest(key_check(key), header.check):
        raise WrongKey(
            f"the store could not be opened with this {what}: it is not the one this store "
            "was created with (nothing was changed)"
        )
    return key


def resolve_key(db_path: Path, passphrase: str | None = None, *, create: bool) -> bytes:
    """The raw 32-byte key of the store at `db_path`, creating key material for a new store.

    Raises NeedPassphrase, WrongKey or StoreCorrupt (clear one-line messages)."""
    header = read_header(db_path)
    exists = db_path.exists() and db_path.stat().st_size > 0
    pp = _passphrase(passphrase)
    if header is None and exists:
        if not _could_be_a_store(db_path):
            raise StoreCorrupt(
                f"{db_path} is not a Vitrine store: give the store's own file, or a new "
                "file name to create one"
            )
        raise StoreCorrupt(
            f"the key header {header_path(db_path).name} beside {db_path} is missing: "
            "the store cannot be opened without it (restore it from a backup)"
        )
    if not exists:  # a new store (a header left from a deleted store is replaced)
        if not create:
            raise StoreError(f"no store at {db_path}")
        if passphrase is None and pp is not None and len(pp) < MIN_PASSPHRASE:
            # from the environment, on a machine nobody watches: as strict as the desktop
            raise StoreError(
                f"a new store needs a passphrase of at least {MIN_PASSPHRASE} characters: "
                f"{PASSPHRASE_ENV} has {len(pp)}"
            )
        key, header = _new_key(db_path, pp)
        write_header(db_path, header)
        return key
    assert header is not None
    return _existing_key(db_path, header, pp)


def _could_be_a_store(db_path: Path) -> bool:
    """Whether a file could be an encrypted store: SQLCipher writes whole pages (1 KiB
    multiples)."""
    try:
        return db_path.stat().st_size % 1024 == 0
    except OSError:
        return True  # let opening it say what is wrong


def copy_header(src_db: Path, dst_db: Path) -> None:
    header = read_header(src_db)
    if header is not None:
        write_header(dst_db, header)
