"""Secret vaults for app.settings: the OS keychain, or the encrypted store.

`open_vault(store)` chooses where a store's secrets live: in the OS keychain when the
store's own key is kept there (a secure keychain, see keys.keychain_usable), else in the
store's encrypted `settings` table (row `secrets`, JSON). Secrets never go to config.toml
and are never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.settings import SecretVault
from app.store.errors import StoreError
from app.store.keys import keychain_usable, read_header
from app.store.models import Setting

log = logging.getLogger(__name__)

SECRETS_ROW = "secrets"
KEYRING_SERVICE = "Vitrine secrets"
WRITE_TIMEOUT_S = 30.0


def _decode(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("the saved secrets are unreadable; they are ignored")
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


class StoreVault:
    """Secrets in the store's encrypted `settings` table (SQLCipher, secure_delete)."""

    where = "the encrypted store"

    def __init__(self, store: Any) -> None:
        self.store = store

    def load(self) -> dict[str, str]:
        with self.store.read_session() as s:
            row = s.get(Setting, SECRETS_ROW)
            return _decode(row.value if row is not None else None)

    def write(self, s: Session, secrets: Mapping[str, str]) -> None:
        """Replace the secrets inside a writer transaction `s`."""
        value = json.dumps(dict(sorted(secrets.items())))
        row = s.get(Setting, SECRETS_ROW)
        if row is None:
            s.add(Setting(key=SECRETS_ROW, value=value, updated_at=time.time()))
        elif row.value != value:
            row.value, row.updated_at = value, time.time()

    def save(self, secrets: Mapping[str, str]) -> None:
        """Replace the secrets (through the writer; never call it on the writer thread)."""
        snapshot = dict(secrets)
        self.store.writer.submit(lambda s: self.write(s, snapshot)).result(WRITE_TIMEOUT_S)


class KeyringVault:
    """Secrets as one JSON entry in the OS keychain, per store."""

    where = "the OS keychain"

    def __init__(self, user: str, service: str = KEYRING_SERVICE) -> None:
        self.service, self.user = service, user

    def load(self) -> dict[str, str]:
        import keyring

        try:
            return _decode(keyring.get_password(self.service, self.user))
        except Exception as exc:
            raise StoreError(f"the keychain could not be read ({exc})") from None

    def save(self, secrets: Mapping[str, str]) -> None:
        import keyring

        try:
            if secrets:
                keyring.set_password(self.service, self.user, json.dumps(dict(secrets)))
            elif keyring.get_password(self.service, self.user) is not None:
                keyring.delete_password(self.service, self.user)
        except Exception as exc:
            raise StoreError(f"the keychain refused the settings' secrets ({exc})") from None


def open_vault(store: Any) -> SecretVault:
    """Where this store's secrets live: with the store key in the OS keychain when it is
    there, else in the encrypted store."""
    header = read_header(store.path)
    if header is not None and header.method == "keyring" and keychain_usable():
        user = "secrets-" + hashlib.sha256(str(store.path.resolve()).encode()).hexdigest()[:16]
        return KeyringVault(user)
    return StoreVault(store)
