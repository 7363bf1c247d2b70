"""`python main.py models list|verify|fetch NAME`: what model files this machine has."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.main import CliError
from app.vision.models import ModelError, ModelInfo, ModelManager, byte_bar

if TYPE_CHECKING:
    from app.config import AppConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=None, help="models directory (default: settings)")
    parser.add_argument("--config", default=None, help="config file whose models settings apply")
    sub = parser.add_subparsers(dest="action")
    sub.add_parser("list", help="show each model, its status and where it was found")
    sub.add_parser(
        "verify",
        help="re-check every file's SHA-256; exit 1 if one is bad, 2 if the person detector's "
        "model is missing",
    )
    fetch = sub.add_parser("fetch", help="download a model and verify it")
    fetch.add_argument("name", help="catalog name, e.g. yolox_nano")


def _settings(args: argparse.Namespace) -> AppConfig:
    """The --config file, else the app's config in the data dir, else the defaults."""
    from app.config import AppConfig, ConfigError, load_config
    from app.paths import data_dir

    path = Path(args.config) if args.config else data_dir() / "config.toml"
    if not args.config and not path.is_file():
        return AppConfig()
    try:
        return load_config(path)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _manager(args: argparse.Namespace) -> ModelManager:
    """--dir, else the `models` settings of --config or the app's config in the data dir
    (VITRINE_MODELS_DIR overrides either)."""
    if args.dir:
        return ModelManager(args.dir)
    return ModelManager.from_config(_settings(args).models)


def _table(rows: list[ModelInfo]) -> str:
    head = ("name", "task", "licence", "status", "where")
    body = [
        (r.name, r.task, r.licence, r.status, f"{r.path} ({r.source})" if r.path else "-")
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [head, *body])


def _fetch(mgr: ModelManager, name: str) -> None:
    info = mgr.locate(name)
    if info.status == "found":
        print(f"{name}: already present at {info.path}")
        return
    e = mgr.entry(name)
    if not e.url:
        raise ModelError(mgr.missing_message(name))
    with byte_bar(e.size, e.filename) as bar:
        for done, total in mgr.download(name):
            bar.total = total
            bar.update(done - bar.n)
    print(f"{name}: downloaded to {mgr.download_dir / e.filename} (sha256 verified)")


def _detector_problem(mgr: ModelManager, cfg: AppConfig, rows: list[ModelInfo]) -> str | None:
    """Why the person detector that `cfg` selects has no file here, as the app would say it
    (None: it has one, or needs none). A bad hash is left to the table and its own line."""
    det = cfg.analysis.detector
    row = next((r for r in rows if r.name == det.model), None)
    if det.type == "fake" or (row is not None and row.status != "missing"):
        return None
    try:
        mgr.path(det.model, download=False)
    except ModelError as exc:
        fetch = (
            f"; or run `python main.py models fetch {det.model}`"
            if row and row.entry and row.entry.url
            else ""
        )
        return f"person detector: {exc}{fetch}"
    return None


def _verify_summary(mgr: ModelManager, cfg: AppConfig, rows: list[ModelInfo]) -> int:
    """Print what `verify` found after the table and return the exit code: 2 (a one-line
    CliError) when the person detector's model is missing, else 1 when a file has a bad
    hash, else 0; missing optional models are a note."""
    bad = [r.name for r in rows if r.status == "bad hash"]
    if bad:
        print(f"bad hash: {', '.join(bad)}")
    detector = cfg.analysis.detector.model
    optional = [r.name for r in rows if r.status == "missing" and r.name != detector]
    if optional:
        print(f"not present (optional, not needed for people counting): {', '.join(optional)}")
    problem = _detector_problem(mgr, cfg, rows)
    if problem:
        raise CliError(problem)
    if bad:
        return 1
    print("all present files match their pinned SHA-256")
    return 0


def run(args: argparse.Namespace) -> int:
    mgr = _manager(args)
    action = args.action or "list"
    try:
        if action == "fetch":
            _fetch(mgr, args.name)
            return 0
        rows = mgr.verify() if action == "verify" else mgr.list()
    except ModelError as exc:
        raise CliError(str(exc)) from None
    print(_table(rows))
    return _verify_summary(mgr, _settings(args), rows) if action == "verify" else 0
