"""Shared test setup: real models and footage from ../shared, offscreen Qt, and a check
that no test leaves a thread running."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from app.hq.testing_pg import PostgresUnavailable, TempPostgres

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
MODELS_DIR = SHARED / "models"
MEDIA = SHARED / "media"
PETS_CLIP = MEDIA / "video" / "pets09_s2l1_480x360.avi"
TUD_DIR = MEDIA / "MOT15" / "TUD-Stadtmitte"

os.environ.setdefault("VITRINE_MODELS_DIR", str(MODELS_DIR))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("VITRINE_STORE_PASSPHRASE", "test-passphrase")

# Choose keyring's backend now, before any test module defines a stand-in keychain
# class: keyring registers every KeyringBackend subclass, and a first look-up made after
# such a definition would pick the stand-in as this machine's default for the session.
keyring.get_keyring()


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory."""
    d = tmp_path / "vitrine-data"
    d.mkdir()
    monkeypatch.setenv("VITRINE_DATA_DIR", str(d))
    return d


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before
            and t.is_alive()
            and not t.name.startswith(("asyncio_", "ThreadPoolExecutor", "Dummy-"))
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TempPostgres]:
    """A real PostgreSQL server (Debian's binaries), started once per test session in a
    temporary directory; the HQ tests create a database each in it."""
    try:
        pg = TempPostgres()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
