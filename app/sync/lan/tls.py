"""The store's self-signed TLS certificate for the LAN server.

Tablets need a secure context to use the camera for barcodes, so the server speaks
HTTPS by default. The certificate is made at first start (ECDSA P-256, ten years) and
names this machine's host name, its LAN addresses, localhost and 127.0.0.1; it is made
again when an address it should name is missing (the store router handed out a new
one) or it is about to expire. The key file is readable by its owner only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CERT_NAME = "lan-cert.pem"
KEY_NAME = "lan-key.pem"
VALID_DAYS = 3650
RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True)
class CertInfo:
    cert_path: Path
    key_path: Path
    fingerprint_sha256: str  # hex with colons, to compare on a tablet if asked
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    created: bool  # made now (vs reused)


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


def _covers(cert: x509.Certificate, names: list[str], ips: list[str]) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_names = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    expires = cert.not_valid_after_utc
    fresh = expires - dt.datetime.now(dt.UTC) > dt.timedelta(days=RENEW_BEFORE_DAYS)
    return fresh and set(names) <= have_names and set(ips) <= have_ips


def _make(store_name: str, names: list[str], ips: list[str]) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names[1] if len(names) > 1 else names[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, (store_name or "Vitrine")[:64]),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    san = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def ensure_certificate(
    directory: Path,
    store_name: str = "Vitrine",
    extra_names: list[str] | None = None,
    extra_ips: list[str] | None = None,
) -> CertInfo:
    """Reuse the certificate in `directory` if it still fits, or make a new one."""
    directory.mkdir(parents=True, exist_ok=True)
    names, ips = local_names()
    names += [n for n in extra_names or [] if n not in names]
    ips += [i for i in extra_ips or [] if i not in ips]
    cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
    if cert_path.is_file() and key_path.is_file():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            if _covers(cert, names, ips):
                return CertInfo(
                    cert_path, key_path, _fingerprint(cert), tuple(names), tuple(ips), False
                )
            log.info("LAN certificate no longer names this machine or expires soon: renewing")
        except ValueError:
            log.warning("LAN certificate %s is unreadable: making a new one", cert_path)
    cert_pem, key_pem = _make(store_name, names, ips)
    _write_private(key_path, key_pem)
    cert_path.write_bytes(cert_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    log.info("LAN certificate made for %s %s", names, ips)
    return CertInfo(cert_path, key_path, _fingerprint(cert), tuple(names), tuple(ips), True)
