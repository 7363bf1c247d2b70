"""`python main.py audit`: marks derived from the TUD-Stadtmitte ground truth give the
same accuracy as bench/eval_tud.py's evaluation of the same line, and bad inputs are
one-line errors with nothing audited."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from app.count_audit import format_marks
from tests.conftest import REPO, TUD_DIR

sys.path.insert(0, str(REPO / "bench"))
import eval_tud  # noqa: E402

CLIP = TUD_DIR / "TUD-Stadtmitte.mp4"
LINE = "v480"  # 6 true crossings, both directions (one missed at 5 fps)


def _config(tmp_path: Path) -> Path:
    s, e = eval_tud.LINES[LINE]
    p = tmp_path / "lines.json"
    p.write_text(json.dumps({"lines": [{"name": LINE, "start": list(s), "end": list(e)}]}))
    return p


def _marks(tmp_path: Path) -> tuple[Path, list[eval_tud.Crossing]]:
    truth = eval_tud.true_crossings(eval_tud.load_gt(TUD_DIR / "gt" / "gt.txt"), eval_tud.LINES)
    truth = [c for c in truth if c.line == LINE]
    p = tmp_path / "marks.csv"
    p.write_text(format_marks(truth))
    return p, truth


@pytest.mark.slow
def test_audit_matches_eval_tud_on_the_same_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marks, truth = _marks(tmp_path)
    assert {c.direction for c in truth} == {"in", "out"} and len(truth) >= 4
    argv = ["audit", str(CLIP), "--config", str(_config(tmp_path)), "--line", LINE]
    assert main([*argv, "--marks", str(marks), "--json", "--no-progress"]) == 0
    got = json.loads(capsys.readouterr().out)

    # bench/eval_tud.py's logic at the same default rate (adaptive, 5 fps base)
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    cfg = eval_tud.eval_config({})
    detector = create_detector(
        cfg.analysis.detector, ModelManager(eval_tud.MODELS, allow_download=False)
    )
    run = eval_tud.run_pipeline(cfg, cfg.analysis.fps, detector, adaptive=True)
    rows = eval_tud.table(truth, run["counted"], 1.0, {LINE: eval_tud.LINES[LINE]})
    true, right, extra = eval_tud.totals(rows)
    assert got["marks"] == true == len(truth)
    assert (got["matched"], got["missed"], got["extra"]) == (right, true - right, extra)
    assert got["accuracy"] == pytest.approx(right / (true + extra), abs=1e-4)
    assert len(got["missed_at"]) == got["missed"] and len(got["extra_at"]) == got["extra"]

    # the text report says the same
    assert main([*argv, "--marks", str(marks), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert f"matched {right}, missed {true - right}, extra {extra}" in text
    assert f"accuracy {100 * right / (true + extra):.1f} %" in text


@pytest.mark.parametrize(
    ("marks", "message"),
    [
        ("t,direction\n1.0,in\n2.5,up\n", "row 3: direction 'up' must be 'in' or 'out'"),
        ("1.0,in\nsoon,out\n", "row 2: time 'soon' is not a number of seconds"),
        ("", "no marks in it"),
        ("t,direction\n# nobody came\n", "no marks in it"),
    ],
)
def test_malformed_marks_fail_before_analysis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], marks: str, message: str
) -> None:
    p = tmp_path / "marks.csv"
    p.write_text(marks)
    argv = ["audit", str(CLIP), "--config", str(_config(tmp_path)), "--line", LINE]
    assert main([*argv, "--marks", str(p)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and "nothing was audited" in captured.err
    assert "Traceback" not in captured.err


def test_unknown_line_and_missing_marks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marks, _ = _marks(tmp_path)
    cfg = str(_config(tmp_path))
    assert main(["audit", str(CLIP), "--config", cfg, "--line", "nope", "--marks", str(marks)]) == 2
    assert "--line nope: no such line for camera clip (lines: v480)" in capsys.readouterr().err
    missing = str(tmp_path / "none.csv")
    assert main(["audit", str(CLIP), "--config", cfg, "--line", LINE, "--marks", missing]) == 2
    assert "no such file" in capsys.readouterr().err
