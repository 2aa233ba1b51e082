"""Parsers for the server messages we read in the clear, returning frozen dataclasses.

Each parser takes a Reader positioned at the message body and consumes it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from httpsaudit.errors import DecodeError
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import ExtensionType, ProtocolVersion

# RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello whose random is
# SHA-256("HelloRetryRequest").
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)
# RFC 8446 §4.1.3: the last 8 bytes of a TLS 1.3 server's random when it negotiates down.
DOWNGRADE_TLS12 = bytes.fromhex("444f574e47524401")
DOWNGRADE_TLS11 = bytes.fromhex("444f574e47524400")
# Bounds on server-controlled counts; each is far above anything a real server sends.
MAX_EXTENSIONS = 64
MAX_CERTIFICATES = 32
MAX_CERTIFICATE_LIST_BYTES = 2**24 - 1


@dataclass(frozen=True, slots=True)
class Extension:
    """One extension as sent; ``data`` is left for the caller to parse."""

    extension_type: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ServerHello:
    """ServerHello or HelloRetryRequest, with the fields that decide what was negotiated."""

    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: tuple[Extension, ...]
    selected_version: int
    key_share_group: int | None
    is_hello_retry_request: bool

    def extension(self, extension_type: int) -> bytes | None:
        for extension in self.extensions:
            if extension.extension_type == extension_type:
                return extension.data
        return None

    @property
    def downgrade_sentinel(self) -> bool:
        """True when the random carries the RFC 8446 §4.1.3 downgrade marker."""
        return self.random[-8:] in (DOWNGRADE_TLS12, DOWNGRADE_TLS11)


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert record: level and description stay ints so unknown codes survive."""

    level: int
    description: int


@dataclass(frozen=True, slots=True)
class ServerKeyExchange:
    """What the TLS 1.2 ServerKeyExchange reveals: the ECDHE group or the DHE prime size."""

    named_group: int | None
    dh_prime_bits: int | None


def parse_extensions(reader: Reader, what: str) -> tuple[Extension, ...]:
    """RFC 8446 §4.2: a uint16-length list of (type, opaque data) pairs."""
    if reader.remaining == 0:
        # RFC 5246 §7.4.1.4: the extensions block may be absent altogether.
        return ()
    block = reader.sub_reader(2, f"{what} extensions", maximum=2**16 - 1)
    extensions: list[Extension] = []
    seen: set[int] = set()
    while block.remaining:
        if len(extensions) >= MAX_EXTENSIONS:
            raise DecodeError(f"{what}: more than {MAX_EXTENSIONS} extensions", offset=block.offset)
        at = block.offset
        extension_type = block.uint16("extension type")
        data = block.opaque(2, "extension data", maximum=2**16 - 1)
        if extension_type in seen:
            # RFC 8446 §4.2: there MUST NOT be more than one extension of the same type.
            raise DecodeError(f"{what}: duplicate extension {extension_type}", offset=at)
        seen.add(extension_type)
        extensions.append(Extension(extension_type, data))
    return tuple(extensions)


def parse_server_hello(reader: Reader) -> ServerHello:
    """RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3."""
    legacy_version = reader.uint16("ServerHello version")
    random = reader.raw(32, "ServerHello random")
    session_id = reader.opaque(1, "ServerHello session id", maximum=32)
    cipher_suite = reader.uint16("ServerHello cipher suite")
    compression_method = reader.uint8("ServerHello compression")
    extensions_at = reader.offset
    extensions = parse_extensions(reader, "ServerHello")
    reader.expect_end("ServerHello")
    is_hrr = random == HELLO_RETRY_REQUEST_RANDOM
    selected_version = legacy_version
    key_share_group: int | None = None
    # RFC 8446 §4.2: a uint16 block length, then type(2) + length(2) + data for each extension;
    # tracked so errors inside extension data keep absolute offsets.
    position = extensions_at + 2
    for extension in extensions:
        body = Reader(extension.data, base=position + 4)
        position += 4 + len(extension.data)
        if extension.extension_type == ExtensionType.SUPPORTED_VERSIONS:
            # RFC 8446 §4.2.1: the server's extension holds the single selected version.
            selected_version = body.uint16("selected version")
            body.expect_end("supported_versions")
        elif extension.extension_type == ExtensionType.KEY_SHARE:
            # RFC 8446 §4.2.8: HRR carries only the selected group; ServerHello a whole share.
            key_share_group = body.uint16("key_share group")
            if not is_hrr:
                body.opaque(2, "key_exchange", minimum=1, maximum=2**16 - 1)
            body.expect_end("key_share")
    return ServerHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suite=cipher_suite,
        compression_method=compression_method,
        extensions=extensions,
        selected_version=selected_version,
        key_share_group=key_share_group,
        is_hello_retry_request=is_hrr,
    )


def is_tls13(server_hello: ServerHello) -> bool:
    """TLS 1.3 is chosen only through supported_versions, never by legacy_version."""
    return server_hello.selected_version == ProtocolVersion.TLSv1_3


def parse_alert(reader: Reader) -> Alert:
    """RFC 8446 §6: two bytes, level then description."""
    level = reader.uint8("alert level")
    description = reader.uint8("alert description")
    reader.expect_end("alert")
    return Alert(level, description)


def parse_certificate_list_tls12(reader: Reader) -> tuple[bytes, ...]:
    """RFC 5246 §7.4.2: DER certificates, leaf first, exactly as the server sent them."""
    certificates = reader.sub_reader(3, "certificate_list", maximum=MAX_CERTIFICATE_LIST_BYTES)
    reader.expect_end("Certificate")
    ders: list[bytes] = []
    while certificates.remaining:
        if len(ders) >= MAX_CERTIFICATES:
            raise DecodeError(
                f"more than {MAX_CERTIFICATES} certificates in the chain",
                offset=certificates.offset,
            )
        ders.append(certificates.opaque(3, "certificate", minimum=1, maximum=2**24 - 1))
    return tuple(ders)


