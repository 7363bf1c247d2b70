"""The tablet and the store's certificate in a real headless Chromium (issue 24, point 7):
the pairing screen offers the store's CA at /ca.crt, and a browser that trusts the
server's key (Chromium's SPKI pin, what a pinned key amounts to) keeps connecting
without a warning after the certificate is renewed, the same tablet token working."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from app.config import LanConfig
from app.events import EventBus
from app.store.db import Store
from app.sync.catalog import create_salesperson
from app.sync.lan.server import LanServer
from tests.e2e.test_tablet_e2e import ARGS, CHROMIUM, store  # noqa: F401

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]

HOST = "vitrine.test"
DAY = 86400.0


PAIR = """(body) => fetch('/api/v1/pairing', {method: 'POST',
  headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
  .then((r) => r.json()).then((j) => j.token)"""
ME = """(token) => fetch('/api/v1/me', {headers: {Authorization: 'Bearer ' + token}})
  .then((r) => r.json()).then((j) => j.salesperson_name)"""


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_pinned_key_survives_renewal_and_the_ca_is_offered(
    store: Store,  # noqa: F811
    tmp_path: Path,
) -> None:
    sp = create_salesperson(store, "Zoé", "E900", "1234", ["Shoes"])
    clock = Clock(time.time() - 370 * DAY)  # its certificate has 27 days left today
    server = LanServer(
        store, EventBus(), LanConfig(), port=0, host="127.0.0.1", cert_dir=tmp_path, clock=clock
    )
    server.start()
    try:
        assert server.cert is not None and server.cert.ca_path is not None
        pin = server.cert.key_pin_sha256
        base = f"https://{HOST}:{server.port}"
        with playwright_sync.sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    *ARGS,
                    f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
                    f"--ignore-certificate-errors-spki-list={pin}",
                ],
            )
            try:
                page = browser.new_page()  # no ignore_https_errors: only the pin
                page.goto(f"{base}/tablet/")
                link = page.wait_for_selector("a.ca-link")
                assert link is not None and link.get_attribute("href") == "/ca.crt"
                ca = page.evaluate("fetch('/ca.crt').then((r) => r.text())")
                assert ca.encode() == server.cert.ca_path.read_bytes()
                code = server.new_pairing_code().code
                token = page.evaluate(PAIR, {"code": code, "salesperson_id": sp, "pin": "1234"})
                before = server.cert.fingerprint_sha256
                clock.t = time.time()
                assert server.renew_certificate()
                assert server.cert.fingerprint_sha256 != before
                assert server.cert.key_pin_sha256 == pin
                fresh = browser.new_context().new_page()  # new connections: the new certificate
                fresh.goto(f"{base}/tablet/")
                assert fresh.evaluate(ME, token) == "Zoé"
            finally:
                browser.close()
        with pytest.raises(httpx.ConnectError):  # an untrusting client is still refused
            httpx.get(f"https://127.0.0.1:{server.port}/api/v1/me")
    finally:
        server.stop()
