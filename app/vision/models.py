"""Model files: a catalog with pinned SHA-256 sums, found on disk or downloaded.

Look-up order for a catalog name: the configured models directory (the
`VITRINE_MODELS_DIR` environment variable overrides the setting), then the user data
directory (`data_dir()/models`), then an installed package's own `models/` (frozen), then
a development checkout's `../shared/models`,
then, when allowed, a download that streams to a temporary file, verifies the SHA-256
and renames the file into the user data directory.
A path to an `.onnx` file is used as it is (the user brought it, nothing to verify).
Offline and missing, `ModelMissing` says exactly which file to put where.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.paths import bundle_dir, data_dir, shared_dir

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
ENV_DIR = "VITRINE_MODELS_DIR"


@dataclass(frozen=True)
class InputSpec:
    """What the network expects as input."""

    name: str
    shape: tuple[int, ...]
    layout: str  # e.g. "NCHW float32, BGR, letterbox top-left pad 114, no normalisation"


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    filename: str
    task: str
    licence: str
    sha256: str  # the pinned sum of the official file (the one a download gets)
    size: int  # bytes of the official file
    url: str | None  # None: no stable public URL, the user supplies the file
    input: InputSpec
    alt_sha256: tuple[str, ...] = ()  # other known-good exports of the same weights
    note: str = ""

    def accepts(self, digest: str) -> bool:
        return digest in (self.sha256, *self.alt_sha256)


CATALOG: dict[str, CatalogEntry] = {
    e.name: e
    for e in (
        CatalogEntry(
            name="yolox_nano",
            filename="yolox_nano.onnx",
            task="person detection",
            licence="Apache-2.0",
            sha256="c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d",
            size=3_659_407,
            url="https://github.com/Megvii-BaseDetection/YOLOX/releases/download/"
            "0.1.1rc0/yolox_nano.onnx",
            input=InputSpec(
                "images",
                (1, 3, 416, 416),
                "NCHW float32, BGR, letterbox top-left pad 114, no normalisation",
            ),
            alt_sha256=("695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",),
        ),
        CatalogEntry(
            name="face_detection_yunet_2023mar",
            filename="face_detection_yunet_2023mar.onnx",
            task="face detection",
            licence="MIT",
            sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            size=232_589,
            url="https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/"
            "face_detection_yunet_2023mar.onnx",
            input=InputSpec("input", (1, 3, 0, 0), "run through cv2.FaceDetectorYN"),
        ),
        CatalogEntry(
            name="mobilefacenet",
            filename="mobilefacenet.onnx",
            task="face embedding",
            licence="Apache-2.0",
            sha256="b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
            size=3_998_070,
            url=None,
            input=InputSpec(
                "input0",
                (1, 3, 112, 112),
                "NCHW float32, RGB, /255 then ImageNet mean/std, 5-point aligned face",
            ),
            note="no stable public download: supply the file manually",
        ),
    )
}

Status = Literal["found", "missing", "bad hash", "user file"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    task: str
    licence: str
    status: Status
    path: Path | None  # where it was found (or the bad file that was found)
    source: str  # "models dir", "user data dir", "path" or ""
    entry: CatalogEntry | None


class ModelError(RuntimeError):
    """A model problem to report to the user as one line."""


class ModelMissing(ModelError):
    """No usable file for a model; the message says which file to put where."""


class ModelHashMismatch(ModelError):
    """A downloaded file does not have the pinned SHA-256 (it was not kept)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _looks_like_path(name: str) -> bool:
    return name.lower().endswith(".onnx") or os.sep in name or "/" in name


