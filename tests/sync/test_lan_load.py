"""Bounded load tests on `python main.py serve` as a real process on 127.0.0.1 (issue
24): 10,000 wrong pairing codes from one client get 429 after the limit, and a 50 MB
unsigned webhook body is refused 413 without the server's memory growing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.sync.lan import guard
from tests.conftest import REPO

BIG = 50 * 1024 * 1024
MAX_GROWTH_KB = 4 * 1024  # "a few MB"
JSON = {"Content-Type": "application/json"}


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        line = next(ln for ln in status.splitlines() if ln.startswith("VmRSS:"))
        return int(line.split()[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    env = {**os.environ, "VITRINE_DATA_DIR": str(tmp_path), "VITRINE_STORE_PASSPHRASE": "test-pw-1234"}
    argv = [sys.executable, "main.py", "serve", "--no-engine", "--http", "--port", str(port)]
    proc = subprocess.Popen(
        [*argv, "--host", "127.0.0.1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "serving tablets" in proc.stdout.readline():
                break
        else:
            pytest.fail("serve did not start")
        yield Served(proc, port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_10000_wrong_pairing_codes_get_429_after_the_limit(served: Served) -> None:
    statuses: Counter[int] = Counter()
    first: list[int] = []
    t0 = time.monotonic()
    with httpx.Client(base_url=served.base, timeout=10) as c:
        for i in range(10_000):
            code = f"G{i:07d}"
            if i % 2:
                r = c.post("/api/v1/pairing", json={"code": code, "salesperson_id": 1, "pin": "0"})
            else:
                r = c.get("/api/v1/pairing", params={"code": code})
            statuses[r.status_code] += 1
            if i < 20:
                first.append(r.status_code)
        elapsed = time.monotonic() - t0
        assert c.get("/tablet/").status_code == 200  # the server still serves
    limit = guard.PAIR_CLIENT_FAILURES
    assert first == [401] * limit + [429] * (20 - limit)
    assert statuses == {401: limit, 429: 10_000 - limit}
    assert elapsed < 120, f"{elapsed:.1f} s"
    print(f"10,000 wrong pairing codes in {elapsed:.1f} s ({10_000 / elapsed:.0f}/s)")


def _send_big(port: int, chunked: bool) -> tuple[bytes, int]:
    """POST 50 MB of body to the webhook, unsigned, all of it unless the server closes
    the connection; returns what the server answered and the bytes of body sent."""
    head = [
        "POST /api/v1/pos/webhook HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BIG}",
        "",
        "",
    ]
    chunk = b"9" * 65536
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall("\r\n".join(head).encode())
        answer = bytearray()

        def read() -> None:
            try:
                while data := s.recv(65536):
                    answer.extend(data)
                    if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                        return
            except OSError:
                return

        reader = threading.Thread(target=read)
        reader.start()
        sent = 0
        try:
            for _ in range(BIG // len(chunk)):
                s.sendall(frame)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection (or stopped reading): it has answered
        reader.join(15)
        assert not reader.is_alive()
    return bytes(answer), sent


def test_50mb_unsigned_webhook_is_413_without_the_server_growing(served: Served) -> None:
    with httpx.Client(base_url=served.base, timeout=10) as c:  # warm up the paths involved
        for _ in range(3):
            r = c.post("/api/v1/pos/webhook", content=b"{}", headers=JSON)
            assert r.status_code == 401
    _send_big(served.port, chunked=False)
    time.sleep(0.5)
    before = served.rss_kb()
    for chunked in (False, True, False, True):
        answer, sent = _send_big(served.port, chunked)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"larger than 256 KB" in answer and sent < BIG  # it stopped taking the body
        print(f"{'chunked' if chunked else 'Content-Length'}: {sent / 2**20:.1f} MB sent")
    time.sleep(0.5)
    after = served.rss_kb()
    print(f"server RSS {before / 1024:.1f} MB -> {after / 1024:.1f} MB after 4 x 50 MB bodies")
    assert after - before < MAX_GROWTH_KB, (before, after)
    with httpx.Client(base_url=served.base, timeout=10) as c:
        assert c.get("/tablet/").status_code == 200
