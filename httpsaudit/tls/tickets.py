"""Reading the TLS 1.3 NewSessionTickets out of the server's records after a handshake.

Another library drove the handshake; given its server application traffic secret (from the key
log) and the raw server bytes that followed, this opens the records in order and parses every
ticket (RFC 8446 §4.6.1), following a KeyUpdate (§4.6.3) on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from httpsaudit.errors import RemoteProtocolError
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import ContentType, HandshakeType
from httpsaudit.tls.keyschedule import hash_for_suite, next_traffic_secret
from httpsaudit.tls.messages import NewSessionTicket13, parse_new_session_ticket_tls13
from httpsaudit.tls.protection import RecordDecryptor
from httpsaudit.tls.records import NEED_DATA, HandshakeReassembler, Record, RecordBuffer

# Post-handshake messages read before giving up: servers send a handful of tickets, not floods.
# A stream holding more is reported as a problem, so nobody counts the cap as the server's number.
MAX_POST_HANDSHAKE_MESSAGES = 64


@dataclass(frozen=True, slots=True)
class PostHandshakeTickets:
    """The tickets found, and why reading stopped early (None when it did not)."""

    tickets: tuple[NewSessionTicket13, ...]
    problem: str | None


def read_post_handshake_tickets(
    suite_code: int, traffic_secret: bytes, stream: bytes
) -> PostHandshakeTickets:
    """Every NewSessionTicket in ``stream``; reading stops at the first record that does not
    open (a truncated capture ends quietly: its last record is simply incomplete)."""
    buffer = RecordBuffer()
    reassembler = HandshakeReassembler()
    tickets: list[NewSessionTicket13] = []
    try:
        buffer.receive_data(stream)
        decryptor = RecordDecryptor(suite_code, traffic_secret)
        messages = 0
        # Ends with ``stream``, which the caller has already capped in bytes.
        while True:
            record = buffer.next_record()
            if record is NEED_DATA:
                break
            if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
                continue  # RFC 8446 §5: a compatibility dummy, never protected
            inner = decryptor.decrypt(record)
            if inner.content_type != ContentType.HANDSHAKE:
                continue
            reassembler.receive_record(
                Record(ContentType.HANDSHAKE, record.legacy_version, inner.content, inner.offset)
            )
            while (message := reassembler.next_message()) is not NEED_DATA:
                messages += 1
                if messages > MAX_POST_HANDSHAKE_MESSAGES:
                    return PostHandshakeTickets(
                        tuple(tickets),
                        f"more than {MAX_POST_HANDSHAKE_MESSAGES} post-handshake messages: "
                        "reading stopped there",
                    )
                if message.msg_type == HandshakeType.NEW_SESSION_TICKET:
                    tickets.append(parse_new_session_ticket_tls13(Reader(message.body)))
                elif message.msg_type == HandshakeType.KEY_UPDATE:
                    traffic_secret = next_traffic_secret(hash_for_suite(suite_code), traffic_secret)
                    decryptor = RecordDecryptor(suite_code, traffic_secret)
    except RemoteProtocolError as exc:
        return PostHandshakeTickets(tuple(tickets), exc.message)
    return PostHandshakeTickets(tuple(tickets), None)
