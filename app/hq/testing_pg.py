"""A throwaway PostgreSQL server for tests and benchmarks (the real Debian binaries).

`TempPostgres` runs `initdb` into a temporary directory, starts the server with `pg_ctl`
on a free 127.0.0.1 port (its unix socket also lives in the temporary directory), and
removes everything on `stop()`. PostgreSQL refuses to run as root, so when this process
is root the binaries run as the `postgres` system user through `runuser`.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed on this machine."""


def find_pg_bin() -> Path:
    """The directory holding initdb/pg_ctl (newest Debian version first, then PATH)."""
    env = os.environ.get("VITRINE_PG_BIN")
    candidates = [Path(env)] if env else []
    versions = sorted(
        glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name or 0), reverse=True
    )
    candidates += [Path(p) for p in versions]
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(which).resolve().parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; "
        "install the Debian package 'postgresql' (scripts/install-system-deps.sh)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class TempPostgres:
    """A private PostgreSQL cluster. `durable=False` turns fsync off (fast tests)."""

    durable: bool = False
    port: int = 0
    bin_dir: Path = field(default_factory=find_pg_bin)
    root: Path | None = None
    _as_postgres: bool = False

    def _cmd(self, *args: str) -> list[str]:
        if self._as_postgres:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run(
            self._cmd(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {proc.stderr.strip() or proc.stdout}")

    def start(self) -> str:
        """Create and start the cluster; returns the URL of the `postgres` database."""
        self._as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="vitrine-pg-"))
        data, sock = self.root / "data", self.root / "sock"
        sock.mkdir()
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            for p in (self.root, sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self.port = self.port or free_port()
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        )
        opts = [
            f"-p {self.port}",
            f"-k {sock}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
        ]
        if not self.durable:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            " ".join(opts),
            "start",
        )
        log.info("temporary PostgreSQL on 127.0.0.1:%s (%s)", self.port, self.root)
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """CREATE DATABASE name; returns its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.root is None:
            return
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            try:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                log.warning("could not stop the temporary PostgreSQL: %s", exc)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> TempPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_port(host: str, port: int, timeout: float = 30.0) -> bool:
    """True once something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class HqProcess:
    """`python main.py hq ...` as a child process (the real uvicorn server), for tests
    and benchmarks: `start()`, `kill()` (SIGKILL, no goodbye), `stop()` (SIGTERM)."""

    def __init__(self, database_url: str, port: int | None = None) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> HqProcess:
        import sys

        from app.paths import REPO_ROOT

        fd, name = tempfile.mkstemp(prefix="vitrine-hq-", suffix=".log")
        self._log = Path(name)
        cmd = [sys.executable, str(REPO_ROOT / "main.py"), "hq", "--database-url",
               self.database_url, "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=fd, stderr=fd)
        os.close(fd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"HQ exited with {self.proc.returncode}: {self.output()}")
            if self._healthy():
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"HQ did not become healthy within {timeout} s: {self.output()}")

    def _healthy(self) -> bool:
        import httpx

        try:
            return httpx.get(self.base_url + "/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        return self._log.read_text(errors="replace")[-2000:] if self._log else ""

    def kill(self) -> None:
        """SIGKILL: the server dies mid-whatever, like a power cut."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.unlink(missing_ok=True)
