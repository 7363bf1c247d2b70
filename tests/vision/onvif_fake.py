"""A fake ONVIF camera for tests: a real UDP WS-Discovery responder and a real HTTP
SOAP server on 127.0.0.1 that checks the WS-UsernameToken password digest."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MATCH = """<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">
<s:Header><a:RelatesTo>{mid}</a:RelatesTo></s:Header>
<s:Body><d:ProbeMatches><d:ProbeMatch>
<a:EndpointReference><a:Address>urn:uuid:fake-cam</a:Address></a:EndpointReference>
<d:Types>dn:NetworkVideoTransmitter</d:Types>
<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Shop_door onvif://www.onvif.org/hardware/XY-200</d:Scopes>
<d:XAddrs>{xaddr}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>
</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"""

ENV = (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
    'xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body>{}</s:Body></s:Envelope>'
)
FAULT = "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code><s:Reason><s:Text>Sender not authorized</s:Text></s:Reason></s:Fault>"


class FakeOnvifCamera:
    def __init__(self, user: str = "admin", password: str = "secret") -> None:
        self.user, self.password = user, password
        self.requests: list[str] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        cam = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                status, answer = cam.answer(self.path, body)
                data = ENV.format(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.probe_target = ("127.0.0.1", self.udp.getsockname()[1])
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self.http.serve_forever, daemon=True),
            threading.Thread(target=self._udp_loop, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _udp_loop(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.udp.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            m = re.search(rb"<a:MessageID>([^<]+)</a:MessageID>", data)
            if m is None or b"Probe" not in data:
                continue
            xaddr = f"{self.base}/onvif/device_service"
            self.udp.sendto(MATCH.format(mid=m.group(1).decode(), xaddr=xaddr).encode(), addr)

    def authorized(self, body: str) -> bool:
        def get(tag: str) -> str:
            m = re.search(rf"<(?:\w+:)?{tag}\b[^>]*>([^<]*)</", body)
            return m.group(1) if m else ""

        if get("Username") != self.user:
            return False
        nonce, created = base64.b64decode(get("Nonce")), get("Created")
        want = base64.b64encode(
            hashlib.sha1(nonce + created.encode() + self.password.encode()).digest()
        )
        return get("Password") == want.decode()

    def answer(self, path: str, body: str) -> tuple[int, str]:
        op = re.search(r"<(?:tds|trt):(\w+)", body)
        name = op.group(1) if op else ""
        self.requests.append(f"{path} {name}")
        if not self.authorized(body):
            return 400, FAULT
        if name == "GetCapabilities":
            return 200, (
                "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>"
                f"<tt:XAddr>{self.base}/onvif/media</tt:XAddr>"
                "</tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>"
            )
        if name == "GetProfiles" and path == "/onvif/media":
            return 200, (
                '<trt:GetProfilesResponse><trt:Profiles token="main_1"><tt:Name>Main</tt:Name>'
                '</trt:Profiles><trt:Profiles token="sub_1"/></trt:GetProfilesResponse>'
            )
        if name == "GetStreamUri" and "main_1" in body:
            return 200, (
                "<trt:GetStreamUriResponse><trt:MediaUri>"
                "<tt:Uri>rtsp://127.0.0.1:8554/Streaming/Channels/101</tt:Uri>"
                "</trt:MediaUri></trt:GetStreamUriResponse>"
            )
        return 400, "<s:Fault><s:Reason><s:Text>unknown</s:Text></s:Reason></s:Fault>"

    def close(self) -> None:
        self._stop.set()
        self.http.shutdown()
        self.http.server_close()
        self.udp.close()
