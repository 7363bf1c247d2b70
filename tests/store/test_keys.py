"""Key management: OS keychain when it is secure, otherwise a passphrase through scrypt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyrings.alt.file import EncryptedKeyring, PlaintextKeyring

from app.store import keys
from app.store.db import open_store
from app.store.errors import NeedPassphrase, WrongKey
from app.store.models import Setting


class MemoryKeyring(KeyringBackend):
    """A stand-in for a real OS keychain (macOS Keychain, Windows Credential Locker...)."""

    priority = 5

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    monkeypatch.delenv(keys.PASSPHRASE_ENV)
    yield kr
    keyring.set_keyring(previous)


@pytest.mark.parametrize(
    ("backend", "secure"),
    [
        (fail.Keyring(), False),
        (PlaintextKeyring(), False),
        (EncryptedKeyring.__new__(EncryptedKeyring), False),  # needs pycryptodome to build
        (null.Keyring(), False),
        (MemoryKeyring(), True),
    ],
    ids=["fail", "plaintext-file", "encrypted-file-with-prompt", "null", "os-keychain"],
)
def test_which_keychains_count_as_secure(backend: KeyringBackend, secure: bool) -> None:
    assert keys._backend_secure(backend) is secure


def test_key_kept_in_keychain(db_path: Path, memory_keyring: MemoryKeyring) -> None:
    with open_store(db_path) as s:
        s.writer.submit(lambda ss: ss.add(Setting(key="k", value="1"))).result(10)
    header = json.loads(keys.header_path(db_path).read_text())
    assert header["method"] == "keyring" and not header["salt"]
    (stored,) = memory_keyring.items.values()
    assert len(bytes.fromhex(stored)) == 32
    assert stored not in keys.header_path(db_path).read_text()
    with open_store(db_path, create=False) as s, s.read_session() as rs:  # reopens from keychain
        assert rs.get(Setting, "k") is not None
    memory_keyring.items.clear()  # e.g. the file was copied to another machine
    with pytest.raises(WrongKey, match="not in this machine's keychain"):
        open_store(db_path, create=False)


def test_insecure_keychain_needs_a_passphrase(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    previous = keyring.get_keyring()
    plain = PlaintextKeyring()
    plain.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(plain)
    monkeypatch.delenv(keys.PASSPHRASE_ENV)
    try:
        with pytest.raises(NeedPassphrase, match="no secure keychain"):
            open_store(db_path)
    finally:
        keyring.set_keyring(previous)
    assert not (tmp_path / "keyring_pass.cfg").exists()  # the key never went to a plain file
    assert not db_path.exists()


def test_passphrase_header_holds_salt_not_key(db_path: Path) -> None:
    with open_store(db_path, "pass phrase"):
        pass
    header = json.loads(keys.header_path(db_path).read_text())
    assert header["method"] == "scrypt" and len(bytes.fromhex(header["salt"])) == 16
    key = keys.resolve_key(db_path, "pass phrase", create=False)
    salt = bytes.fromhex(header["salt"])
    assert key == keys.derive_key("pass phrase", salt, header["n"], header["r"], header["p"])
    assert key.hex() not in keys.header_path(db_path).read_text()


def test_two_stores_get_different_salts(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    for p in (a, b):
        with open_store(p, "same-passphrase"):
            pass
    assert keys.resolve_key(a, "same-passphrase", create=False) != keys.resolve_key(b, "same-passphrase", create=False)


def test_env_passphrase_and_data_dir(
    _isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "from-env")
    with open_store() as s:
        assert s.path.parent == _isolated_data_dir
    with pytest.raises(WrongKey):
        open_store(passphrase="something else")


def test_production_scrypt_cost() -> None:
    defaults = keys.derive_key.__wrapped__.__defaults__  # module values, not the tests' lower one
    assert defaults is not None
    n, r, _ = defaults
    assert n >= 2**15 and r >= 8


def test_a_new_store_refuses_a_short_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headless (VITRINE_STORE_PASSPHRASE) as in the desktop: at least 8 characters for a
    new store; nothing is created."""
    from app.store.errors import StoreError
    from app.store.keys import resolve_key

    db = tmp_path / "new" / "vitrine.db"
    db.parent.mkdir()
    monkeypatch.setenv("VITRINE_STORE_PASSPHRASE", "abc")
    with pytest.raises(StoreError, match="at least 8 characters"):
        resolve_key(db, create=True)
    assert list(db.parent.iterdir()) == []
    monkeypatch.setenv("VITRINE_STORE_PASSPHRASE", "long enough")
    assert len(resolve_key(db, create=True)) == 32
