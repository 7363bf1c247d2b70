"""Camera barcode scanning in a real headless Chromium, with a camera that is real as far
as the page can tell: Chromium's fake capture device plays a video this test renders
(a product tag with an EAN-13 whose check digit is wrong, then one with a valid EAN-13).
Linux Chromium has no BarcodeDetector, so this runs the vendored ZXing decoder, the
path iPad Safari takes. The page is served over HTTPS under a LAN-like name (not
localhost), as a store tablet sees it.

Set VITRINE_SCREENSHOTS=1 to refresh docs/screenshots/tablet-camera-scan.png.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import qrcode
from sqlalchemy import select

from app.config import LanConfig
from app.events import EventBus
from app.store.db import Store
from app.store.models import ItemScan
from app.sync.lan.server import LanServer
from tests.e2e.test_tablet_e2e import ARGS, CHROMIUM, ITEMS, _shot, store  # noqa: F401

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]

GOOD, GOOD_NAME = ITEMS[0][0], ITEMS[0][1]  # 4006381333931, in the catalog
BAD = "5012345678901"  # 501234567890 + a wrong check digit (the right one is 0)
HOST = "vitrine.test"  # resolved to 127.0.0.1 by Chromium: not a localhost origin
RESOLVE = f"--host-resolver-rules=MAP {HOST} 127.0.0.1"

# --- EAN-13, drawn from its tables ------------------------------------------------------

_L = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011"]
_L += ["0110111", "0001011"]
_R = ["".join("1" if b == "0" else "0" for b in p) for p in _L]
_G = [r[::-1] for r in _R]
_PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLG", "LGLGGL"]
_PARITY += ["LGLGLG", "LGGLGL"]


def ean13_check_digit(body: str) -> int:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body[:12]))
    return (10 - total % 10) % 10


def ean13_modules(code: str) -> str:
    """The 95 modules (1 = bar) of a 13-digit code, drawn as given (even a wrong check digit)."""
    d = [int(c) for c in code]
    left = "".join((_L if p == "L" else _G)[x] for p, x in zip(_PARITY[d[0]], d[1:7], strict=True))
    return "101" + left + "01010" + "".join(_R[x] for x in d[7:]) + "101"


def ean13_image(code: str, module: int = 2, height: int = 80) -> np.ndarray:
    bits = ean13_modules(code)
    quiet = 11
    img = np.full((height + 20, (len(bits) + 2 * quiet) * module), 255, np.uint8)
    for i, b in enumerate(bits):
        if b == "1":
            img[:height, (quiet + i) * module : (quiet + i + 1) * module] = 0
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, _), _ = cv2.getTextSize(code, font, 0.45, 1)
    cv2.putText(img, code, ((img.shape[1] - tw) // 2, height + 15), font, 0.45, 0, 1, cv2.LINE_AA)
    return img


def tag_frame(code: str, name: str, price: str, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A product tag on a shop counter, as the tablet's rear camera would see it (BGR)."""
    w, h = size
    ramp = np.linspace(0.75, 1.0, w, dtype=np.float32)[None, :, None]
    frame = (np.array([70, 98, 132], np.float32) * ramp * np.ones((h, 1, 1), np.float32)).astype(
        np.uint8
    )
    bars = cv2.cvtColor(ean13_image(code), cv2.COLOR_GRAY2BGR)
    bh, bw = bars.shape[:2]
    x0, y0 = (w - bw) // 2, int(h * 0.46) - 40  # bars inside the sheet's aiming frame
    cv2.rectangle(frame, (x0 - 12, y0 - 58), (x0 + bw + 12, y0 + bh + 10), (255, 255, 255), -1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(frame, name, (x0 + 10, y0 - 30), font, 0.6, (40, 36, 16), 2, cv2.LINE_AA)
    cv2.putText(frame, price, (x0 + 10, y0 - 8), font, 0.5, (118, 110, 15), 1, cv2.LINE_AA)
    frame[y0 : y0 + bh, x0 : x0 + bw] = bars
    return frame


def write_y4m(path: Path, segments: list[tuple[np.ndarray, float]], fps: int = 4) -> None:
    """A looping Y4M (4:2:0) for --use-file-for-fake-video-capture: each (frame, seconds)
    segment with a little camera shake and sensor noise."""
    h, w = segments[0][0].shape[:2]
    rng = np.random.default_rng(5)
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame, seconds in segments:
            for _ in range(round(seconds * fps)):
                dx, dy = rng.integers(-2, 3, 2)
                shaken = np.roll(frame, (int(dy), int(dx)), axis=(0, 1))
                noisy = shaken.astype(np.int16) + rng.normal(0, 3, shaken.shape).astype(np.int16)
                img = cv2.GaussianBlur(np.clip(noisy, 0, 255).astype(np.uint8), (3, 3), 0)
                f.write(b"FRAME\n" + cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420).tobytes())


