"""What can be checked here of the installers: every script's syntax, the Linux
maintainer scripts' choices on a scratch root (no package needed), the macOS launchd
plists, the Windows MSI source, scheduled task and wrapper."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from installer.macos import plists
from tests.installer.conftest import REPO

INSTALLER = REPO / "installer"
LINUX = INSTALLER / "linux"
SH = sorted(
    [*INSTALLER.rglob("*.sh"), *(LINUX / n for n in ("preinst", "postinst", "prerm", "postrm")),
     *(INSTALLER / "macos" / "scripts").iterdir()]  # fmt: skip
)


@pytest.mark.parametrize("script", SH, ids=lambda p: str(p.relative_to(INSTALLER)))
def test_shell_scripts_parse(script: Path) -> None:
    first = script.read_text().splitlines()[0]
    shell = "bash" if "bash" in first or script.name == "common.sh" else "sh"
    proc = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _script(tmp: Path, name: str) -> Path:
    """A maintainer script as make_deb.sh packs it (common.sh inlined)."""
    common = (LINUX / "common.sh").read_text()
    text = (LINUX / name).read_text().replace("# @COMMON@\n", common)
    out = tmp / name
    out.write_text(text)
    out.chmod(0o755)
    return out


def _root(tmp: Path) -> Path:
    """A scratch root holding what the package's files would put there."""
    root = tmp / "root"
    (root / "usr/share/doc/vitrine").mkdir(parents=True)
    (root / "usr/share/applications").mkdir(parents=True)
    (root / "opt/vitrine").mkdir(parents=True)
    shutil.copy(LINUX / "install.conf.example", root / "usr/share/doc/vitrine")
    shutil.copy(LINUX / "vitrine.desktop", root / "usr/share/applications")
    return root


