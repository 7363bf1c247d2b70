"""Where Vitrine keeps its files: one data directory, one models directory."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

APP_NAME = "Vitrine"
REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES_DIR = REPO_ROOT / "resources"


def private_dir(path: Path) -> Path:
    """Create `path` (0700) or narrow an existing one to 0700; returns it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not sys.platform.startswith("win") and path.stat().st_mode & 0o777 != 0o700:
        with contextlib.suppress(PermissionError):  # not ours: leave it as it is
            path.chmod(0o700)
    return path


def data_dir() -> Path:
    """The per-user data directory (store, crops, settings); VITRINE_DATA_DIR overrides it."""
    env = os.environ.get("VITRINE_DATA_DIR")
    if env:
        path = Path(env).expanduser()
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Application Support" / APP_NAME
    elif sys.platform.startswith("win"):
        path = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / APP_NAME
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "vitrine"
    return private_dir(path)  # the store, its keys and backups: for this user only


def bundle_dir() -> Path | None:
    """The installed package's own files (models/, samples/) when running frozen (the
    PyInstaller bundle of installer/), else None: a checkout has none."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(getattr(sys, "_MEIPASS", Path(sys.executable).resolve().parent))


def sample_clip() -> Path | None:
    """The package's synthetic sample clip (rendered at build time; `selftest` runs the
    detector on it), if this is an installed package."""
    bundle = bundle_dir()
    clip = bundle / "samples" / "sample.avi" if bundle else None
    return clip if clip and clip.is_file() else None


def shared_dir() -> Path:
    """The sibling `shared/` folder of a development checkout (models and test footage)."""
    return REPO_ROOT.parent / "shared"


def demo_clip() -> Path | None:
    """The demo camera's clip (the PETS 2009 footage), if this machine has it."""
    env = os.environ.get("VITRINE_DEMO_CLIP")
    candidates = [Path(env)] if env else []
    name = Path("media") / "video" / "pets09_s2l1_480x360.avi"
    models = os.environ.get("VITRINE_MODELS_DIR")
    if models:  # a checkout pointed at shared/models finds shared/media beside it
        candidates.append(Path(models).parent / name)
    candidates.append(shared_dir() / name)
    for c in candidates:
        if c.is_file():
            return c.resolve()  # absolute: camera URLs are compared with it
    return None


class InstanceLock:
    """An exclusive lock on `<data dir>/vitrine.lock` for as long as it is held: one
    program counting with a data directory at a time (two would count every person
    twice into the same store). The operating system drops it when the process ends,
    however it ends."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or data_dir()) / "vitrine.lock"
        self._file: Any = None

    def acquire(self) -> bool:
        """True when this process now holds it; False when another one does."""
        f = open(self.path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            if sys.platform.startswith("win"):
                import msvcrt

                f.seek(0)
                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            else:
                import fcntl

                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock
            self._file = None