def test_ean13_tables_agree_with_the_catalog_codes() -> None:
    for code, *_ in ITEMS:
        assert ean13_check_digit(code) == int(code[12]), code
    assert ean13_check_digit(BAD) != int(BAD[12])
    assert len(ean13_modules(GOOD)) == 95


# --- the browser --------------------------------------------------------------------------

RECORD_STREAMS = """
window.__streams = [];
if (navigator.mediaDevices) {
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const s = await gum(c); window.__streams.push(s); return s;
  };
}
"""
ALL_ENDED = "window.__streams.every(s => s.getTracks().every(t => t.readyState === 'ended'))"
HIDE_PAGE = """() => {
  Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
  Object.defineProperty(document, 'hidden', { value: true, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def _scans(db: Store) -> list[str]:
    with db.read_session() as s:
        return list(s.scalars(select(ItemScan.barcode).order_by(ItemScan.id)))


def _pair_and_start_walk_in(page: Any, base: str, server: LanServer) -> None:
    page.goto(f"{base}/tablet/#pair={server.new_pairing_code().code}")
    page.click("[data-person='Anna Moreau']")
    for d in "1234":
        page.click(f".pinpad button:text-is('{d}')")
    page.click(".pinpad button:text-is('OK')")
    page.wait_for_selector("h1:text-is('Plaza')")
    page.click("button:has-text('Walk-in service')")
    page.wait_for_selector("#barcode")


def test_camera_scan_lands_once(store: Store, tmp_path: Path) -> None:  # noqa: F811
    video = tmp_path / "camera.y4m"
    write_y4m(
        video,
        [
            (tag_frame(BAD, "Damaged label", "bad check digit"), 3.0),
            (tag_frame(GOOD, GOOD_NAME, "129.00"), 10.0),
        ],
    )
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        RESOLVE,
    ]
    server = LanServer(
        store, EventBus(), LanConfig(), store_name="Rue Vitrine", port=0, host="127.0.0.1"
    )
    server.start()
    try:
        with playwright_sync.sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=[*ARGS, *camera], headless=True
            )
            try:
                ctx = browser.new_context(
                    viewport={"width": 1024, "height": 768},
                    has_touch=True,
                    ignore_https_errors=True,
                )
                page = ctx.new_page()
                page.add_init_script(RECORD_STREAMS)
                assert server.scheme == "https"
                _scan_with_camera(page, f"https://{HOST}:{server.port}", server, store, tmp_path)
            finally:
                browser.close()
    finally:
        server.stop()
        video.unlink()  # ~24 MB


def _scan_with_camera(page: Any, base: str, server: LanServer, db: Store, tmp: Path) -> None:
    _pair_and_start_walk_in(page, base, server)
    assert page.evaluate("isSecureContext && !('BarcodeDetector' in window)")
    page.click("#camera-btn")
    page.wait_for_selector("#cam-status[data-state='scanning']", timeout=15_000)
    # a Wi-Fi drop: the camera's scan waits in the offline queue like a typed one
    page.context.set_offline(True)
    # the damaged label comes first and must not be recorded; then the good one, once
    page.wait_for_selector(f"#cam-last[data-barcode='{GOOD}']", timeout=20_000)
    first_read = time.monotonic()
    page.wait_for_selector(f".item[data-barcode='{GOOD}'] .state:text-is('Sending')")
    page.wait_for_timeout(1000)
    assert _scans(db) == []
    page.context.set_offline(False)
    page.wait_for_selector(
        f"#cam-last[data-barcode='{GOOD}'] strong:text-is('{GOOD_NAME}')", timeout=20_000
    )
    assert _scans(db) == [GOOD]
    # the code stays in front of the camera (the video's good part lasts 10 s): one scan
    page.wait_for_timeout(max(0.0, 4500 - 1000 * (time.monotonic() - first_read)))
    assert _scans(db) == [GOOD]
    assert page.text_content("#cam-last .count") == "1 added"
    assert page.locator(".item").count() == 1
    _shot(page, tmp, "tablet-camera-scan.png")
    page.click("#cam-done")
    page.wait_for_selector(".camera", state="detached")
    assert page.evaluate(ALL_ENDED), "the camera kept running after Done"
    page.wait_for_selector(f".item[data-barcode='{GOOD}'] .name:text-is('{GOOD_NAME}')")
    # hiding the page (tablet locked, app switched) stops the camera too
    page.click("#camera-btn")
    page.wait_for_selector("#cam-status[data-state='scanning']", timeout=15_000)
    page.evaluate(HIDE_PAGE)
    page.wait_for_selector(".camera", state="detached")
    assert page.evaluate("window.__streams.length") == 2
    assert page.evaluate(ALL_ENDED), "the camera kept running on a hidden page"
    assert BAD not in _scans(db)


# --- the decoder on still images, and what the sheet says when the camera cannot run --------

DECODE = """async (cases) => {
  const { createDecoder } = await import('/tablet/js/decoders.js');
  const dec = await createDecoder('zxing');
  const out = {};
  for (const [name, c] of Object.entries(cases)) {
    const grey = Uint8Array.from(atob(c.b64), (ch) => ch.charCodeAt(0));
    const img = new ImageData(c.w, c.h);
    grey.forEach((v, i) => img.data.set([v, v, v, 255], i * 4));
    out[name] = await dec.detect(img);
  }
  dec.close();
  return out;
}"""
RULES = """async () => {
  const s = await import('/tablet/js/scanner.js');
  const d = new s.HoldDebounce(2000);
  return {
    check: [['4006381333931', 'ean_13'], ['4006381333932', 'ean_13'], ['96385074', 'ean_8'],
            ['96385075', 'ean_8'], ['036000291452', 'upc_a'], ['036000291453', 'upc_a'],
            ['01234565', 'upc_e'], ['01234564', 'upc_e'], ['ABC-123', 'code_128']]
      .map(([c, f]) => s.checkDigitOk(c, f)),
    hold: [['A', 0], ['A', 1500], ['A', 3000], ['A', 5100], ['B', 5200]].map(([c, t]) => d.accept(c, t)),
    errors: ['NotAllowedError', 'NotFoundError', 'OverconstrainedError', 'NotReadableError', 'TypeError']
      .map((name) => s.cameraErrorMessage(new DOMException('x', name))),
  };
}"""


def _still(img: np.ndarray) -> dict[str, Any]:
    h, w = img.shape
    return {"w": w, "h": h, "b64": base64.b64encode(np.ascontiguousarray(img).tobytes()).decode()}


def _stills() -> dict[str, dict[str, Any]]:
    good = cv2.cvtColor(tag_frame(GOOD, GOOD_NAME, "129.00"), cv2.COLOR_BGR2GRAY)
    bad = cv2.cvtColor(tag_frame(BAD, "Damaged label", "bad"), cv2.COLOR_BGR2GRAY)
    qr = np.array(qrcode.make("VITRINE-QR-42", box_size=6).get_image().convert("L"))
    return {
        "good": _still(good),
        "bad": _still(bad),
        "upright": _still(np.ascontiguousarray(np.rot90(good))),
        "qr": _still(qr),
        "blank": _still(np.full((240, 320), 200, np.uint8)),
    }


def test_decoder_and_camera_messages(store: Store) -> None:  # noqa: F811
    # plain HTTP (the manager's opt-in): secure only on the server's own machine
    server = LanServer(store, EventBus(), LanConfig(allow_http=True), port=0, host="127.0.0.1")
    server.start()
    try:
        with playwright_sync.sync_playwright() as pw:
            args = [
                *ARGS,
                "--use-fake-device-for-media-stream",
                "--deny-permission-prompts",
                RESOLVE,
            ]
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
            try:
                page = browser.new_page()
                page.goto(f"{server.local_url}/tablet/")
                found = page.evaluate(DECODE, _stills())
                rules = page.evaluate(RULES)
                _pair_and_start_walk_in(page, server.local_url, server)
                refused = _camera_message(page)
                page.goto(f"http://{HOST}:{server.port}/tablet/")
                _pair_and_start_walk_in(page, f"http://{HOST}:{server.port}", server)
                insecure = _camera_message(page)
            finally:
                browser.close()
    finally:
        server.stop()
    assert found["good"] == [{"rawValue": GOOD, "format": "ean_13"}]
    assert found["upright"] == [{"rawValue": GOOD, "format": "ean_13"}]
    assert found["qr"] == [{"rawValue": "VITRINE-QR-42", "format": "qr_code"}]
    assert found["bad"] == [] and found["blank"] == []
    assert rules["check"] == [True, False, True, False, True, False, True, False, True]
    assert rules["hold"] == [True, False, False, True, True]
    assert [m.split(".")[0] for m in rules["errors"]] == [
        "Camera access was refused",
        "No camera was found on this device",
        "No camera was found on this device",
        "The camera is busy in another app",
        "The camera could not start (x)",
    ]
    assert refused.startswith("Camera access was refused."), refused
    assert "secure address" in insecure and "https://" in insecure, insecure
    assert _scans(store) == []


def _camera_message(page: Any) -> str:
    """What the service screen says when the camera cannot start: the sheet closes by
    itself (no empty viewfinder left open) and the hint under the code field says why."""
    page.click("#camera-btn")
    page.wait_for_selector("#scan-hint.bad", timeout=10_000)
    assert page.locator(".camera").count() == 0
    assert page.evaluate("document.activeElement.id") == "barcode"
    return str(page.text_content("#scan-hint"))
