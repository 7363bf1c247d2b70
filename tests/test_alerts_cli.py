"""`python main.py alerts`: open alerts from the real store, as text or JSON, and
acknowledging them; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.alerts import AlertOpened, AlertResolved
from app.cli.main import main
from app.events import Alert
from app.store import keys
from app.store.db import open_store

T0 = 1_780_000_000.0


@pytest.fixture
def seeded(_isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(keys, "SCRYPT_N", 2**12)
    store = open_store(_isolated_data_dir / "vitrine.db")
    base = dict(kind="camera_offline", subject="door", camera="door", opened_at=T0, last_seen=T0)
    store.writer.ingest(AlertOpened(id="aaaa1111-x", message="door is down: offline", **base))
    store.writer.ingest(
        AlertResolved(id="bbbb2222-x", message="till is down", resolved_at=T0 + 60,
                      **{**base, "subject": "till", "camera": "till"})
    )  # fmt: skip
    store.writer.ingest(Alert("lan_unavailable", "port 8443 in use", ts=T0 + 5, id="cccc3333-x"))
    store.close()
    return _isolated_data_dir


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["alerts", "--json", *args]) == 0
    return list(json.loads(capsys.readouterr().out)["alerts"])


def test_lists_open_alerts_as_json_and_text(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = run_json(capsys)
    assert [(a["id"], a["kind"], a["state"]) for a in found] == [
        ("cccc3333-x", "lan_unavailable", "open"),
        ("aaaa1111-x", "camera_offline", "open"),
    ]
    door = found[1]
    assert door["subject"] == "door" and door["opened_at"] == T0 and door["resolved_at"] is None
    every = run_json(capsys, "--all")
    assert {a["id"]: a["state"] for a in every}["bbbb2222-x"] == "resolved"
    assert main(["alerts"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "aaaa1111" in out[1] and "door is down: offline" in out[1]
    assert "[open]" in out[1]


def test_acknowledge_by_id_prefix_and_all(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "ack", "aaaa", "--by", "night shift"]) == 0
    assert "acknowledged 1" in capsys.readouterr().out
    door = next(a for a in run_json(capsys) if a["id"] == "aaaa1111-x")
    assert door["acknowledged_by"] == "night shift" and door["state"] == "open"
    assert main(["alerts", "ack", "--all"]) == 0
    assert "acknowledged 1" in capsys.readouterr().out  # the notice; it is over now
    assert [a["id"] for a in run_json(capsys)] == ["aaaa1111-x"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ack"], "give the alert ids"),
        (["ack", "x", "--all"], "give the alert ids"),
        (["ack", "zzzz"], "no open alert has an id starting with 'zzzz'"),
        (["ack", "bbbb"], "no open alert"),  # resolved already
    ],
)
def test_bad_input_is_one_line(
    seeded: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["alerts", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_no_store_yet_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts"]) == 2
    err = capsys.readouterr().err
    assert "no store" in err and err.count("\n") == 1
