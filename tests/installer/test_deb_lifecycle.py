"""The Linux package end to end, as a store's IT person uses it: install into a clean
root (dpkg --root: no checkout, no ../shared, no pip, no network, an empty environment),
`vitrine selftest` (models inside the package, detector on the bundled sample, store
created encrypted), headless `serve` enrolling from the provisioning file against a real
HQ receiver and syncing, an upgrade to a package with a new store migration (backup,
migration, data kept, previous version kept), then remove (data kept) and purge."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.hq import db, stores
from app.hq.testing_pg import HqProcess, TempPostgres
from app.store import migrate
from tests.installer.conftest import REPO, BuiltPackage

pytestmark = [pytest.mark.slow, pytest.mark.installer, pytest.mark.timeout(2700)]

MIGRATION = '''"""installer test: a new table, to see an upgrade migrate the store

Revision ID: {rev}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("installer_probe", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("installer_probe")
'''


@pytest.fixture(scope="module")
def hq(pg_server: TempPostgres) -> Iterator[tuple[HqProcess, object]]:
    name = f"hq_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    engine = db.make_engine(url, pool_size=2)
    db.migrate(engine)
    process = HqProcess(url).start()
    try:
        yield process, engine
    finally:
        process.stop()
        engine.dispose()
        pg_server.drop_database(name)


def _dpkg(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """dpkg on the clean root, maintainer scripts run outside a chroot with DPKG_ROOT."""
    cmd = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
           "--log=/dev/null", *args]  # fmt: skip
    full = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **(env or {})}
    proc = subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _fresh_root(tmp: Path) -> Path:
    root = tmp / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "home"):
        (root / d).mkdir(parents=True)
    (root / "var/lib/dpkg/status").touch()
    (root / "var/lib/dpkg/available").touch()
    return root


def _env(root: Path, **extra: str) -> dict[str, str]:
    """An empty environment: nothing of the checkout, its venv or ../shared leaks in."""
    pp = (root / "etc/vitrine/serve.env").read_text().strip().split("=", 1)[1]
    return {"PATH": "/usr/bin:/bin", "HOME": str(root / "home"), "LANG": "C.UTF-8",
            "VITRINE_DATA_DIR": str(root / "var/lib/vitrine"),
            "VITRINE_STORE_PASSPHRASE": pp, "QT_QPA_PLATFORM": "offscreen", **extra}  # fmt: skip


def _vitrine(root: Path, *args: str, timeout: float = 300, **extra: str) -> str:
    proc = subprocess.run([str(root / "opt/vitrine/vitrine"), *args], env=_env(root, **extra),
                          cwd=root / "home", capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert proc.returncode == 0, f"vitrine {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _batches(engine: object, store_id: str) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        q = text("SELECT count(*) FROM batches WHERE store_id = :s")
        return int(conn.execute(q, {"s": store_id}).scalar_one())


def _serve_until_synced(
    root: Path, engine: object, store_id: str, log: Path, enrol: bool = True
) -> str:
    """Start `vitrine serve` headless; wait for the enrolment line (first start) and a new
    batch at HQ."""
    before = _batches(engine, store_id)
    env = _env(root, VITRINE_PROVISION_FILE=str(root / "etc/vitrine/provision.json"))
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(root / "opt/vitrine/vitrine"), "serve", "--http", "--host", "127.0.0.1",
             "--port", str(_free_port())],
            env=env, cwd=root / "home", stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and proc.poll() is None:
                enrolled = "enrolled with HQ" in log.read_text()
                if enrolled == enrol and _batches(engine, store_id) > before:
                    break
                time.sleep(1)
            assert proc.poll() is None, log.read_text()
            assert _batches(engine, store_id) > before, log.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    return log.read_text()


def test_install_selftest_enrol_sync_upgrade_remove(
    built_deb: BuiltPackage, hq: tuple[HqProcess, object], tmp_path: Path
) -> None:
    process, engine = hq
    root = _fresh_root(tmp_path)
    store_id = f"inst-{uuid.uuid4().hex[:8]}"
    prov = stores.create_store(engine, store_id, "Rivoli", "Europe/Paris",  # type: ignore[arg-type]
                               stores.Profile(), process.base_url)  # fmt: skip
    prov_file = tmp_path / "rivoli.json"
    prov_file.write_text(json.dumps(prov))

    # install: the headless service at boot, the provisioning file in its known place
    out = _dpkg(root, "-i", str(built_deb.deb),
                env={"VITRINE_AUTOSTART": "serve", "VITRINE_PROVISION": str(prov_file)})  # fmt: skip
    assert "provisioning file installed" in out
    assert (root / "usr/bin/vitrine").is_file() and (root / "opt/vitrine/vitrine").is_file()
    assert (root / "usr/share/applications/vitrine.desktop").is_file()
    wants = root / "etc/systemd/system/multi-user.target.wants/vitrine.service"
    assert os.readlink(wants) == "/lib/systemd/system/vitrine.service"
    assert not (root / "etc/xdg/autostart/vitrine.desktop").exists()
    assert (root / "etc/vitrine/serve.env").stat().st_mode & 0o077 == 0
    assert "AUTOSTART=serve" in (root / "etc/vitrine/install.conf").read_text()

    # selftest: every check from the package alone
    t0 = time.monotonic()
    st = _vitrine(root, "selftest")
    first_start_s = time.monotonic() - t0
    print(f"\nselftest (first start) {first_start_s:.1f} s:\n{st}")
    assert "ready" in st.splitlines()[-1]
    models = _vitrine(root, "models", "list")
    assert "yolox_nano" in models and "package" in models and "/shared/" not in models
    assert "sample.avi" in st and "encrypted with SQLCipher" in st
    assert (root / "var/lib/vitrine/vitrine.db").read_bytes()[:16] != b"SQLite format 3\x00"
    assert "cameras this machine holds" in st

    # a camera on the bundled sample, quick sync cycles, then serve with the file
    sample = root / "opt/vitrine/_internal/samples/sample.avi"
    _vitrine(root, "cameras", "add", "sample", str(sample))
    log = _serve_until_synced(root, engine, store_id, tmp_path / "serve1.log")
    print(log)
    assert f"as store {store_id}; sync is on" in log
    config = root / "var/lib/vitrine/config.toml"
    assert f'id = "{store_id}"' in config.read_text()
    marker = json.loads((root / "var/lib/vitrine/provisioned.json").read_text())
    assert marker["outcome"] == "enrolled"

    # upgrade to a package with one more store migration
    head = migrate.head_revision()
    new_rev = f"{int(head) + 1:04d}"
    mig = tmp_path / "mig"
    mig.mkdir()
    (mig / f"{new_rev}_installer_probe.py").write_text(MIGRATION.format(rev=new_rev, down=head))
    new_version = built_deb.version + ".1"
    dist = tmp_path / "dist"
    proc = subprocess.run(["bash", "installer/build.sh", "--repack"], cwd=REPO,
                          env={**os.environ, "VITRINE_PKG_VERSION": new_version,
                               "VITRINE_EXTRA_MIGRATIONS": str(mig), "VITRINE_DEB_COMPRESS": "zstd"},
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    deb2 = REPO / "dist" / f"vitrine_{new_version}_amd64.deb"
    dist.mkdir()
    deb2 = deb2.rename(dist / deb2.name)
    before = set((root / "var/lib/vitrine/backups").glob("*")) if (
        root / "var/lib/vitrine/backups").exists() else set()  # fmt: skip
    out = _dpkg(root, "-i", str(deb2))
    assert f"version {built_deb.version} kept in /opt/vitrine.previous" in out
    assert f"to {new_rev}" in out, out  # the postinst migrated the service's store
    assert (root / "opt/vitrine.previous/VERSION").read_text().strip() == built_deb.version
    backups = set((root / "var/lib/vitrine/backups").glob("*")) - before
    assert backups, "no backup was made before the migration"
    info = _vitrine(root, "store", "info")
    assert f"schema:     {new_rev}" in info  # migrated
    assert f'id = "{store_id}"' in config.read_text()  # same store, same data
    assert "sample" in _vitrine(root, "cameras", "list")
    # the second start does not spend the token again; sync still works
    log = _serve_until_synced(root, engine, store_id, tmp_path / "serve2.log", enrol=False)
    assert "enrolled with HQ" not in log and "provisioning file" not in log

    # remove: the program goes, the data and secrets stay
    _dpkg(root, "-r", "vitrine")
    assert not (root / "opt/vitrine").exists() and not wants.exists()
    assert (root / "var/lib/vitrine/vitrine.db").is_file()
    assert (root / "etc/vitrine/serve.env").is_file()
    # purge: data and secrets wiped
    _dpkg(root, "-P", "vitrine")
    assert not (root / "var/lib/vitrine").exists() and not (root / "etc/vitrine").exists()
