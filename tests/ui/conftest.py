"""Fixtures of the desktop UI tests: a real encrypted store, a PETS frame, fake tile
states for widget-only tests (the engine tests use the real Engine)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.store.db import Store, open_store
from app.store.writer import WriterOptions
from tests.conftest import PETS_CLIP


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The desktop's own settings (the folders file pickers start in) go to a file of
    the test's, never the user's."""
    from PySide6.QtCore import QSettings

    from app.ui import folders

    ini = str(tmp_path / "desktop-settings.ini")
    monkeypatch.setattr(folders, "_settings", lambda: QSettings(ini, QSettings.Format.IniFormat))


@pytest.fixture
def store(_isolated_data_dir: Path) -> Iterator[Store]:
    s = open_store(_isolated_data_dir / "vitrine.db", writer_options=WriterOptions(batch_ms=5))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def pets_frames() -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(PETS_CLIP))
    frames: list[np.ndarray] = []
    try:
        while len(frames) < 20:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(img)
    finally:
        cap.release()
    assert frames, f"cannot read {PETS_CLIP}"
    return frames
