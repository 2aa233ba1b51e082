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
# OpenSSL verifies chains up to 100 intermediates deep (its default verify depth), so a longer
# chain is one no client accepts; a 100-certificate chain still parses, and probes that only
# want the leaf do not fail on it. Messages are bounded in bytes by the reassembler already.
MAX_CERTIFICATES = 128
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


# --- TLS 1.3 server flight (RFC 8446 §4.3-§4.4) and its helpers -------------------------------

# RFC 8446 §4.4.2: certificate_request_context is opaque<0..2^8-1>.
MAX_CERTIFICATE_REQUEST_CONTEXT_BYTES = 255
# RFC 8449 §4: a record_size_limit below 64 is an illegal_parameter.
MIN_RECORD_SIZE_LIMIT = 64


def extension_offsets(extensions: tuple[Extension, ...], block_offset: int) -> tuple[int, ...]:
    """Absolute offset of each extension's data, given the offset of the uint16 block length."""
    offsets: list[int] = []
    position = block_offset + 2
    for extension in extensions:
        offsets.append(position + 4)
        position += 4 + len(extension.data)
    return tuple(offsets)


def server_hello_extensions_offset(server_hello: ServerHello, message_offset: int) -> int:
    """Offset of the extensions block length in a ServerHello message (header included)."""
    # type(1) length(3) legacy_version(2) random(32) session_id(1 + n) suite(2) compression(1)
    return message_offset + 4 + 2 + 32 + 1 + len(server_hello.session_id) + 2 + 1


@dataclass(frozen=True, slots=True)
class KeyShareEntry:
    """One key_share entry as a server sent it (RFC 8446 §4.2.8)."""

    group: int
    key_exchange: bytes


def parse_server_key_share(reader: Reader) -> KeyShareEntry:
    """RFC 8446 §4.2.8: a ServerHello's key_share holds exactly one KeyShareEntry."""
    group = reader.uint16("key_share group")
    key_exchange = reader.opaque(2, "key_exchange", minimum=1, maximum=2**16 - 1)
    reader.expect_end("key_share")
    return KeyShareEntry(group, key_exchange)


def parse_selected_identity(reader: Reader) -> int:
    """RFC 8446 §4.2.11: a ServerHello's pre_shared_key holds the uint16 selected_identity."""
    selected = reader.uint16("pre_shared_key selected_identity")
    reader.expect_end("pre_shared_key")
    return selected


def parse_cookie(reader: Reader) -> bytes:
    """RFC 8446 §4.2.2: opaque cookie<1..2^16-1>."""
    cookie = reader.opaque(2, "cookie", minimum=1, maximum=2**16 - 1)
    reader.expect_end("cookie")
    return cookie


@dataclass(frozen=True, slots=True)
class EncryptedExtensions:
    """RFC 8446 §4.3.1, with the fields a client acts on read out; unknown types stay ints."""

    extensions: tuple[Extension, ...]
    alpn: str | None
    early_data: bool
    record_size_limit: int | None
    server_name_acknowledged: bool
    supported_groups: tuple[int, ...]

    def extension(self, extension_type: int) -> bytes | None:
        for extension in self.extensions:
            if extension.extension_type == extension_type:
                return extension.data
        return None


def parse_encrypted_extensions(reader: Reader) -> EncryptedExtensions:
    """RFC 8446 §4.3.1: Extension extensions<0..2^16-1>, and nothing after it."""
    block_offset = reader.offset
    if reader.remaining == 0:
        raise DecodeError(
            f"EncryptedExtensions: extensions length missing at offset {block_offset}",
            offset=block_offset,
        )
    extensions = parse_extensions(reader, "EncryptedExtensions")
    reader.expect_end("EncryptedExtensions")
    alpn: str | None = None
    early_data = False
    record_size_limit: int | None = None
    server_name_acknowledged = False
    supported_groups: tuple[int, ...] = ()
    for extension, at in zip(extensions, extension_offsets(extensions, block_offset), strict=True):
        body = Reader(extension.data, base=at)
        kind = extension.extension_type
        if kind == ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION:
            alpn = parse_alpn_selection(body)
        elif kind == ExtensionType.EARLY_DATA:
            # RFC 8446 §4.2.10: empty in EncryptedExtensions.
            body.expect_end("early_data")
            early_data = True
        elif kind == ExtensionType.RECORD_SIZE_LIMIT:
            record_size_limit = body.uint16("record_size_limit")
            body.expect_end("record_size_limit")
            if record_size_limit < MIN_RECORD_SIZE_LIMIT:
                raise DecodeError(
                    f"record_size_limit {record_size_limit} is below {MIN_RECORD_SIZE_LIMIT} "
                    f"at offset {at}",
                    offset=at,
                )
        elif kind == ExtensionType.SERVER_NAME:
            # RFC 6066 §3: the server's acknowledgement is empty.
            body.expect_end("server_name")
            server_name_acknowledged = True
        elif kind == ExtensionType.SUPPORTED_GROUPS:
            # RFC 8446 §4.2.7: the server's preference, for the client's next connections.
            groups = body.sub_reader(2, "named_group_list", minimum=2, maximum=2**16 - 2)
            body.expect_end("supported_groups")
            values: list[int] = []
            while groups.remaining:
                values.append(groups.uint16("named_group"))
            supported_groups = tuple(values)
    return EncryptedExtensions(
        extensions=extensions,
        alpn=alpn,
        early_data=early_data,
        record_size_limit=record_size_limit,
        server_name_acknowledged=server_name_acknowledged,
        supported_groups=supported_groups,
    )