def parse_server_key_exchange(reader: Reader, *, ecdhe: bool) -> ServerKeyExchange:
    """Only the parameters' leading fields (RFC 8422 §5.4, RFC 5246 §7.4.3); the rest is ignored."""
    if ecdhe:
        curve_type = reader.uint8("ECParameters curve_type")
        if curve_type != 3:  # RFC 8422 §5.4: named_curve(3) is the only type still allowed
            raise DecodeError(
                f"ServerKeyExchange curve_type {curve_type} is not named_curve",
                offset=reader.offset - 1,
            )
        return ServerKeyExchange(named_group=reader.uint16("named_curve"), dh_prime_bits=None)
    prime = reader.opaque(2, "dh_p", minimum=1, maximum=2**16 - 1)
    prime_bits = int.from_bytes(prime, "big").bit_length()
    return ServerKeyExchange(named_group=None, dh_prime_bits=prime_bits)


def parse_alpn_selection(reader: Reader) -> str:
    """RFC 7301 §3.1: the server's ALPN extension carries exactly one protocol name."""
    names = reader.sub_reader(2, "protocol_name_list", minimum=2, maximum=2**16 - 1)
    reader.expect_end("application_layer_protocol_negotiation")
    name = names.opaque(1, "protocol_name", minimum=1, maximum=255)
    names.expect_end("protocol_name_list (a server selects one protocol)")
    return name.decode("ascii", "replace")


# RFC 8446 §4.6.1: servers MUST NOT use a ticket_lifetime greater than 7 days.
MAX_TICKET_LIFETIME_S = 604800


@dataclass(frozen=True, slots=True)
class NewSessionTicket12:
    """A TLS 1.2 ticket (RFC 5077 §3.3); an empty ticket means the server took its offer back."""

    lifetime_hint_s: int
    ticket: bytes


@dataclass(frozen=True, slots=True)
class NewSessionTicket13:
    """A TLS 1.3 ticket (RFC 8446 §4.6.1); ``max_early_data_size`` is None without early_data."""

    lifetime_s: int
    age_add: int
    nonce: bytes
    ticket: bytes
    max_early_data_size: int | None
    extensions: tuple[Extension, ...]

    def extension(self, extension_type: int) -> bytes | None:
        for extension in self.extensions:
            if extension.extension_type == extension_type:
                return extension.data
        return None


def parse_new_session_ticket_tls12(reader: Reader) -> NewSessionTicket12:
    """RFC 5077 §3.3: uint32 ticket_lifetime_hint, opaque ticket<0..2^16-1>."""
    # RFC 5077 §3.3: a hint of 0 means "no recommendation"; any uint32 is allowed.
    lifetime_hint_s = reader.uint32("NewSessionTicket ticket_lifetime_hint")
    ticket = reader.opaque(2, "NewSessionTicket ticket", maximum=2**16 - 1)
    reader.expect_end("NewSessionTicket")
    return NewSessionTicket12(lifetime_hint_s=lifetime_hint_s, ticket=ticket)


def parse_new_session_ticket_tls13(reader: Reader) -> NewSessionTicket13:
    """RFC 8446 §4.6.1: lifetime, age_add, nonce<0..255>, ticket<1..2^16-1>, extensions."""
    lifetime_at = reader.offset
    lifetime_s = reader.uint32("NewSessionTicket ticket_lifetime")
    if lifetime_s > MAX_TICKET_LIFETIME_S:
        # RFC 8446 §4.6.1: "Servers MUST NOT use any value greater than 604800 seconds".
        raise DecodeError(
            f"NewSessionTicket ticket_lifetime {lifetime_s} s exceeds {MAX_TICKET_LIFETIME_S} s "
            f"at offset {lifetime_at}",
            offset=lifetime_at,
        )
    age_add = reader.uint32("NewSessionTicket ticket_age_add")
    nonce = reader.opaque(1, "NewSessionTicket ticket_nonce", maximum=255)
    ticket = reader.opaque(2, "NewSessionTicket ticket", minimum=1, maximum=2**16 - 1)
    extensions_at = reader.offset
    if reader.remaining == 0:
        # RFC 8446 §4.6.1: unlike a TLS 1.2 ServerHello's, this extensions block is not optional.
        raise DecodeError(
            f"NewSessionTicket: extensions length missing at offset {extensions_at}",
            offset=extensions_at,
        )
    extensions = parse_extensions(reader, "NewSessionTicket")
    reader.expect_end("NewSessionTicket")
    max_early_data_size: int | None = None
    # A uint16 block length, then type(2) + length(2) + data for each extension (RFC 8446 §4.2),
    # tracked so errors inside extension data keep absolute offsets.
    position = extensions_at + 2
    for extension in extensions:
        body = Reader(extension.data, base=position + 4)
        position += 4 + len(extension.data)
        if extension.extension_type == ExtensionType.EARLY_DATA:
            # RFC 8446 §4.2.10: in a NewSessionTicket, early_data holds uint32 max_early_data_size.
            max_early_data_size = body.uint32("early_data max_early_data_size")
            body.expect_end("early_data")
    return NewSessionTicket13(
        lifetime_s=lifetime_s,
        age_add=age_add,
        nonce=nonce,
        ticket=ticket,
        max_early_data_size=max_early_data_size,
        extensions=extensions,
    )
