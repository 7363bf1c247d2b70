"""The folder each file picker starts in: the one last used for that kind of file (videos,
sales files, exported reports), kept between sessions in the desktop's own settings; the
home folder until then or when that folder is gone."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings


def _settings() -> QSettings:
    return QSettings("Vitrine", "Vitrine")


def last_folder(kind: str) -> Path:
    """Where a picker for `kind` files starts."""
    saved = _settings().value(f"folders/{kind}", "", type=str)
    folder = Path(str(saved)) if saved else None
    return folder if folder is not None and folder.is_dir() else Path.home()


def remember_folder(kind: str, chosen: str | Path) -> None:
    """Remember the folder of a file just chosen for `kind`."""
    path = Path(chosen)
    folder = path if path.is_dir() else path.parent
    _settings().setValue(f"folders/{kind}", str(folder))
