"""The launchd definitions of the macOS package (written at build time beside its
postinstall script, which installs the one the IT person chose):

  com.vitrine.desktop.plist  LaunchAgent: the desktop app at every user's login
  com.vitrine.serve.plist    LaunchDaemon: headless `serve` at boot, as user _vitrine, with
                             its data in /Library/Application Support/Vitrine/data
"""

from __future__ import annotations

import plistlib
import sys
from pathlib import Path
from typing import Any

APP_BIN = "/Applications/Vitrine.app/Contents/MacOS/vitrine"
SUPPORT = "/Library/Application Support/Vitrine"


def desktop_agent() -> dict[str, Any]:
    return {
        "Label": "com.vitrine.desktop",
        "ProgramArguments": [APP_BIN],
        "RunAtLoad": True,
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
    }


def serve_daemon() -> dict[str, Any]:
    return {
        "Label": "com.vitrine.serve",
        "ProgramArguments": [APP_BIN, "serve"],
        "UserName": "_vitrine",
        "GroupName": "_vitrine",
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 10,
        "EnvironmentVariables": {
            "VITRINE_DATA_DIR": f"{SUPPORT}/data",
            "VITRINE_PROVISION_FILE": f"{SUPPORT}/provision.json",
            "QT_QPA_PLATFORM": "offscreen",
        },
        "StandardOutPath": f"{SUPPORT}/serve.log",
        "StandardErrorPath": f"{SUPPORT}/serve.log",
    }


def write(out: Path) -> list[Path]:
    paths = []
    for d in (desktop_agent(), serve_daemon()):
        p = out / f"{d['Label']}.plist"
        p.write_bytes(plistlib.dumps(d))
        paths.append(p)
    return paths


if __name__ == "__main__":
    for p in write(Path(sys.argv[1])):
        print(p)
