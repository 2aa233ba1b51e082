"""A minimal HTTP/1.1 exchange over an established TLS stream: one request, the response head,
and the time to its first byte. The body is never read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from httpsaudit import __version__
from httpsaudit.errors import ConnectionLost, Phase, RemoteProtocolError
from httpsaudit.net.clock import Deadline, ns_to_ms

USER_AGENT = f"httpsaudit/{__version__}"
# A response head larger than this is not a web server we need to understand.
MAX_RESPONSE_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 256


class ApplicationStream(Protocol):
    """What an HTTP exchange needs from a TLS connection."""

    def send(self, data: bytes, deadline: Deadline, phase: Phase = ...) -> int: ...

    def receive(self, deadline: Deadline, phase: Phase = ...) -> tuple[bytes, int]: ...


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """Status, headers (lower-cased names, in order) and when the first byte arrived."""

    protocol: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    ttfb_ms: float
    header_bytes: int | None

    def header(self, name: str) -> str | None:
        """All values of a header joined with ', ' (RFC 9110 §5.3), or None."""
        values = [value for key, value in self.headers if key == name]
        return ", ".join(values) if values else None


def build_request(method: str, path: str, host_header: str) -> bytes:
    """A request a browser would not be ashamed of, closing the connection after."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host_header}",
        f"User-Agent: {USER_AGENT}",
        "Accept: */*",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def exchange(
    stream: ApplicationStream, method: str, path: str, host_header: str, deadline: Deadline
) -> ResponseHead:
    """Send one request and read the response head; TTFB runs from the request's last byte
    leaving to the first response byte arriving."""
    sent_at = stream.send(build_request(method, path, host_header), deadline, Phase.HTTP)
    buffer = bytearray()
    first_byte_at = 0
    while b"\r\n\r\n" not in buffer:
        data, stamp = stream.receive(deadline, Phase.HTTP)
        if not data:
            what = "before responding" if not buffer else "in the middle of the response head"
            raise ConnectionLost(
                f"the server closed the connection {what}",
                phase=Phase.HTTP,
                bytes_received=len(buffer),
            )
        if not buffer:
            first_byte_at = stamp
        buffer += data
        if len(buffer) > MAX_RESPONSE_HEAD_BYTES and b"\r\n\r\n" not in buffer:
            raise RemoteProtocolError(
                f"response head larger than {MAX_RESPONSE_HEAD_BYTES} bytes", phase=Phase.HTTP
            )
    head_end = buffer.index(b"\r\n\r\n") + 4
    return parse_response_head(bytes(buffer[:head_end]), ns_to_ms(first_byte_at - sent_at))


def parse_response_head(head: bytes, ttfb_ms: float) -> ResponseHead:
    """RFC 9112 §4 status line and §5 header fields; lenient about whitespace, strict on form."""
    text = head.decode("iso-8859-1")
    lines = text.split("\r\n")
    status_line = lines[0]
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise RemoteProtocolError(
            f"not an HTTP response: status line {status_line[:80]!r}", phase=Phase.HTTP
        )
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise RemoteProtocolError(f"malformed header line {line[:80]!r}", phase=Phase.HTTP)
        headers.append((name.lower(), value.strip()))
        if len(headers) > MAX_HEADERS:
            raise RemoteProtocolError(f"more than {MAX_HEADERS} header fields", phase=Phase.HTTP)
    return ResponseHead(
        protocol=parts[0],
        status=int(parts[1]),
        reason=parts[2] if len(parts) > 2 else "",
        headers=tuple(headers),
        ttfb_ms=ttfb_ms,
        header_bytes=len(head),
    )
