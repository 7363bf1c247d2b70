"""`python main.py analyze`: real pipeline on the PETS clip, its output files, and every
bad input (exit code 2 with a one-line reason)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from tests.conftest import PETS_CLIP, REPO

CONFIG = {
    "lines": [{"name": "plaza", "start": [240, 60], "end": [240, 350]}],
    "zones": [{"name": "lawn", "polygon": [[10, 100], [200, 100], [200, 350], [10, 350]]}],
}


def write_config(tmp_path: Path, data: object, name: str = "cfg.json") -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return p


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "analyze", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_analyze_writes_events_tracks_and_annotated_video(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    out, tracks, video = tmp_path / "events.jsonl", tmp_path / "tracks.txt", tmp_path / "a.mp4"
    proc = run_cli(
        str(PETS_CLIP), "--config", str(cfg), "--out", str(out), "--tracks", str(tracks),
        "--annotate", str(video), "--duration", "30",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # summary: crossings per line and direction, visits and mean dwell per zone
    # the default adaptive rate: 5 fps, every frame (10 fps) while someone is near the line
    analysed = int(proc.stdout.split("analysed ")[1].split(" frames")[0])
    assert 151 < analysed < 301  # 30 s, frame 0 included
    assert "adaptive rate: " in proc.stdout
    assert "line plaza: in " in proc.stdout and "zone lawn: " in proc.stdout
    events = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = {e["type"] for e in events}
    assert {"line_cross", "zone_enter", "zone_exit", "visit_closed", "new_visitor"} <= kinds
    for e in events:
        assert isinstance(e["frame"], int) and 0 <= e["frame"] <= 300
        assert e["t"] == pytest.approx(e["frame"] / 10.0)
    crossings = [e for e in events if e["type"] == "line_cross"]
    assert crossings and all(e["line"] == "plaza" for e in crossings)
    assert all(e["direction"] in ("in", "out") and e["track_id"] >= 1 for e in crossings)
    zone_events = [e for e in events if e["type"] in ("zone_enter", "zone_exit")]
    assert all(e["zone"] == "lawn" and e["track_id"] >= 1 for e in zone_events)
    line_counts = proc.stdout.split("line plaza: ")[1].splitlines()[0]
    n_in = sum(1 for e in crossings if e["direction"] == "in")
    n_out = len(crossings) - n_in
    assert line_counts == f"in {n_in}, out {n_out}"
    # MOTChallenge tracks: frame (1-based), id, left, top, width, height, conf, -1, -1, -1
    rows = [line.split(",") for line in tracks.read_text().splitlines()]
    assert rows and all(len(r) == 10 and r[7:] == ["-1", "-1", "-1"] for r in rows)
    frames = sorted({int(r[0]) for r in rows})
    assert frames[0] >= 1 and frames[-1] <= 301
    assert len(frames) > 151 and any(f % 2 == 0 for f in frames)  # odd 0-based frames too
    assert all(float(r[4]) > 0 and float(r[5]) > 0 and int(r[1]) >= 1 for r in rows)
    # the annotated video opens and runs at the clip's rate (an analysed frame stands
    # until the next one)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,width,height,nb_read_frames", "-of", "json", str(video)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["width"], stream["height"], int(stream["nb_read_frames"])) == (480, 360, 301)


@pytest.mark.slow
def test_every_frame_and_fps_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = '[[lines]]\nname = "plaza"\nstart = [240, 60]\nend = [240, 350]\n'
    cfg = write_config(tmp_path, toml, "cfg.toml")
    out = tmp_path / "e.jsonl"
    args = ["analyze", str(PETS_CLIP), "--config", str(cfg), "--no-progress"]
    assert main([*args, "--every-frame", "--duration", "3", "--out", str(out)]) == 0
    assert "analysed 31 frames" in capsys.readouterr().out
    assert main([*args, "--fps", "2", "--duration", "3", "--fixed-rate"]) == 0
    assert "analysed 7 frames" in capsys.readouterr().out
    assert main([*args, "--fps", "2", "--duration", "3"]) == 0  # 2 fps base, adaptive
    text = capsys.readouterr().out
    assert 7 < int(text.split("analysed ")[1].split(" frames")[0]) <= 31
    assert "adaptive rate: " in text and "(base 2, source 10)" in text


@pytest.mark.slow
def test_analyze_persists_events_into_the_store(tmp_path: Path) -> None:
    pytest.importorskip("app.store.db")
    from sqlalchemy import func, select

    from app.store.db import open_store
    from app.store.models import LineCrossing, ZoneVisit

    cfg = write_config(tmp_path, CONFIG)
    db = tmp_path / "store.db"
    rc = main(["analyze", str(PETS_CLIP), "--config", str(cfg), "--store", str(db),
               "--duration", "20", "--no-progress"])  # fmt: skip
    assert rc == 0
    store = open_store(db)
    try:
        with store.read_session() as s:
            crossings = s.scalar(select(func.count()).select_from(LineCrossing))
            visits = s.scalar(select(func.count()).select_from(ZoneVisit))
    finally:
        store.close()
    assert crossings and crossings >= 1
    assert visits and visits >= 1


# --- bad input: exit code 2 and a one-line reason ------------------------------------


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for n in needles:
        assert n in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_video(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    assert_one_line_error(run_cli(str(tmp_path / "nope.mp4"), "--config", str(cfg)), "nope.mp4")


def test_unreadable_video(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"this is not a video at all" * 100)
    assert_one_line_error(run_cli(str(fake), "--config", str(cfg)), "clip.mp4")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ({"lines": [{"name": "x", "start": [0, 0], "end": [0, 0]}]}, "same point"),
        ({"lines": [{"name": "x", "start": [0, 0]}]}, "lines.0.end"),
        ({"zones": [{"name": "z", "polygon": [[0, 0], [1, 1]]}]}, "zones.0.polygon"),
        ({"linez": []}, "linez"),
        ('{"lines": [', "not valid JSON"),
    ],
)
def test_bad_config(tmp_path: Path, content: object, needle: str) -> None:
    cfg = write_config(tmp_path, content)
    assert_one_line_error(run_cli(str(PETS_CLIP), "--config", str(cfg)), needle)


def test_missing_config(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    assert_one_line_error(run_cli(str(PETS_CLIP), "--config", str(missing)), "none.toml")


def test_missing_model(tmp_path: Path) -> None:
    data = {**CONFIG, "analysis": {"detector": {"model": str(tmp_path / "gone.onnx")}}}
    cfg = write_config(tmp_path, data)
    assert_one_line_error(run_cli(str(PETS_CLIP), "--config", str(cfg)), "gone.onnx")


def test_unwritable_output(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    bad = tmp_path / "no-such-dir" / "events.jsonl"
    assert_one_line_error(
        run_cli(str(PETS_CLIP), "--config", str(cfg), "--out", str(bad)), "events.jsonl"
    )


def _no_leftovers(folder: Path, *names: str) -> None:
    left = sorted(
        p.name for p in folder.iterdir() if p.suffix != ".json" and p.name != "vitrine-data"
    )
    assert left == sorted(names), left


def test_a_full_disk_is_one_line_and_leaves_no_partial_output(tmp_path: Path) -> None:
    """Writes fail mid-run (a file size limit stands in for a full disk: the same
    OSError on write)."""
    import resource
    import signal

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of dying
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))

    cfg = write_config(tmp_path, CONFIG)
    out = tmp_path / "events.jsonl"
    tracks = tmp_path / "tracks.txt"
    proc = subprocess.run(
        [sys.executable, "main.py", "analyze", str(PETS_CLIP), "--config", str(cfg),
         "--out", str(out), "--tracks", str(tracks), "--duration", "20", "--no-progress"],
        cwd=REPO, capture_output=True, text=True, timeout=240, preexec_fn=limit,
    )  # fmt: skip
    assert_one_line_error(proc, "cannot write", "File too large")
    _no_leftovers(tmp_path)  # neither the results nor their partial files


def test_a_corrupt_clip_leaves_no_partial_output(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    clip = tmp_path / "cut.avi"
    clip.write_bytes(PETS_CLIP.read_bytes()[:100_000])  # decoding stops early
    out = str(tmp_path / "e.jsonl")
    proc = run_cli(str(clip), "--config", str(cfg), "--out", out, "--no-progress")
    assert_one_line_error(proc, "cut.avi", "nothing was written")
    _no_leftovers(tmp_path, "cut.avi")


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--out", "{d}/x.txt", "--tracks", "{d}/x.txt"], "same file"),
        (["--out", "{d}/e.jsonl", "--tracks", "{d}/nodir/t.txt"], "no such directory"),
        (["--annotate", "{d}/a.txt"], "must end in .mp4"),
        (["--out", "{d}"], "is a directory"),
        (["--store", "{d}"], "is a directory"),
        (["--store", "{d}/nodir/s.db"], "no such directory"),
    ],
)
def test_bad_output_paths_are_refused_before_anything_is_written(
    tmp_path: Path, extra: list[str], needle: str
) -> None:
    cfg = write_config(tmp_path, CONFIG)
    args = [a.replace("{d}", str(tmp_path)) for a in extra]
    proc = run_cli(str(PETS_CLIP), "--config", str(cfg), "--no-progress", *args)
    assert_one_line_error(proc, needle)
    _no_leftovers(tmp_path)  # not even an empty events file


def test_an_output_may_not_overwrite_the_clip_or_the_config(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    clip = tmp_path / "clip.avi"
    clip.write_bytes(PETS_CLIP.read_bytes())
    before = clip.read_bytes(), cfg.read_bytes()
    assert_one_line_error(
        run_cli(str(clip), "--config", str(cfg), "--annotate", str(tmp_path / "clip.avi")),
        "is the clip",
    )
    assert_one_line_error(run_cli(str(clip), "--config", str(cfg), "--out", str(cfg)), "config")
    assert_one_line_error(run_cli(str(clip), "--config", str(cfg), "--store", str(cfg)), "config")
    assert (clip.read_bytes(), cfg.read_bytes()) == before


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-3"])
def test_a_duration_that_is_not_a_positive_number_is_refused(tmp_path: Path, value: str) -> None:
    cfg = write_config(tmp_path, CONFIG)
    proc = run_cli(str(PETS_CLIP), "--config", str(cfg), "--duration", value)
    assert_one_line_error(proc, "--duration")


def test_a_camera_url_is_refused_without_showing_its_password(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    proc = run_cli("rtsp://viewer:S3cr3t!pw@127.0.0.1:8554/cam", "--config", str(cfg))
    assert_one_line_error(proc, "rtsp://***@127.0.0.1:8554/cam", "serve")
    assert "S3cr3t" not in proc.stderr + proc.stdout


def test_a_link_is_written_through_not_replaced(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    target = tmp_path / "target.jsonl"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target.name)
    proc = run_cli(
        str(PETS_CLIP), "--config", str(cfg), "--out", str(link), "--duration", "6", "--no-progress"
    )
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and link.resolve() == target
    events = [json.loads(ln) for ln in target.read_text(encoding="utf-8").splitlines()]
    assert events and all("type" in e for e in events)
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name]


def test_events_on_stdout_keep_the_summary_out_of_them(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    proc = run_cli(
        str(PETS_CLIP), "--config", str(cfg), "--out", "-", "--duration", "6", "--no-progress"
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(ln) for ln in proc.stdout.splitlines()]  # every line is an event
    assert {e["type"] for e in events} >= {"zone_enter", "line_cross"}
    dwell = [e["dwell_s"] for e in events if "dwell_s" in e]
    assert all(d == round(d, 3) for d in dwell)
    assert "line plaza: in" in proc.stderr
    assert not (tmp_path / "-").exists() and not (REPO / "-").exists()


def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    proc = subprocess.Popen(
        [sys.executable, "main.py", "analyze", str(PETS_CLIP), "--config", str(cfg),
         "--out", "-", "--no-progress"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read()
    assert json.loads(first)["type"]
    assert proc.wait(timeout=240) == 141
    assert "Traceback" not in err and "error" not in err


def test_a_full_disk_under_the_annotated_video_is_reported(tmp_path: Path) -> None:
    """The video encoder does not report failed writes; the finished file is read back.
    (A file size limit stands in for a full disk.)"""
    import resource
    import signal

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    cfg = write_config(tmp_path, CONFIG)
    proc = subprocess.run(
        [sys.executable, "main.py", "analyze", str(PETS_CLIP), "--config", str(cfg),
         "--annotate", str(tmp_path / "a.mp4"), "--duration", "20", "--no-progress"],
        cwd=REPO, capture_output=True, text=True, timeout=240, preexec_fn=limit,
    )  # fmt: skip
    assert_one_line_error(proc, "cannot write", "a.mp4", "disk full")
    _no_leftovers(tmp_path)


def test_lines_naming_one_camera_make_the_clip_that_camera() -> None:
    from app.cli.analyze import clip_config
    from app.cli.main import CliError
    from app.config import AppConfig

    line = {"name": "door", "camera": "entrance", "start": [0, 50], "end": [100, 50]}
    cfg, camera = clip_config(AppConfig.model_validate({"lines": [line]}), PETS_CLIP, None)
    assert camera == "entrance" and [c.name for c in cfg.cameras] == ["entrance"]
    other = {**line, "name": "back", "camera": "yard"}
    with pytest.raises(CliError, match="entrance, yard"):
        clip_config(AppConfig.model_validate({"lines": [line, other]}), PETS_CLIP, None)


def test_a_line_outside_the_picture_gets_a_note(tmp_path: Path) -> None:
    far = {"name": "far", "start": [4320, 180], "end": [5000, 180]}
    lines = [{"name": "plaza", "start": [240, 60], "end": [240, 350]}, far]
    cfg = write_config(tmp_path, {**CONFIG, "lines": lines})
    proc = run_cli(str(PETS_CLIP), "--config", str(cfg), "--duration", "1", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    notes = [ln for ln in proc.stderr.splitlines() if ln.startswith("note:")]
    assert len(notes) == 1 and "'far'" in notes[0] and "480x360" in notes[0]


def test_every_command_runs_opencv_calls_on_their_own_thread(tmp_path: Path) -> None:
    """OpenCV's pool would preempt the inference threads (docs/performance.md)."""
    import cv2

    cv2.setNumThreads(2)
    assert main(["analyze", str(tmp_path / "nope.avi"), "--config", str(tmp_path / "c.toml")]) == 2
    assert cv2.getNumThreads() == 1
