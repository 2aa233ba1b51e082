"""The same one-request exchange as http1, spoken as HTTP/2 when the server picks ``h2``.

The framing is the h2 library's (sans-IO); we only move its bytes and stamp the read that
carried the response HEADERS, which is the first byte of the response proper.
"""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from httpsaudit.errors import ConnectionLost, Phase, RemoteProtocolError
from httpsaudit.net.clock import Deadline, ns_to_ms
from httpsaudit.net.http1 import USER_AGENT, ApplicationStream, ResponseHead

# Reads allowed before the response HEADERS arrive (SETTINGS, WINDOW_UPDATE, PING...).
MAX_READS_BEFORE_HEADERS = 1024


def exchange(
    stream: ApplicationStream, method: str, path: str, authority: str, deadline: Deadline
) -> ResponseHead:
    """Send the preface and one request on stream 1; read the response head."""
    connection = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    )
    connection.initiate_connection()
    stream_id = connection.get_next_available_stream_id()
    connection.send_headers(
        stream_id,
        [
            (":method", method),
            (":path", path),
            (":scheme", "https"),
            (":authority", authority),
            ("user-agent", USER_AGENT),
            ("accept", "*/*"),
        ],
        end_stream=True,
    )
    sent_at = stream.send(connection.data_to_send(), deadline, Phase.HTTP)
    received = 0
    for _ in range(MAX_READS_BEFORE_HEADERS):
        data, stamp = stream.receive(deadline, Phase.HTTP)
        if not data:
            raise ConnectionLost(
                "the server closed the HTTP/2 connection before responding",
                phase=Phase.HTTP,
                bytes_received=received,
            )
        received += len(data)
        try:
            events = connection.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            raise RemoteProtocolError(f"HTTP/2 protocol error: {exc}", phase=Phase.HTTP) from exc
        outgoing = connection.data_to_send()
        if outgoing:
            stream.send(outgoing, deadline, Phase.HTTP)
        for event in events:
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                return _head(event, ns_to_ms(stamp - sent_at))
            if isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                raise RemoteProtocolError(
                    f"the server reset the HTTP/2 stream (error code {event.error_code})",
                    phase=Phase.HTTP,
                )
            if isinstance(event, h2.events.ConnectionTerminated):
                raise RemoteProtocolError(
                    f"the server ended the HTTP/2 connection (GOAWAY, error code "
                    f"{event.error_code})",
                    phase=Phase.HTTP,
                )
    raise RemoteProtocolError(
        f"no HTTP/2 response after {MAX_READS_BEFORE_HEADERS} reads", phase=Phase.HTTP
    )


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _head(event: h2.events.ResponseReceived, ttfb_ms: float) -> ResponseHead:
    headers = tuple((_text(name).lower(), _text(value)) for name, value in event.headers or ())
    status_text = next((value for name, value in headers if name == ":status"), "")
    if not status_text.isdigit():
        raise RemoteProtocolError(
            f"HTTP/2 response without a valid :status ({status_text!r})", phase=Phase.HTTP
        )
    return ResponseHead(
        protocol="h2",
        status=int(status_text),
        reason="",
        headers=tuple((name, value) for name, value in headers if not name.startswith(":")),
        ttfb_ms=ttfb_ms,
        header_bytes=None,  # HPACK-compressed on the wire: no honest raw size to give
    )
