"""Grab one frame from a camera config (for "Test connection" and the zone editor).

Runs in a worker thread, never on the GUI thread, through the same camera sources the
engine uses (so "auth failed" and "offline" are told apart the same way). Credentials
are never logged (`redact` gives a printable URL).
"""

from __future__ import annotations

import logging

import numpy as np

from app.config import CameraConfig
from app.vision.camera_net import redact

__all__ = ["SnapshotError", "grab_snapshot", "redact"]

log = logging.getLogger(__name__)


class SnapshotError(Exception):
    """The camera gave no picture; the message says why, for a person."""


def grab_snapshot(cfg: CameraConfig, attempts: int = 10) -> np.ndarray:
    """One BGR frame from the camera, or SnapshotError with a readable reason."""
    from app.vision.cameras import CameraError, create_source

    where = f"USB camera {cfg.usb_index}" if cfg.type == "usb" else redact(cfg.url)
    try:
        source = create_source(cfg)
    except ValueError as exc:
        raise SnapshotError(str(exc)) from None
    try:
        source.open()
        for _ in range(attempts):
            frame = source.read()
            if frame is not None and frame.size:
                return np.ascontiguousarray(frame)
        raise SnapshotError(f"{where} answered but sent no picture")
    except CameraError as exc:  # its message says what (wrong password, no stream, ...)
        raise SnapshotError(exc.message) from None
    finally:
        try:
            source.close()
        except Exception:  # closing a half-open source must not hide the real answer
            log.debug("closing the snapshot source failed", exc_info=True)
