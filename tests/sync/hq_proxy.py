"""A TCP proxy in front of the HQ receiver that cuts the first upload off mid-body:
it forwards the request head and part of the body to HQ, then closes both sides.
Later connections are relayed untouched. One thread; `stop()` joins it."""

from __future__ import annotations

import selectors
import socket
import threading


class CutOnceProxy:
    def __init__(self, upstream_port: int, body_bytes_before_cut: int = 300) -> None:
        self.upstream_port = upstream_port
        self.cut_after = body_bytes_before_cut
        self.cuts = 0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-cut-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CutOnceProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._listener.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with client, socket.create_connection(("127.0.0.1", self.upstream_port)) as up:
                if self.cuts == 0:
                    self._cut(client, up)
                    self.cuts += 1
                else:
                    self._relay(client, up)

    def _cut(self, client: socket.socket, up: socket.socket) -> None:
        """Forward the head and `cut_after` body bytes, then hang up on both."""
        buf = b""
        client.settimeout(5)
        while b"\r\n\r\n" not in buf or len(buf) - buf.index(b"\r\n\r\n") - 4 < self.cut_after:
            chunk = client.recv(65536)
            if not chunk:
                break
            buf += chunk
        head_end = buf.index(b"\r\n\r\n") + 4
        up.sendall(buf[: head_end + self.cut_after])
        up.shutdown(socket.SHUT_RDWR)
        client.shutdown(socket.SHUT_RDWR)

    def _relay(self, client: socket.socket, up: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, up)
        sel.register(up, selectors.EVENT_READ, client)
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(0.1):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = src.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
