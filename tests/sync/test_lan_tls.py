"""The LAN server's certificates (issue 24, point 7): a store CA and a server
certificate valid at most 398 days, renewed before it expires with the same key, while
the server runs, and a paired tablet that trusts the CA carries on without pairing
again. Time comes from a fake clock."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import datetime as dt
import ssl
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.config import LanConfig
from app.store.db import Store
from app.sync.lan import tls
from app.sync.lan.server import LanServer
from tests.sync.lan_fixtures import auth, seeded, store  # noqa: F401  (fixtures)

DAY = 86400.0
T0 = 1_800_000_000.0  # 2027-01-15


def _chain(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def _life_days(cert: x509.Certificate) -> float:
    return (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() / DAY


def test_server_certificate_is_short_lived_and_signed_by_the_store_ca(tmp_path: Path) -> None:
    info = tls.ensure_certificate(tmp_path, "Shop", now=T0)
    leaf, ca_in_chain = _chain(info.cert_path)
    (ca,) = _chain(tmp_path / tls.CA_NAME)
    assert ca_in_chain == ca and info.ca_path == tmp_path / tls.CA_NAME
    assert _life_days(leaf) <= 398 and _life_days(leaf) > 390
    leaf.verify_directly_issued_by(ca)
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca and basic.path_length == 0
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for name in (tls.KEY_NAME, tls.CA_KEY_NAME):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
    assert info.created and info.not_after == leaf.not_valid_after_utc.timestamp()


@pytest.mark.parametrize(
    ("days_later", "renewed"),
    [(1, False), (300, False), (366, False), (367.5, True), (396, True), (500, True)],
)
def test_renewal_is_due_30_days_before_expiry(
    tmp_path: Path, days_later: float, renewed: bool
) -> None:
    first = tls.ensure_certificate(tmp_path, now=T0)
    assert tls.renewal_due(first, T0 + days_later * DAY) == renewed
    again = tls.ensure_certificate(tmp_path, now=T0 + days_later * DAY)
    assert again.created == renewed
    # the same CA and the same key (a pinned key stays right); a new certificate if due
    assert again.ca_fingerprint_sha256 == first.ca_fingerprint_sha256
    assert again.key_pin_sha256 == first.key_pin_sha256
    assert (again.fingerprint_sha256 != first.fingerprint_sha256) == renewed
    if renewed:
        leaf = _chain(again.cert_path)[0]
        assert leaf.not_valid_before_utc.timestamp() <= T0 + days_later * DAY
        assert again.not_after > T0 + (days_later + 390) * DAY


def _old_ten_year_certificate(directory: Path) -> None:
    """What earlier versions made: self-signed, ten years."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.fromtimestamp(T0, dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (directory / tls.CERT_NAME).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / tls.KEY_NAME).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_an_old_ten_year_certificate_is_replaced_keeping_its_key(tmp_path: Path) -> None:
    _old_ten_year_certificate(tmp_path)
    old = _chain(tmp_path / tls.CERT_NAME)[0]
    info = tls.ensure_certificate(tmp_path, now=T0 + DAY)
    leaf = _chain(info.cert_path)[0]
    assert info.created and _life_days(leaf) <= 398
    assert info.key_pin_sha256 == tls.key_pin(old)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("nothing", ""),
        ("other_ca", "not signed by the store's CA"),
        ("new_address", "addresses"),
        ("new_name", "does not name this machine"),
    ],
)
def test_renewal_reasons(tmp_path: Path, change: str, reason: str) -> None:
    info = tls.ensure_certificate(tmp_path, now=T0)
    leaf = _chain(info.cert_path)[0]
    (ca,) = _chain(tmp_path / tls.CA_NAME)
    names, ips = list(info.dns_names), list(info.ip_addresses)
    if change == "other_ca":
        ca = _chain(tls.ensure_certificate(tmp_path / "other", now=T0).ca_path or Path())[0]
    elif change == "new_address":
        ips.append("10.99.99.99")
    elif change == "new_name":
        names.append("till-2.local")
    got = tls.renewal_reason(leaf, ca, names, ips, T0 + DAY)
    assert (reason in got) if reason else got == ""


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _get_me(port: int, cafile: Path, token: str) -> tuple[int, x509.Certificate]:
    ctx = ssl.create_default_context(cafile=str(cafile))  # trusts the store's CA only
    with httpx.Client(verify=ctx, timeout=10) as c:
        r = c.get(f"https://localhost:{port}/api/v1/me", headers=auth(token))
        der = r.extensions["network_stream"].get_extra_info("ssl_object").getpeercert(True)
    return r.status_code, x509.load_der_x509_certificate(der)


def test_a_running_server_renews_and_a_paired_tablet_carries_on(
    store: Store, seeded: dict[str, int], tmp_path: Path
) -> None:
    """Started 370 days ago (fake clock): its certificate has 27 days left today. The
    tablet trusts the store's CA (installed once from /ca.crt) and keeps its token."""
    clock = Clock(time.time() - 370 * DAY)
    srv = LanServer(
        store, None, LanConfig(), port=0, host="127.0.0.1", cert_dir=tmp_path, clock=clock
    )
    srv.start()
    try:
        assert srv.cert is not None and srv.cert.ca_path is not None
        with httpx.Client(verify=False, timeout=10) as c:  # the first visit: install the CA
            ca_pem = c.get(f"https://127.0.0.1:{srv.port}/ca.crt")
            assert ca_pem.headers["content-type"] == "application/x-x509-ca-cert"
            cafile = tmp_path / "tablet-trusts.pem"
            cafile.write_bytes(ca_pem.content)
            code = srv.new_pairing_code().code
            r = c.post(
                f"https://127.0.0.1:{srv.port}/api/v1/pairing",
                json={"code": code, "salesperson_id": seeded["anna"], "pin": "1234"},
            )
            token = r.json()["token"]
        status, before = _get_me(srv.port, cafile, token)
        assert status == 200 and (before.not_valid_after_utc.timestamp() - time.time()) < 28 * DAY
        assert not srv.renew_certificate()  # not due yet at the fake "then"
        clock.t = time.time()  # today: 27 days left, renewal is due
        assert srv.renew_certificate()
        status, after = _get_me(srv.port, cafile, token)  # no restart, no new pairing
        assert status == 200
        assert after.serial_number != before.serial_number
        assert after.not_valid_after_utc.timestamp() > time.time() + 390 * DAY
        assert _life_days(after) <= 398
        assert tls.key_pin(after) == tls.key_pin(before)
    finally:
        srv.stop()
    assert not srv.running