@dataclass(frozen=True, slots=True)
class CertificateEntry:
    """RFC 8446 §4.4.2: one certificate (DER) and its per-entry extensions (OCSP, SCT)."""

    cert_data: bytes
    extensions: tuple[Extension, ...]


@dataclass(frozen=True, slots=True)
class Certificate13:
    """A TLS 1.3 Certificate message: request context and entries, leaf first."""

    request_context: bytes
    entries: tuple[CertificateEntry, ...]

    @property
    def certificate_ders(self) -> tuple[bytes, ...]:
        return tuple(entry.cert_data for entry in self.entries)


def parse_certificate_tls13(reader: Reader) -> Certificate13:
    """RFC 8446 §4.4.2: context<0..2^8-1>, CertificateEntry certificate_list<0..2^24-1>."""
    request_context = reader.opaque(
        1, "certificate_request_context", maximum=MAX_CERTIFICATE_REQUEST_CONTEXT_BYTES
    )
    certificates = reader.sub_reader(3, "certificate_list", maximum=MAX_CERTIFICATE_LIST_BYTES)
    reader.expect_end("Certificate")
    entries: list[CertificateEntry] = []
    while certificates.remaining:
        if len(entries) >= MAX_CERTIFICATES:
            raise DecodeError(
                f"more than {MAX_CERTIFICATES} certificates in the chain",
                offset=certificates.offset,
            )
        cert_data = certificates.opaque(3, "cert_data", minimum=1, maximum=2**24 - 1)
        # RFC 8446 §4.4.2: each entry's extensions block is always present, possibly empty.
        block = certificates.sub_reader(2, "CertificateEntry extensions", maximum=2**16 - 1)
        entries.append(CertificateEntry(cert_data, _entry_extensions(block)))
    return Certificate13(request_context, tuple(entries))


def _entry_extensions(block: Reader) -> tuple[Extension, ...]:
    """The (type, data) pairs of a CertificateEntry's extensions block, already unwrapped."""
    extensions: list[Extension] = []
    seen: set[int] = set()
    while block.remaining:
        if len(extensions) >= MAX_EXTENSIONS:
            raise DecodeError(
                f"CertificateEntry: more than {MAX_EXTENSIONS} extensions", offset=block.offset
            )
        at = block.offset
        extension_type = block.uint16("extension type")
        data = block.opaque(2, "extension data", maximum=2**16 - 1)
        if extension_type in seen:
            raise DecodeError(f"CertificateEntry: duplicate extension {extension_type}", offset=at)
        seen.add(extension_type)
        extensions.append(Extension(extension_type, data))
    return tuple(extensions)


@dataclass(frozen=True, slots=True)
class CertificateVerify:
    """RFC 8446 §4.4.3: the signature scheme (an int, so unknown ones survive) and signature."""

    algorithm: int
    signature: bytes


def parse_certificate_verify(reader: Reader) -> CertificateVerify:
    """RFC 8446 §4.4.3: SignatureScheme algorithm; opaque signature<0..2^16-1>."""
    algorithm = reader.uint16("CertificateVerify algorithm")
    signature = reader.opaque(2, "CertificateVerify signature", maximum=2**16 - 1)
    reader.expect_end("CertificateVerify")
    return CertificateVerify(algorithm, signature)


def parse_finished(reader: Reader, hash_length: int) -> bytes:
    """RFC 8446 §4.4.4: verify_data is exactly Hash.length bytes."""
    verify_data = reader.raw(hash_length, "Finished verify_data")
    reader.expect_end("Finished")
    return verify_data


@dataclass(frozen=True, slots=True)
class CertificateRequest13:
    """RFC 8446 §4.3.2: the context to echo and the extensions (signature_algorithms required)."""

    request_context: bytes
    extensions: tuple[Extension, ...]

    def extension(self, extension_type: int) -> bytes | None:
        for extension in self.extensions:
            if extension.extension_type == extension_type:
                return extension.data
        return None


def parse_certificate_request_tls13(reader: Reader) -> CertificateRequest13:
    """RFC 8446 §4.3.2: certificate_request_context<0..2^8-1>; extensions<2..2^16-1>."""
    request_context = reader.opaque(
        1, "certificate_request_context", maximum=MAX_CERTIFICATE_REQUEST_CONTEXT_BYTES
    )
    at = reader.offset
    if reader.remaining == 0:
        raise DecodeError(
            f"CertificateRequest: extensions length missing at offset {at}", offset=at
        )
    extensions = parse_extensions(reader, "CertificateRequest")
    reader.expect_end("CertificateRequest")
    if not any(e.extension_type == ExtensionType.SIGNATURE_ALGORITHMS for e in extensions):
        # RFC 8446 §4.3.2: "The 'signature_algorithms' extension MUST be specified".
        raise DecodeError(
            f"CertificateRequest without signature_algorithms at offset {at}", offset=at
        )
    return CertificateRequest13(request_context, extensions)


def parse_key_update(reader: Reader) -> int:
    """RFC 8446 §4.6.3: one byte, update_not_requested(0) or update_requested(1)."""
    at = reader.offset
    request_update = reader.uint8("KeyUpdate request_update")
    reader.expect_end("KeyUpdate")
    if request_update not in (0, 1):
        # RFC 8446 §4.6.3: any other value is an illegal_parameter.
        raise DecodeError(f"KeyUpdate request_update {request_update} at offset {at}", offset=at)
    return request_update
