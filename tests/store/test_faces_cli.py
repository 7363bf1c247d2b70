"""`python main.py faces ...` on a real encrypted store and the real face models."""

from __future__ import annotations

import pytest

from app.cli.main import main
from tests.conftest import MEDIA

F = MEDIA / "faces"


def test_faces_cli_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    def run(*argv: str) -> tuple[int, str]:
        rc = main(["faces", *argv])
        out = capsys.readouterr()
        return rc, out.out + out.err

    rc, out = run("enrol", "Ana", "--role", "staff", str(F / "obama__obama.jpg"))
    assert rc == 2 and "consent" in out and "Traceback" not in out
    rc, out = run("enrol", "Ana", "--role", "staff", "--consent", "--by", "manager",
                  str(F / "obama__obama.jpg"), str(F / "obama__obama2.jpg"))  # fmt: skip
    assert rc == 0 and "enrolled Ana as staff from 2 photo(s)" in out
    rc, out = run("enrol", "Kit", "--role", "optout", str(F / "kit_harington__john1.jpeg"))
    assert rc == 0
    rc, out = run("list")
    assert "Ana  [staff]" in out and "Kit  [optout]" in out
    rc, out = run("compare", str(F / "biden__biden.jpg"), str(F / "biden__biden2.jpg"))
    assert rc == 0 and "same person" in out
    rc, out = run("compare", str(F / "biden__biden.jpg"), str(F / "obama__obama.jpg"))
    assert rc == 0 and "different people" in out
    rc, out = run("erase", "--photo", str(F / "obama__obama2.jpg"), "--by", "manager")
    assert rc == 0 and "deleted: staff enrolment of Ana" in out and "audit log" in out
    rc, out = run("erase", "--photo", str(F / "obama__obama2.jpg"), "--dry-run")
    assert "would delete: 0 visitor template(s), 0 picture(s)" in out
    rc, out = run("remove", "Kit")
    assert rc == 0
    rc, out = run("list")
    assert "nobody enrolled" in out
    rc, out = run("remove", "Kit")
    assert rc == 2 and "nobody called 'Kit'" in out
