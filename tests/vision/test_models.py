"""Model manager: catalog look-up order, hash checks, downloads from a real local HTTP
server (good file, wrong hash, cancel, offline), user paths, and the `models` CLI."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from app.cli.main import main as cli_main
from app.paths import data_dir
from app.vision import models as models_mod
from app.vision.models import (
    CATALOG,
    CatalogEntry,
    InputSpec,
    ModelHashMismatch,
    ModelManager,
    ModelMissing,
)
from tests.conftest import MODELS_DIR

PAYLOAD = bytes(range(256)) * 1000  # 256 kB: several 64 KiB chunks
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def no_shared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No VITRINE_MODELS_DIR and no ../shared fallback: only what the test sets up."""
    monkeypatch.delenv("VITRINE_MODELS_DIR", raising=False)
    monkeypatch.setattr(models_mod, "shared_dir", lambda: tmp_path / "no-shared")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(HTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the cancel test hangs up mid-transfer on purpose


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a folder; yields (base url, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "tiny.onnx").write_bytes(PAYLOAD)

    def handler(*args: object, **kw: object) -> _Quiet:
        return _Quiet(*args, directory=str(root), **kw)  # type: ignore[arg-type]

    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _entry(url: str | None, sha: str = PAYLOAD_SHA, name: str = "tiny") -> CatalogEntry:
    return CatalogEntry(
        name=name,
        filename=f"{name}.onnx",
        task="test",
        licence="MIT",
        sha256=sha,
        size=len(PAYLOAD),
        url=url,
        input=InputSpec("x", (1,), "test"),
    )


def test_catalog_pins_official_files() -> None:
    y = CATALOG["yolox_nano"]
    assert y.sha256.startswith("c789161ed43c") and y.size == 3_659_407
    assert y.url and y.url.endswith("0.1.1rc0/yolox_nano.onnx")
    assert y.accepts("695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14")
    assert CATALOG["mobilefacenet"].url is None
    for e in CATALOG.values():
        assert len(e.sha256) == 64 and e.licence and e.input.name


def test_shared_models_are_found_and_verified() -> None:
    mgr = ModelManager()  # VITRINE_MODELS_DIR points at ../shared/models (conftest)
    infos = {i.name: i for i in mgr.verify()}
    assert set(infos) == set(CATALOG)
    for info in infos.values():
        assert info.status == "found", info
        assert info.source == "models dir"
        assert info.path is not None and info.path.parent == MODELS_DIR
    assert mgr.path("yolox_nano") == MODELS_DIR / "yolox_nano.onnx"


def test_env_overrides_configured_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VITRINE_MODELS_DIR", str(tmp_path / "env"))
    assert ModelManager(tmp_path / "configured").models_dir == tmp_path / "env"
    monkeypatch.delenv("VITRINE_MODELS_DIR")
    assert ModelManager(tmp_path / "configured").models_dir == tmp_path / "configured"


def test_models_dir_comes_before_user_data_dir(no_shared: None, tmp_path: Path) -> None:
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "tiny.onnx").write_bytes(PAYLOAD)
    user = data_dir() / "models"
    user.mkdir()
    (user / "tiny.onnx").write_bytes(PAYLOAD)
    mgr = ModelManager(cfg_dir, catalog={"tiny": _entry(None)})
    assert mgr.path("tiny") == cfg_dir / "tiny.onnx"
    (cfg_dir / "tiny.onnx").unlink()
    assert mgr.path("tiny") == user / "tiny.onnx"
    assert mgr.locate("tiny").source == "user data dir"


def test_bad_hash_is_reported_and_not_used(no_shared: None, tmp_path: Path) -> None:
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "tiny.onnx").write_bytes(PAYLOAD[:-1] + b"x")
    mgr = ModelManager(d, catalog={"tiny": _entry(None)}, allow_download=False)
    info = mgr.locate("tiny")
    assert info.status == "bad hash" and info.path == d / "tiny.onnx"
    with pytest.raises(ModelMissing, match="wrong SHA-256"):
        mgr.path("tiny")


def test_offline_and_missing_says_which_file_to_put_where(no_shared: None, tmp_path: Path) -> None:
    d = tmp_path / "models"
    mgr = ModelManager(d, allow_download=False)
    with pytest.raises(ModelMissing) as err:
        mgr.path("yolox_nano")
    msg = str(err.value)
    assert "yolox_nano.onnx" in msg and str(d) in msg and "c789161ed43c" in msg
    assert "\n" not in msg


def test_unreachable_download_becomes_model_missing(no_shared: None) -> None:
    # port 9 on loopback: nothing listens, the connection is refused at once
    mgr = ModelManager(catalog={"tiny": _entry("http://127.0.0.1:9/tiny.onnx")}, timeout_s=5)
    with pytest.raises(ModelMissing, match=r"cannot download tiny\.onnx.*put tiny\.onnx"):
        mgr.path("tiny")
    assert list((data_dir() / "models").iterdir()) == []


def test_no_url_means_supply_manually(no_shared: None) -> None:
    mgr = ModelManager()
    with pytest.raises(ModelMissing, match="mobilefacenet.onnx.*supply the file manually"):
        mgr.path("mobilefacenet")


