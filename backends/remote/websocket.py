"""A small synchronous WebSocket client (RFC 6455), enough for ComfyUI's `/ws` progress feed.

No WebSocket library is installed with the app (httpx has none; `websockets` and
`httpx-ws` are not dependencies), and ComfyUI's feed needs only: connect (ws or wss, extra
headers, a CA), read text and binary messages with a timeout, answer pings, close. Frames
from the client are masked as the RFC requires; fragmented messages are joined.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
import struct
from dataclasses import dataclass
from urllib.parse import urlparse

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocketClosed(ConnectionError):
    """The server closed the feed, or the connection was cut."""


@dataclass(frozen=True)
class WsMessage:
    text: str | None = None
    data: bytes | None = None


class WebSocket:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout_s: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> WebSocket:
        """Open the connection and do the upgrade handshake; OSError / WebSocketClosed on
        failure (refused, TLS, or a server that does not speak WebSocket there)."""
        parts = urlparse(url)
        secure = parts.scheme in ("wss", "https")
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (443 if secure else 80)
        sock: socket.socket = socket.create_connection((host, port), timeout=timeout_s)
        if secure:
            sock = (ssl_context or ssl.create_default_context()).wrap_socket(
                sock, server_hostname=host
            )
        key = base64.b64encode(os.urandom(16)).decode()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        ws = cls(sock)
        head = ws._read_until(b"\r\n\r\n").decode("latin-1")
        status = head.split("\r\n", 1)[0]
        accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
        if " 101 " not in f"{status} " or accept not in head:
            sock.close()
            raise WebSocketClosed(f"no WebSocket upgrade ({status.strip() or 'no answer'})")
        return ws

    def receive(self, timeout_s: float | None = None) -> WsMessage | None:
        """The next whole message, or None when `timeout_s` passes with nothing complete."""
        self._sock.settimeout(timeout_s)
        try:
            return self._receive()
        except TimeoutError:
            return None

    def _receive(self) -> WsMessage:
        parts: list[bytes] = []
        opcode_of_message = OP_TEXT
        while True:
            fin, opcode, payload = self._frame()
            if opcode == OP_PING:
                self._send(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                self._send(OP_CLOSE, payload[:2])
                raise WebSocketClosed("the server closed the feed")
            if opcode != OP_CONT:
                opcode_of_message = opcode
            parts.append(payload)
            if fin:
                whole = b"".join(parts)
                if opcode_of_message == OP_TEXT:
                    return WsMessage(text=whole.decode("utf-8", "replace"))
                return WsMessage(data=whole)

    def _frame(self) -> tuple[bool, int, bytes]:
        """The next frame; bytes are consumed only once it is whole, so a receive timeout
        mid-frame loses nothing."""
        while True:
            frame = _parse_frame(self._buffer)
            if frame is not None:
                fin, opcode, payload, used = frame
                self._buffer = self._buffer[used:]
                return fin, opcode, payload
            self._fill()

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        try:
            self._sock.sendall(header + mask + masked)
        except OSError:
            pass  # closing a cut connection: nothing to tell

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._fill()
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise WebSocketClosed("the connection was cut")
        self._buffer += chunk

    def close(self) -> None:
        self._send(OP_CLOSE, struct.pack("!H", 1000))
        try:
            self._sock.close()
        except OSError:
            pass


def _parse_frame(buffer: bytes) -> tuple[bool, int, bytes, int] | None:
    """(fin, opcode, payload, bytes used) of the frame at the start of `buffer`, or None
    while it is incomplete."""
    if len(buffer) < 2:
        return None
    first, second = buffer[0], buffer[1]
    length, at = second & 0x7F, 2
    if length == 126:
        if len(buffer) < 4:
            return None
        (length,), at = struct.unpack("!H", buffer[2:4]), 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        (length,), at = struct.unpack("!Q", buffer[2:10]), 10
    mask = None
    if second & 0x80:
        if len(buffer) < at + 4:
            return None
        mask, at = buffer[at : at + 4], at + 4
    if len(buffer) < at + length:
        return None
    payload = buffer[at : at + length]
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bool(first & 0x80), first & 0x0F, payload, at + length