def _run(tmp: Path, root: Path, name: str, *args: str, **env: str) -> str:
    proc = subprocess.run(
        ["sh", str(_script(tmp, name)), *args], capture_output=True, text=True,
        env={"PATH": os.environ["PATH"], "DPKG_ROOT": str(root), **env},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_postinst_desktop_autostart_and_default_conf(tmp_path: Path) -> None:
    root = _root(tmp_path)
    out = _run(tmp_path, root, "postinst", "configure", "", VITRINE_AUTOSTART="desktop")
    assert "starts at every login" in out
    assert (root / "etc/xdg/autostart/vitrine.desktop").is_file()
    conf = (root / "etc/vitrine/install.conf").read_text()
    assert conf.strip().endswith("AUTOSTART=desktop")  # remembered for upgrades
    assert not (root / "etc/systemd/system/multi-user.target.wants/vitrine.service").exists()
    # switching to the service at the next upgrade, from the remembered file
    conf_path = root / "etc/vitrine/install.conf"
    conf_path.write_text(conf.replace("AUTOSTART=desktop", "AUTOSTART=serve"))
    _run(tmp_path, root, "postinst", "configure", "0.1.0")
    assert not (root / "etc/xdg/autostart/vitrine.desktop").exists()
    wants = root / "etc/systemd/system/multi-user.target.wants/vitrine.service"
    assert os.readlink(wants) == "/lib/systemd/system/vitrine.service"
    env = (root / "etc/vitrine/serve.env").read_text()
    assert env.startswith("VITRINE_STORE_PASSPHRASE=") and len(env.strip()) > 40
    assert (root / "etc/vitrine/serve.env").stat().st_mode & 0o777 == 0o600
    assert (root / "var/lib/vitrine").stat().st_mode & 0o777 == 0o700
    _run(tmp_path, root, "postinst", "configure", "0.1.0")  # the passphrase is kept
    assert (root / "etc/vitrine/serve.env").read_text() == env


def test_postinst_provisioning_file(tmp_path: Path) -> None:
    root = _root(tmp_path)
    f = tmp_path / "rivoli.json"
    f.write_text('{"format": "vitrine-provisioning"}')
    out = _run(tmp_path, root, "postinst", "configure", "", VITRINE_PROVISION=str(f))
    assert "provisioning file installed" in out
    dest = root / "etc/vitrine/provision.json"
    assert dest.read_text() == f.read_text()
    assert dest.stat().st_mode & 0o777 == 0o644  # the desktop user's app reads it
    _run(tmp_path, root, "postinst", "configure", "", VITRINE_PROVISION=str(f),
         VITRINE_AUTOSTART="serve")  # fmt: skip
    assert dest.stat().st_mode & 0o777 == 0o640  # root and group vitrine only
    out = _run(tmp_path, root, "postinst", "configure", "", VITRINE_PROVISION="/nope.json")
    assert "no such file, ignored" in out


def test_preinst_keeps_the_previous_version(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "opt/vitrine/vitrine").write_text("old")
    out = _run(tmp_path, root, "preinst", "upgrade", "0.1.0")
    assert "0.1.0 kept in /opt/vitrine.previous" in out
    assert (root / "opt/vitrine.previous/vitrine").read_text() == "old"
    assert (root / "opt/vitrine.previous/VERSION").read_text().strip() == "0.1.0"


def test_postrm_remove_keeps_purge_wipes(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _run(tmp_path, root, "postinst", "configure", "", VITRINE_AUTOSTART="serve")
    (root / "var/lib/vitrine/vitrine.db").write_text("data")
    out = _run(tmp_path, root, "postrm", "remove")
    assert "data kept" in out and (root / "var/lib/vitrine/vitrine.db").exists()
    assert not (root / "etc/systemd/system/multi-user.target.wants/vitrine.service").exists()
    _run(tmp_path, root, "postrm", "purge", VITRINE_KEEP_DATA="yes")
    assert (root / "var/lib/vitrine/vitrine.db").exists() and not (root / "etc/vitrine").exists()
    out = _run(tmp_path, root, "postrm", "purge")
    assert not (root / "var/lib/vitrine").exists() and "secrets" in out


def test_debian_control_and_unit() -> None:
    control = (LINUX / "control.in").read_text()
    for field in ("Package: vitrine", "Architecture: amd64", "Version: @VERSION@"):
        assert field in control
    unit = (LINUX / "vitrine.service").read_text()
    assert "ExecStart=/opt/vitrine/vitrine serve" in unit and "User=vitrine" in unit
    assert "EnvironmentFile=-/etc/vitrine/serve.env" in unit
    desktop = (LINUX / "vitrine.desktop").read_text()
    assert "Exec=/usr/bin/vitrine" in desktop and "Type=Application" in desktop


def test_macos_launchd_plists(tmp_path: Path) -> None:
    paths = plists.write(tmp_path)
    agent, daemon = (plistlib.loads(p.read_bytes()) for p in paths)
    assert agent["Label"] == "com.vitrine.desktop" and agent["RunAtLoad"] is True
    assert agent["ProgramArguments"] == [plists.APP_BIN]
    assert daemon["ProgramArguments"] == [plists.APP_BIN, "serve"]
    assert daemon["UserName"] == "_vitrine" and daemon["KeepAlive"] == {"SuccessfulExit": False}
    env = daemon["EnvironmentVariables"]
    assert env["VITRINE_PROVISION_FILE"].endswith("Vitrine/provision.json")
    post = (INSTALLER / "macos/scripts/postinstall").read_text()
    assert all(f"{p.name}" in post for p in paths)  # what postinstall installs exists


def test_windows_msi_source_task_and_wrapper() -> None:
    ns = {"w": "http://wixtoolset.org/schemas/v4/wxs"}
    wxs = ET.parse(INSTALLER / "windows/vitrine.wxs").getroot()
    props = {p.get("Id") for p in wxs.iterfind(".//w:Property", ns)}
    assert {"PROVISION", "AUTOSTART", "PURGE"} <= props
    copy = wxs.find(".//w:CopyFile", ns)
    assert copy is not None and copy.get("SourceProperty") == "PROVISION"
    assert copy.get("DestinationName") == "provision.json"
    run = [r for r in wxs.iterfind(".//w:RegistryValue", ns) if r.get("Name") == "Vitrine"]
    assert run and run[0].get("Key", "").endswith(r"CurrentVersion\Run")
    actions = {c.get("Id"): c.get("ExeCommand", "") for c in wxs.iterfind(".//w:CustomAction", ns)}
    assert "schtasks.exe" in actions["CreateServeTask"] and "/XML" in actions["CreateServeTask"]
    major = wxs.find(".//w:MajorUpgrade", ns)
    assert major is not None and major.get("AllowDowngrades") == "yes"  # rollback
    tns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    task = ET.parse(INSTALLER / "windows/serve-task.xml").getroot()
    assert task.find(".//t:BootTrigger", tns) is not None
    assert task.findtext(".//t:UserId", namespaces=tns) == "S-1-5-18"
    command = task.findtext(".//t:Command", namespaces=tns) or ""
    assert "vitrine-serve.cmd" in command
    cmd = (INSTALLER / "windows/vitrine-serve.cmd").read_bytes()
    assert b"\r\n" in cmd and b"vitrine.exe\" serve" in cmd