def test_download_verifies_and_renames(no_shared: None, http_root: tuple[str, Path]) -> None:
    url, _ = http_root
    mgr = ModelManager(catalog={"tiny": _entry(f"{url}/tiny.onnx")})
    progress = list(mgr.download("tiny"))
    assert len(progress) >= 4
    assert progress[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)
    dest = data_dir() / "models" / "tiny.onnx"
    assert dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["tiny.onnx"]
    info = mgr.locate("tiny")
    assert (info.status, info.source) == ("found", "user data dir")


def test_path_downloads_when_missing(no_shared: None, http_root: tuple[str, Path]) -> None:
    url, _ = http_root
    mgr = ModelManager(catalog={"tiny": _entry(f"{url}/tiny.onnx")})
    assert mgr.path("tiny").read_bytes() == PAYLOAD


def test_wrong_hash_download_is_rejected(no_shared: None, http_root: tuple[str, Path]) -> None:
    url, _ = http_root
    mgr = ModelManager(catalog={"tiny": _entry(f"{url}/tiny.onnx", sha="0" * 64)})
    with pytest.raises(ModelHashMismatch, match="file rejected"):
        list(mgr.download("tiny"))
    assert list((data_dir() / "models").iterdir()) == []


def test_cancelled_download_leaves_nothing(no_shared: None, http_root: tuple[str, Path]) -> None:
    url, _ = http_root
    mgr = ModelManager(catalog={"tiny": _entry(f"{url}/tiny.onnx")})
    gen = mgr.download("tiny")
    done, total = next(gen)
    assert 0 < done < total
    gen.close()
    assert list((data_dir() / "models").iterdir()) == []


def test_user_supplied_path(tmp_path: Path) -> None:
    f = tmp_path / "my detector.onnx"
    f.write_bytes(b"x")
    mgr = ModelManager()
    assert mgr.path(str(f)) == f
    with pytest.raises(ModelMissing, match="does not exist"):
        mgr.path(str(tmp_path / "nope.onnx"))
    with pytest.raises(ModelMissing, match="unknown model 'nope'"):
        mgr.path("nope")


def test_cli_list_and_verify(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["models", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].split() == ["name", "task", "licence", "status", "where"]
    for name in CATALOG:
        row = next(ln for ln in lines if ln.startswith(name + " "))
        assert " found " in row and str(MODELS_DIR) in row
    assert cli_main(["models", "verify"]) == 0
    assert "match their pinned SHA-256" in capsys.readouterr().out


def test_cli_verify_flags_bad_hash(
    no_shared: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "yolox_nano.onnx").write_bytes(b"not the model")
    assert cli_main(["models", "--dir", str(d), "verify"]) == 1
    out = capsys.readouterr().out
    assert "bad hash: yolox_nano" in out


def test_cli_fetch_errors_are_one_line(no_shared: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["models", "fetch", "mobilefacenet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: model 'mobilefacenet' is missing") and "\n" not in err
    assert cli_main(["models", "fetch", "nope"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_cli_uses_the_config_models_dir(
    no_shared: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "vitrine.toml"
    cfg.write_text(f'[models]\ndir = "{MODELS_DIR}"\nallow_download = false\n')
    assert cli_main(["models", "--config", str(cfg), "list"]) == 0
    assert f"{MODELS_DIR}/yolox_nano.onnx (models dir)" in capsys.readouterr().out
    cfg.write_text("[models]\ndri = 1\n")
    assert cli_main(["models", "--config", str(cfg), "list"]) == 2
    assert "models.dri" in capsys.readouterr().err


def test_cli_verify_without_the_detector_model_exits_2(
    no_shared: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main(["models", "--dir", str(empty), "verify"]) == 2
    out, err = capsys.readouterr()
    assert "match their pinned SHA-256" not in out
    assert "not present (optional" in out and "mobilefacenet" in out
    err = err.strip()
    assert err.startswith("error: person detector: model 'yolox_nano' is missing: put yolox_nano")
    assert "models fetch yolox_nano" in err and "\n" not in err


def test_cli_verify_with_only_the_detector_model_notes_the_optional_ones(
    no_shared: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "yolox_nano.onnx").symlink_to(MODELS_DIR / "yolox_nano.onnx")
    assert cli_main(["models", "--dir", str(d), "verify"]) == 0
    out = capsys.readouterr().out
    note = "not present (optional, not needed for people counting): "
    assert note + "face_detection_yunet_2023mar, mobilefacenet" in out
    assert out.rstrip().endswith("all present files match their pinned SHA-256")


def test_cli_verify_checks_the_configured_detector(
    no_shared: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = tmp_path / "vitrine.toml"
    gone = tmp_path / "yolov8n.onnx"
    cfg.write_text(f'[analysis.detector]\ntype = "ultralytics"\nmodel = "{gone}"\n')
    args = ["models", "--dir", str(empty), "--config", str(cfg), "verify"]
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: person detector: model file {gone} does not exist"
    gone.write_bytes(b"brought by the user")  # present: catalog models are optional now
    assert cli_main(args) == 0
    cfg.write_text('[analysis.detector]\ntype = "fake"\n')
    assert cli_main(args) == 0
    assert "optional, not needed for people counting): yolox_nano" in capsys.readouterr().out
