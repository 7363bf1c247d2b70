"""Find ONVIF cameras on the store's network, standard library only.

1. WS-Discovery: a SOAP Probe for NetworkVideoTransmitter devices is sent over UDP to
   239.255.255.250:3702 (`target` is injectable, for tests); each ProbeMatch gives the
   device service addresses (XAddrs) and scopes (name, hardware).
2. For each device: GetCapabilities (device service) gives the media service address,
   GetProfiles its first profile, GetStreamUri that profile's RTSP address. Requests
   carry a WS-UsernameToken (password digest) when a user is given, and answer HTTP
   digest or basic authentication when the camera asks for it.

    for step in discover(user="admin", password="pw"):   # DiscoveryProgress items
        ...
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.words import plural

log = logging.getLogger(__name__)

MULTICAST = ("239.255.255.250", 3702)
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
}
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)

PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"
 xmlns:dn="http://www.onvif.org/ver10/network/wsdl">
<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>
<a:MessageID>urn:uuid:{mid}</a:MessageID>
<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>
<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>
</s:Envelope>"""


@dataclass(frozen=True)
class FoundDevice:
    """A device that answered the probe: its service addresses and what its scopes say."""

    xaddrs: tuple[str, ...]
    name: str = ""
    hardware: str = ""

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.xaddrs[0]).hostname or "" if self.xaddrs else ""


@dataclass
class FoundCamera:
    """A camera found on the network, with its RTSP address when it could be read."""

    name: str
    host: str
    device_url: str
    rtsp_url: str = ""
    problem: str = ""  # why the RTSP address is missing, in words

    @property
    def label(self) -> str:
        what = self.rtsp_url or self.problem
        return f"{self.name} ({self.host}): {what}"


@dataclass(frozen=True)
class DiscoveryProgress:
    phase: str  # "probe" | "profiles" | "done"
    done: int
    total: int
    message: str
    cameras: list[FoundCamera] = field(default_factory=list)


class OnvifError(Exception):
    """A camera's answer that gives no stream address; the message is for the manager."""


# --- WS-Discovery -------------------------------------------------------------------


def parse_probe_matches(data: bytes) -> list[FoundDevice]:
    """The devices of one ProbeMatches answer (none for anything else)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return []
    out = []
    for m in root.iterfind(".//d:ProbeMatch", NS):
        xaddrs = tuple((m.findtext("d:XAddrs", "", NS) or "").split())
        if not xaddrs:
            continue
        scopes = (m.findtext("d:Scopes", "", NS) or "").split()
        out.append(FoundDevice(xaddrs, _scope(scopes, "name"), _scope(scopes, "hardware")))
    return out


def _scope(scopes: list[str], key: str) -> str:
    prefix = f"onvif://www.onvif.org/{key}/"
    for s in scopes:
        if s.startswith(prefix):
            return urllib.parse.unquote(s[len(prefix) :]).replace("_", " ")
    return ""


def probe(
    target: tuple[str, int] = MULTICAST,
    timeout_s: float = 3.0,
    on_found: Callable[[FoundDevice], None] | None = None,
) -> list[FoundDevice]:
    """Send a WS-Discovery Probe and collect the answers for `timeout_s` seconds."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.bind(("", 0))
        msg = PROBE.format(mid=uuid.uuid4()).encode()
        sock.sendto(msg, target)
        seen: dict[str, FoundDevice] = {}
        end = time.monotonic() + timeout_s
        resent = False
        while (left := end - time.monotonic()) > 0:
            if not resent and left < timeout_s / 2:  # UDP may drop one: ask twice
                sock.sendto(msg, target)
                resent = True
            sock.settimeout(min(left, timeout_s / 2))
            try:
                data, _ = sock.recvfrom(65536)
            except TimeoutError:
                continue
            for dev in parse_probe_matches(data):
                if dev.xaddrs[0] not in seen:
                    seen[dev.xaddrs[0]] = dev
                    if on_found is not None:
                        on_found(dev)
        return list(seen.values())
    finally:
        sock.close()


# --- SOAP over HTTP -----------------------------------------------------------------


