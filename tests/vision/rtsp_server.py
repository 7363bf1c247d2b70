#!/usr/bin/python3
"""A real RTSP camera for tests: GStreamer's RTSP server serving an H.264 AVI clip.

Run by the SYSTEM python3 (python3-gi + gir1.2-gst-rtsp-server-1.0), not the venv:

    /usr/bin/python3 tests/vision/rtsp_server.py --port 8554 --clip CLIP.avi \
        [--mount /cam] [--user U --password P] [--auth basic|digest]

Each client gets its own pipeline that plays the clip once from its start at real-time
pace (`avidemux ! h264parse ! rtph264pay`): 79 s of the PETS clip, longer than any test
session. (Looping it with a flushing segment seek raced with the client's PLAY and
tripped an assertion in gst_rtsp_media_get_rates on GStreamer 1.22, so it does not.)
Only TCP transport is offered, so a client that streams proves it asked for TCP. With
--user/--password the mount requires RTSP authentication (GstRTSPAuth, Basic or
Digest). Prints "READY <port>" on stdout once it listens.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def _add_auth(server: GstRtspServer.RTSPServer, factory: object, args: argparse.Namespace) -> None:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "user")
    if args.auth == "digest":
        auth.add_digest(args.user, args.password, token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    else:
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
    server.set_auth(auth)
    perms = GstRtspServer.RTSPPermissions()
    perms.add_permission_for_role("user", "media.factory.access", True)
    perms.add_permission_for_role("user", "media.factory.construct", True)
    factory.set_permissions(perms)  # type: ignore[attr-defined]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--clip", required=True)
    p.add_argument("--mount", default="/cam")
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--auth", choices=["basic", "digest"], default="basic")
    args = p.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    clip = args.clip.replace('"', "")
    factory.set_launch(
        f'( filesrc location="{clip}" ! avidemux ! h264parse config-interval=-1 '
        "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory.set_shared(False)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)  # proves clients use TCP transport
    if args.user:
        _add_auth(server, factory, args)
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
