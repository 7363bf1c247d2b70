"""The store's own TLS certificates for the LAN server.

Tablets need a secure context to use the camera for barcodes, so the server speaks
HTTPS by default. Two certificates are kept in the data directory (keys readable by
their owner only):

- the store's CA (`lan-ca.pem`, ECDSA P-256, 20 years, may sign only the server's
  certificate: path length 0). A tablet that installs it (`/ca.crt` on the server)
  trusts every server certificate the store makes, renewals included.
- the server's certificate (`lan-cert.pem`, with the CA after it), valid at most
  `VALID_DAYS` (397) days: Apple platforms refuse TLS server certificates valid for
  more than 825 days and browsers hold public ones to 398. It names this machine's host
  name, its LAN addresses, localhost and 127.0.0.1. It is made again, with the SAME key
  (`lan-key.pem`, so a tablet that pins the key keeps working) when it is due:
  `RENEW_BEFORE_DAYS` before it expires, when an address it should name is missing (the
  router handed out a new one), or when it is not the CA's (older versions made a
  ten-year self-signed one). Nothing about pairing changes: device tokens do not
  depend on the certificate.

`ensure_certificate` takes the time from its `now` argument, so renewal is tested
with a fake clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import logging
import os
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.store.fileperms import write_private

log = logging.getLogger(__name__)

CERT_NAME = "lan-cert.pem"
KEY_NAME = "lan-key.pem"
CA_NAME = "lan-ca.pem"
CA_KEY_NAME = "lan-ca-key.pem"
VALID_DAYS = 397  # at most 398 (browsers), far under Apple's 825
RENEW_BEFORE_DAYS = 30
CA_VALID_DAYS = 20 * 365
CA_RENEW_BEFORE_DAYS = 2 * 365  # a new CA means installing it again on each tablet

Clock = Callable[[], float]


@dataclass(frozen=True)
class CertInfo:
    cert_path: Path  # the server's certificate, then the CA's
    key_path: Path
    fingerprint_sha256: str  # hex with colons, to compare on a tablet if asked
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    created: bool  # made now (vs reused)
    ca_path: Path | None = None
    ca_fingerprint_sha256: str = ""
    key_pin_sha256: str = ""  # base64 SHA-256 of the public key: the same across renewals
    not_after: float = 0.0  # epoch seconds


def interface_addresses() -> list[str]:
    """IPv4 addresses of this machine's network interfaces (Linux: SIOCGIFADDR).

    The host name often resolves only to 127.0.x.1 (Debian's /etc/hosts), so the
    interfaces themselves are asked; no packet is sent."""
    if not sys.platform.startswith("linux"):
        return []
    import fcntl

    out: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            req = struct.pack("256s", name.encode()[:15])
            try:
                res = fcntl.ioctl(s.fileno(), 0x8915, req)  # SIOCGIFADDR
            except OSError:
                continue  # interface without an IPv4 address
            out.append(socket.inet_ntoa(res[20:24]))
    return out


def local_names() -> tuple[list[str], list[str]]:
    """(host names, IP addresses) this machine answers to on the LAN, plus loopback."""
    host = socket.gethostname()
    names = ["localhost"]
    for n in (host, socket.getfqdn(), f"{host}.local"):
        if n and n not in names:
            names.append(n)
    ips = ["127.0.0.1"]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        infos = []
    addrs = [str(info[4][0]).split("%")[0] for info in infos] + interface_addresses()
    for addr in addrs:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            continue
        if not ip.is_loopback and not ip.is_link_local and addr not in ips:
            ips.append(addr)
    return names, ips


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def key_pin(cert: x509.Certificate) -> str:
    """The base64 SHA-256 of the certificate's public key (SubjectPublicKeyInfo)."""
    return _pin(cert.public_key())


def _sha256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def _at(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(now, dt.UTC)


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def renewal_reason(
    cert: x509.Certificate,
    ca: x509.Certificate,
    names: list[str],
    ips: list[str],
    now: float,
) -> str:
    """Why the server's certificate must be made again ('' if it still fits)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return "it names no host"
    at = _at(now)
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    if not _issued_by(cert, ca):
        return "it is not signed by the store's CA"
    if life > dt.timedelta(days=VALID_DAYS + 1):
        return f"it is valid {life.days} days (at most {VALID_DAYS})"
    if cert.not_valid_before_utc > at:
        return "it is not valid yet"
    if cert.not_valid_after_utc - at <= dt.timedelta(days=RENEW_BEFORE_DAYS):
        return "it expires within 30 days"
    if not set(names) <= set(san.get_values_for_type(x509.DNSName)):
        return "it does not name this machine"
    if not set(ips) <= {str(i) for i in san.get_values_for_type(x509.IPAddress)}:
        return "it does not name this machine's addresses"
    return ""


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey | None:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError, TypeError):
        return None
    return key if isinstance(key, ec.EllipticCurvePrivateKey) else None


def _load_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _make_ca(store_name: str, now: float) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{(store_name or 'Vitrine')[:40]} store CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Vitrine"),
        ]
    )
    at = _at(now)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - dt.timedelta(minutes=5))
        .not_valid_after(at + dt.timedelta(days=CA_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_leaf(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    names: list[str],
    ips: list[str],
    now: float,
) -> x509.Certificate:
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, names[1] if len(names) > 1 else names[0])]
    )
    at = _at(now)
    san = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - dt.timedelta(minutes=5))
        .not_valid_after(at + dt.timedelta(days=VALID_DAYS) - dt.timedelta(minutes=5))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _ensure_ca(
    directory: Path, store_name: str, now: float
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca, ca_key = _load_cert(directory / CA_NAME), _load_key(directory / CA_KEY_NAME)
    fresh = ca is not None and ca.not_valid_after_utc - _at(now) > dt.timedelta(
        days=CA_RENEW_BEFORE_DAYS
    )
    matches = ca is not None and ca_key is not None and key_pin(ca) == _pin(ca_key.public_key())
    if ca is not None and ca_key is not None and fresh and matches:
        return ca, ca_key
    log.info("making the store's LAN certificate authority (tablets install it once)")
    ca, ca_key = _make_ca(store_name, now)
    write_private(directory / CA_KEY_NAME, _key_pem(ca_key))
    _write_public(directory / CA_NAME, ca.public_bytes(serialization.Encoding.PEM))
    return ca, ca_key


def _info(
    directory: Path,
    leaf: x509.Certificate,
    ca: x509.Certificate,
    names: list[str],
    ips: list[str],
    created: bool,
) -> CertInfo:
    return CertInfo(
        directory / CERT_NAME,
        directory / KEY_NAME,
        _fingerprint(leaf),
        tuple(names),
        tuple(ips),
        created,
        directory / CA_NAME,
        _fingerprint(ca),
        key_pin(leaf),
        leaf.not_valid_after_utc.timestamp(),
    )


def ensure_certificate(
    directory: Path,
    store_name: str = "Vitrine",
    extra_names: list[str] | None = None,
    extra_ips: list[str] | None = None,
    now: float | None = None,
) -> CertInfo:
    """Reuse the server's certificate in `directory` if it still fits at `now` (epoch
    seconds, default: the time), or make it again with the same key (see the module)."""
    at = time.time() if now is None else now
    directory.mkdir(parents=True, exist_ok=True)
    names, ips = local_names()
    names += [n for n in extra_names or [] if n not in names]
    ips += [i for i in extra_ips or [] if i not in ips]
    ca, ca_key = _ensure_ca(directory, store_name, at)
    cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
    leaf, key = _load_cert(cert_path), _load_key(key_path)
    if leaf is not None and key is not None:
        reason = renewal_reason(leaf, ca, names, ips, at)
        if not reason and key_pin(leaf) == _pin(key.public_key()):
            return _info(directory, leaf, ca, names, ips, False)
        log.info("renewing the LAN certificate: %s", reason or "its key changed")
    if key is None:
        key = ec.generate_private_key(ec.SECP256R1())
        write_private(key_path, _key_pem(key))
    leaf = _make_leaf(ca, ca_key, key, names, ips, at)
    pem = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    _write_public(cert_path, pem)
    log.info("LAN certificate made for %s %s, valid %s days", names, ips, VALID_DAYS)
    return _info(directory, leaf, ca, names, ips, True)


def _pin(public_key: object) -> str:
    spki = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(_sha256(spki)).decode()


def renewal_due(info: CertInfo, now: float) -> bool:
    """Whether the certificate in use should be made again by now (expiry only; a
    changed address is seen at the next start)."""
    return info.not_after - now <= RENEW_BEFORE_DAYS * 86400.0