def username_token(user: str, password: str, created: str | None = None) -> str:
    """A WS-Security UsernameToken header with a password digest."""
    nonce = os.urandom(16)
    created = created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    return (
        f'<Security xmlns="{_WSSE}" s:mustUnderstand="1"><UsernameToken>'
        f"<Username>{_xml(user)}</Username>"
        f'<Password Type="{_DIGEST}">{digest.decode()}</Password>'
        f"<Nonce>{base64.b64encode(nonce).decode()}</Nonce>"
        f'<Created xmlns="{_WSU}">{created}</Created></UsernameToken></Security>'
    )


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def soap_call(
    url: str, body: str, user: str = "", password: str = "", timeout_s: float = 4.0
) -> ET.Element:
    """POST one SOAP request; the answer's Body element (OnvifError with words)."""
    header = f"<s:Header>{username_token(user, password)}</s:Header>" if user else ""
    env = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:tds="{NS["tds"]}" xmlns:trt="{NS["trt"]}" '
        f'xmlns:tt="{NS["tt"]}">{header}<s:Body>{body}</s:Body></s:Envelope>'
    ).encode()
    handlers: list[urllib.request.BaseHandler] = []
    if user:
        pw = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        pw.add_password(None, url, user, password)
        handlers += [
            urllib.request.HTTPDigestAuthHandler(pw),
            urllib.request.HTTPBasicAuthHandler(pw),
        ]
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(
        url, env, {"Content-Type": "application/soap+xml; charset=utf-8"}, method="POST"
    )
    try:
        with opener.open(req, timeout=timeout_s) as resp:
            data = resp.read(2_000_000)
    except urllib.error.HTTPError as exc:
        data = exc.read(2_000_000) if exc.code in (400, 500) else b""
        if exc.code == 401 or b"NotAuthorized" in data:
            raise OnvifError("the camera refused the user name or password") from None
        if not data:
            raise OnvifError(f"the camera answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OnvifError(f"the camera did not answer ({reason})") from None
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise OnvifError("the camera's answer is not ONVIF") from None
    body_el = root.find("s:Body", NS)
    if body_el is None:
        raise OnvifError("the camera's answer is not ONVIF")
    fault = body_el.find("s:Fault", NS)
    if fault is not None:
        text = " ".join(t.strip() for t in fault.itertext() if t.strip())
        if "NotAuthorized" in text or "authority" in text.lower():
            raise OnvifError("the camera refused the user name or password")
        raise OnvifError(f"the camera refused the request ({text[:120]})")
    return body_el


def stream_uri(device_url: str, user: str = "", password: str = "") -> str:
    """The RTSP address of a device's first media profile (OnvifError with words)."""
    caps = soap_call(
        device_url,
        "<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>",
        user,
        password,
    )
    media = caps.findtext(".//tt:Media/tt:XAddr", "", NS).strip() or device_url
    profiles = soap_call(media, "<trt:GetProfiles/>", user, password)
    tokens = [p.get("token", "") for p in profiles.iterfind(".//trt:Profiles", NS)]
    tokens = [t for t in tokens if t]
    if not tokens:
        raise OnvifError("the camera has no media profile")
    uri = soap_call(
        media,
        "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>"
        "<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>"
        f"<trt:ProfileToken>{_xml(tokens[0])}</trt:ProfileToken></trt:GetStreamUri>",
        user,
        password,
    ).findtext(".//tt:Uri", "", NS)
    if not uri or not uri.strip().lower().startswith("rtsp://"):
        raise OnvifError("the camera gave no RTSP address")
    return uri.strip()


def discover(
    user: str = "",
    password: str = "",
    target: tuple[str, int] = MULTICAST,
    timeout_s: float = 3.0,
) -> Iterator[DiscoveryProgress]:
    """Probe the network, then read each camera's RTSP address; yields progress, the
    last item ("done") carrying every camera found."""
    yield DiscoveryProgress("probe", 0, 0, "Looking for ONVIF cameras on the network…")
    try:
        devices = probe(target, timeout_s)
    except OSError as exc:
        yield DiscoveryProgress("done", 0, 0, f"The network could not be searched ({exc}).")
        return
    cams: list[FoundCamera] = []
    for i, dev in enumerate(devices):
        name = dev.name or dev.hardware or "ONVIF camera"
        yield DiscoveryProgress(
            "profiles", i, len(devices), f"Reading the stream address of {name} ({dev.host})…", cams
        )
        cam = FoundCamera(name, dev.host, dev.xaddrs[0])
        try:
            cam.rtsp_url = stream_uri(dev.xaddrs[0], user, password)
        except OnvifError as exc:
            cam.problem = str(exc)
        cams.append(cam)
    n = len(cams)
    msg = (
        "No ONVIF camera answered. Check that the cameras are on this network and that "
        "ONVIF is on in their settings, or type the address."
        if not n
        else f"Found {plural(n, 'camera')}: choose one to fill in its address."
    )
    yield DiscoveryProgress("done", n, n, msg, cams)
