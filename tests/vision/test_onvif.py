"""ONVIF discovery against a fake camera: a real UDP WS-Discovery responder and a real
HTTP SOAP server on 127.0.0.1 (the probe goes to its port instead of the multicast group)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.vision import onvif
from tests.vision.onvif_fake import FakeOnvifCamera


@pytest.fixture
def camera() -> Iterator[FakeOnvifCamera]:
    cam = FakeOnvifCamera()
    try:
        yield cam
    finally:
        cam.close()


def test_probe_finds_the_camera_and_its_name(camera: FakeOnvifCamera) -> None:
    [dev] = onvif.probe(camera.probe_target, timeout_s=0.6)
    assert dev.xaddrs == (f"{camera.base}/onvif/device_service",)
    assert (dev.name, dev.hardware, dev.host) == ("Shop door", "XY-200", "127.0.0.1")


def test_discover_reads_the_rtsp_address_with_the_password(camera: FakeOnvifCamera) -> None:
    steps = list(onvif.discover("admin", "secret", camera.probe_target, timeout_s=0.6))
    assert [s.phase for s in steps] == ["probe", "profiles", "done"]
    assert "Reading the stream address of Shop door (127.0.0.1)" in steps[1].message
    [cam] = steps[-1].cameras
    assert cam.rtsp_url == "rtsp://127.0.0.1:8554/Streaming/Channels/101" and not cam.problem
    assert steps[-1].message == "Found 1 camera: choose one to fill in its address."
    assert camera.requests == [
        "/onvif/device_service GetCapabilities",
        "/onvif/media GetProfiles",
        "/onvif/media GetStreamUri",
    ]


def test_a_wrong_password_is_said_in_words(camera: FakeOnvifCamera) -> None:
    [cam] = list(onvif.discover("admin", "nope", camera.probe_target, timeout_s=0.6))[-1].cameras
    assert cam.rtsp_url == "" and cam.problem == "the camera refused the user name or password"


def test_nobody_answering_says_what_to_check() -> None:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))  # a port that never answers
    try:
        last = list(onvif.discover(target=s.getsockname(), timeout_s=0.3))[-1]
    finally:
        s.close()
    assert last.cameras == [] and "No ONVIF camera answered" in last.message


def test_probe_matches_ignore_other_answers() -> None:
    assert onvif.parse_probe_matches(b"not xml") == []
    assert onvif.parse_probe_matches(b"<a/>") == []