class ModelManager:
    """Finds, verifies and downloads model files (see the module docstring)."""

    def __init__(
        self,
        models_dir: str | Path | None = None,
        *,
        allow_download: bool = True,
        catalog: dict[str, CatalogEntry] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        env = os.environ.get(ENV_DIR)
        chosen = env or (str(models_dir) if models_dir else "")
        self.models_dir: Path | None = Path(chosen).expanduser() if chosen else None
        self.allow_download = allow_download
        self.catalog = dict(CATALOG if catalog is None else catalog)
        self.timeout_s = timeout_s
        self._digests: dict[tuple[str, int, int], str] = {}

    @classmethod
    def from_config(cls, cfg: object) -> ModelManager:
        """Build from an `app.config.ModelsConfig` (dir, allow_download)."""
        return cls(
            getattr(cfg, "dir", "") or None,
            allow_download=bool(getattr(cfg, "allow_download", True)),
        )

    # where files live
    @property
    def download_dir(self) -> Path:
        return data_dir() / "models"

    def search_dirs(self) -> builtins.list[tuple[str, Path]]:
        dirs = []
        if self.models_dir is not None:
            dirs.append(("models dir", self.models_dir))
        dirs.append(("user data dir", self.download_dir))
        bundle = bundle_dir()
        if bundle is not None:  # an installed package carries the default models
            dirs.append(("package", bundle / "models"))
        dev = shared_dir() / "models"  # a development checkout's ../shared/models
        if dev.is_dir() and all(dev != d for _, d in dirs):
            dirs.append(("shared dir", dev))
        return dirs

    def entry(self, name: str) -> CatalogEntry:
        try:
            return self.catalog[name]
        except KeyError:
            known = ", ".join(sorted(self.catalog))
            raise ModelMissing(
                f"unknown model {name!r} (known: {known}; or give a path to an .onnx file)"
            ) from None

    def digest(self, path: Path) -> str:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if key not in self._digests:
            self._digests[key] = sha256_file(path)
        return self._digests[key]

    # look-up
    def locate(self, name: str) -> ModelInfo:
        """Where a catalog model is, without downloading; status found/missing/bad hash."""
        e = self.entry(name)
        bad: tuple[Path, str] | None = None
        for source, d in self.search_dirs():
            p = d / e.filename
            if not p.is_file():
                continue
            if e.accepts(self.digest(p)):
                return ModelInfo(e.name, e.task, e.licence, "found", p, source, e)
            bad = bad or (p, source)
        if bad:
            return ModelInfo(e.name, e.task, e.licence, "bad hash", bad[0], bad[1], e)
        return ModelInfo(e.name, e.task, e.licence, "missing", None, "", e)

    def list(self) -> builtins.list[ModelInfo]:
        return [self.locate(n) for n in self.catalog]

    def verify(self) -> builtins.list[ModelInfo]:
        """Like `list`, with digests recomputed from disk (no cache)."""
        self._digests.clear()
        return self.list()

    def path(self, name: str, *, download: bool | None = None) -> Path:
        """The file of a catalog model (or a user-supplied .onnx path), downloading it
        when missing and allowed; raises ModelMissing saying which file to put where."""
        if name not in self.catalog and _looks_like_path(name):
            p = Path(name).expanduser()
            if not p.is_file():
                raise ModelMissing(f"model file {p} does not exist")
            return p
        info = self.locate(name)
        if info.status == "found" and info.path is not None:
            return info.path
        if self.allow_download if download is None else download:
            e = self.entry(name)
            if e.url:
                self._download_with_bar(name)
                return self.download_dir / e.filename
        raise ModelMissing(self.missing_message(name, info))

    def missing_message(self, name: str, info: ModelInfo | None = None) -> str:
        e = self.entry(name)
        info = info or self.locate(name)
        target = self.models_dir or self.download_dir
        bad = (
            f" ({info.path} has the wrong SHA-256)"
            if info.status == "bad hash" and info.path
            else ""
        )
        where = f"from {e.url}" if e.url else e.note or "supply it manually"
        return (
            f"model {name!r} is missing{bad}: put {e.filename} (sha256 {e.sha256[:12]}…, "
            f"{e.size:,} bytes, {where}) into {target}"
            + ("" if self.models_dir else f" or set {ENV_DIR} to the folder that holds it")
        )

    # download
    def download(self, name: str) -> Generator[tuple[int, int], None, None]:
        """Download a catalog model into the user data dir, yielding (bytes done, total).

        Streams to a temporary file in the same folder, verifies the SHA-256 and renames
        it into place; a wrong hash raises ModelHashMismatch and the file is not kept.
        Closing the generator early (cancel) removes the partial file."""
        e = self.entry(name)
        if not e.url:
            raise ModelMissing(self.missing_message(name))
        dest_dir = self.download_dir
        dest_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{e.filename}.", suffix=".part", dir=dest_dir)
        tmp = Path(tmp_name)
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for done, total, chunk in self._stream(e):
                    out.write(chunk)
                    h.update(chunk)
                    yield done, total
            digest = h.hexdigest()
            if not e.accepts(digest):
                raise ModelHashMismatch(
                    f"download of {e.filename} from {e.url} has sha256 {digest[:12]}…, "
                    f"expected {e.sha256[:12]}…: file rejected"
                )
            os.replace(tmp, dest_dir / e.filename)
            log.info("downloaded %s to %s", e.filename, dest_dir)
        finally:
            tmp.unlink(missing_ok=True)

    def _stream(self, e: CatalogEntry) -> Iterator[tuple[int, int, bytes]]:
        assert e.url
        req = urllib.request.Request(e.url, headers={"User-Agent": "vitrine"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                total = int(resp.headers.get("Content-Length") or e.size)
                done = 0
                while chunk := resp.read(CHUNK):
                    done += len(chunk)
                    yield done, total, chunk
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ModelMissing(
                f"cannot download {e.filename} ({reason}); " + self.missing_message(e.name)
            ) from None

    def _download_with_bar(self, name: str) -> None:
        e = self.entry(name)
        with byte_bar(e.size, e.filename, leave=False) as bar:
            for done, total in self.download(name):
                bar.total = total
                bar.update(done - bar.n)


def byte_bar(total: int, desc: str, leave: bool = True) -> Any:
    """A tqdm byte progress bar that starts no monitor thread (tqdm's monitor would
    outlive the bar)."""
    from tqdm import tqdm

    class _Bar(tqdm):
        monitor_interval = 0

    return _Bar(total=total, unit="B", unit_scale=True, desc=desc, leave=leave)
