"""ClientHello builder for raw probes: exactly the bytes we choose, nothing a library adds.

Randomness (client random, GREASE picks, key shares) comes in from the caller so the builder
stays deterministic and testable on recorded bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from httpsaudit.errors import LocalProtocolError
from httpsaudit.tls.codec import Writer
from httpsaudit.tls.codes import ContentType, ExtensionType, HandshakeType, ProtocolVersion

# RFC 8701 §2: GREASE values for cipher suites, groups, versions and extension types.
GREASE_VALUES = tuple(0x0A0A + 0x1010 * index for index in range(16))
# RFC 7685 §4 / RFC 8446 §4.1.2: hellos between 256 and 511 bytes trip old F5 load balancers;
# clients pad them past 512. Our "large hello" probe pads to at least this size.
LARGE_HELLO_BYTES = 512
F5_HANG_MIN_BYTES = 256
MAX_PLAINTEXT_RECORD_BYTES = 2**14
# Signature schemes a modern client offers (RFC 8446 §4.2.3), ECDSA and RSA-PSS first.
DEFAULT_SIGNATURE_SCHEMES = (
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0807, 0x0808, 0x0603,
    0x0201, 0x0203,
)  # fmt: skip
# ECDHE suites need the uncompressed point format in TLS 1.2 and older (RFC 8422 §5.1.2).
EC_POINT_FORMAT_UNCOMPRESSED = 0


@dataclass(frozen=True, slots=True)
class KeyShare:
    """One key_share entry; ``key_exchange`` may be real or (for group probes) absent."""

    group: int
    key_exchange: bytes


@dataclass(frozen=True, slots=True)
class ClientHelloSpec:
    """Everything a raw ClientHello says. ``supported_versions`` set makes it TLS 1.3-capable."""

    random: bytes
    cipher_suites: tuple[int, ...]
    legacy_version: int = ProtocolVersion.TLSv1_2
    session_id: bytes = b""
    server_name: str | None = None
    supported_versions: tuple[int, ...] = ()
    supported_groups: tuple[int, ...] = ()
    key_shares: tuple[KeyShare, ...] | None = None
    signature_algorithms: tuple[int, ...] = DEFAULT_SIGNATURE_SCHEMES
    alpn: tuple[str, ...] = ()
    status_request: bool = False
    session_ticket: bool = False
    extended_master_secret: bool = True
    renegotiation_info: bool = True
    psk_modes: tuple[int, ...] = ()
    grease: tuple[int, ...] = ()
    pad_to_bytes: int = 0
    avoid_f5_sizes: bool = False  # pad a hello of 256-511 bytes to 512, as BoringSSL does
    extra_extensions: tuple[tuple[int, bytes], ...] = field(default=())
    with_extensions: bool = True
    # TLS 1.3 client options (all off by default, so the hellos above are unchanged).
    ec_point_formats: bool = True  # RFC 8422 §5.1.2; a TLS 1.3-only hello leaves it out
    record_size_limit: int | None = None  # RFC 8449 §4
    early_data: bool = False  # RFC 8446 §4.2.10: 0-RTT data follows this hello
    cookie: bytes | None = None  # RFC 8446 §4.2.2: echoed from a HelloRetryRequest
    # Extension types in the order to send them; types not listed follow in builder order.
    # GREASE extensions keep their first and last places, padding and pre_shared_key theirs.
    extension_order: tuple[int, ...] = ()
    pre_shared_key: PskOffer | None = None  # RFC 8446 §4.2.11: always the last extension


def _vector16(values: tuple[int, ...]) -> bytes:
    return Writer().uint16s(values).getvalue()


def _extension(extension_type: int, data: bytes) -> bytes:
    return Writer().uint16(extension_type).opaque(2, data, "extension").getvalue()


def _server_name(name: str) -> bytes:
    # RFC 6066 §3: a list of (name_type host_name(0), HostName) entries.
    entry = Writer().uint8(0).opaque(2, name.encode("ascii"), "host_name").getvalue()
    return Writer().opaque(2, entry, "server_name_list").getvalue()


def _alpn(protocols: tuple[str, ...]) -> bytes:
    # RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, each opaque<1..2^8-1>.
    names = b"".join(
        Writer().opaque(1, protocol.encode("ascii"), "protocol").getvalue()
        for protocol in protocols
    )
    return Writer().opaque(2, names, "protocol_name_list").getvalue()


def _key_shares(shares: tuple[KeyShare, ...]) -> bytes:
    entries = b"".join(
        Writer().uint16(share.group).opaque(2, share.key_exchange, "key_exchange").getvalue()
        for share in shares
    )
    return Writer().opaque(2, entries, "client_shares").getvalue()


def _extensions(spec: ClientHelloSpec) -> list[bytes]:
    grease = spec.grease
    extensions: list[bytes] = []
    if grease:
        extensions.append(_extension(grease[0], b""))
    if spec.server_name is not None:
        extensions.append(_extension(ExtensionType.SERVER_NAME, _server_name(spec.server_name)))
    if spec.extended_master_secret:
        extensions.append(_extension(ExtensionType.EXTENDED_MASTER_SECRET, b""))
    if spec.renegotiation_info:
        extensions.append(_extension(ExtensionType.RENEGOTIATION_INFO, b"\x00"))
    if spec.supported_groups:
        groups = (grease[1], *spec.supported_groups) if len(grease) > 1 else spec.supported_groups
        extensions.append(
            _extension(
                ExtensionType.SUPPORTED_GROUPS, Writer().opaque(2, _vector16(groups)).getvalue()
            )
        )
        if spec.ec_point_formats:
            extensions.append(
                _extension(ExtensionType.EC_POINT_FORMATS, bytes([1, EC_POINT_FORMAT_UNCOMPRESSED]))
            )
    if spec.session_ticket:
        extensions.append(_extension(ExtensionType.SESSION_TICKET, b""))
    if spec.alpn:
        extensions.append(
            _extension(ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION, _alpn(spec.alpn))
        )
    if spec.status_request:
        # RFC 6066 §8: status_type ocsp(1), empty responder_id_list and request_extensions.
        extensions.append(_extension(ExtensionType.STATUS_REQUEST, b"\x01\x00\x00\x00\x00"))
    if spec.signature_algorithms:
        schemes = Writer().opaque(2, _vector16(spec.signature_algorithms)).getvalue()
        extensions.append(_extension(ExtensionType.SIGNATURE_ALGORITHMS, schemes))
    if spec.key_shares is not None:
        shares = spec.key_shares
        if len(grease) > 1:
            # RFC 8446 §4.2.8: a share must name a listed group, so reuse the GREASE group.
            shares = (KeyShare(grease[1], b"\x00"), *shares)
        extensions.append(_extension(ExtensionType.KEY_SHARE, _key_shares(shares)))
    if spec.psk_modes:
        modes = Writer().opaque(1, bytes(spec.psk_modes), "ke_modes").getvalue()
        extensions.append(_extension(ExtensionType.PSK_KEY_EXCHANGE_MODES, modes))
    if spec.supported_versions:
        versions = spec.supported_versions
        if len(grease) > 3:
            versions = (grease[3], *versions)
        body = Writer().opaque(1, _vector16(versions), "versions").getvalue()
        extensions.append(_extension(ExtensionType.SUPPORTED_VERSIONS, body))
    if spec.record_size_limit is not None:
        limit = Writer().uint16(spec.record_size_limit, "record_size_limit").getvalue()
        extensions.append(_extension(ExtensionType.RECORD_SIZE_LIMIT, limit))
    if spec.early_data:
        # RFC 8446 §4.2.10: empty in a ClientHello.
        extensions.append(_extension(ExtensionType.EARLY_DATA, b""))
    if spec.cookie is not None:
        cookie = Writer().opaque(2, spec.cookie, "cookie").getvalue()
        extensions.append(_extension(ExtensionType.COOKIE, cookie))
    for extension_type, data in spec.extra_extensions:
        extensions.append(_extension(extension_type, data))
    if len(grease) > 4:
        extensions.append(_extension(grease[4], b"\x00"))
    return extensions


def build_client_hello(spec: ClientHelloSpec) -> bytes:
    """The ClientHello handshake message (header included), RFC 8446 §4.1.2."""
    if len(spec.random) != 32:
        raise LocalProtocolError("ClientHello random must be 32 bytes")
    suites = spec.cipher_suites
    if spec.grease:
        suites = (spec.grease[0], *suites)
    extensions = _extensions(spec) if spec.with_extensions else []
    if spec.extension_order:
        extensions = _ordered(extensions, spec.extension_order, grease=spec.grease)
    # RFC 8446 §4.2.11: pre_shared_key MUST be the last extension, after any padding.
    tail = (
        [_extension(ExtensionType.PRE_SHARED_KEY, _pre_shared_key(spec.pre_shared_key))]
        if spec.pre_shared_key is not None and spec.with_extensions
        else []
    )
    body = _hello_body(spec, suites, [*extensions, *tail])
    pad_to = spec.pad_to_bytes
    if spec.avoid_f5_sizes and F5_HANG_MIN_BYTES <= len(body) + 4 < LARGE_HELLO_BYTES:
        pad_to = max(pad_to, LARGE_HELLO_BYTES)
    if pad_to and spec.with_extensions:
        # RFC 7685: the padding extension fills the hello up to the wanted size.
        missing = pad_to - (len(body) + 4)
        if missing > 0:
            padding = _extension(ExtensionType.PADDING, bytes(max(0, missing - 4)))
            body = _hello_body(spec, suites, [*extensions, padding, *tail])
    return Writer().uint8(HandshakeType.CLIENT_HELLO).opaque(3, body, "ClientHello").getvalue()


def _hello_body(spec: ClientHelloSpec, suites: tuple[int, ...], extensions: list[bytes]) -> bytes:
    writer = Writer().uint16(spec.legacy_version, "legacy_version").raw(spec.random)
    writer.opaque(1, spec.session_id, "legacy_session_id")
    writer.opaque(2, _vector16(suites), "cipher_suites")
    writer.opaque(1, b"\x00", "legacy_compression_methods")
    if spec.with_extensions:
        writer.opaque(2, b"".join(extensions), "extensions")
    return writer.getvalue()


def build_record(content_type: int, payload: bytes, legacy_version: int = 0x0301) -> bytes:
    """Frame ``payload`` in records; RFC 8446 §5.1 says 0x0301 for an initial ClientHello."""
    writer = Writer()
    for start in range(0, max(len(payload), 1), MAX_PLAINTEXT_RECORD_BYTES):
        chunk = payload[start : start + MAX_PLAINTEXT_RECORD_BYTES]
        writer.uint8(content_type).uint16(legacy_version).opaque(2, chunk, "fragment")
    return writer.getvalue()


def client_hello_record(spec: ClientHelloSpec) -> bytes:
    """The ClientHello as it goes on the wire: handshake message inside handshake records."""
    record_version = min(spec.legacy_version, ProtocolVersion.TLSv1_0)
    return build_record(ContentType.HANDSHAKE, build_client_hello(spec), record_version)


# --- TLS 1.3 pre_shared_key (RFC 8446 §4.2.11) ------------------------------------------------

# RFC 8446 §4.2.11: PskBinderEntry is opaque<32..255>.
MIN_BINDER_BYTES = 32
MAX_BINDER_BYTES = 255


@dataclass(frozen=True, slots=True)
class PskIdentity:
    """One offered PSK: the ticket as the server issued it and its obfuscated age."""

    identity: bytes
    obfuscated_ticket_age: int


@dataclass(frozen=True, slots=True)
class PskOffer:
    """The pre_shared_key extension of a ClientHello: identities and their binders, in order.

    Build the hello once with placeholder binders of the right lengths (zeros), compute each
    binder over ``truncate_binders(hello, offer)``, then ``with_binders`` (RFC 8446 §4.2.11.2).
    """

    identities: tuple[PskIdentity, ...]
    binders: tuple[bytes, ...]

    def with_binders(self, binders: tuple[bytes, ...]) -> PskOffer:
        """The same identities with real binders, which must keep the placeholders' lengths."""
        if tuple(len(binder) for binder in binders) != tuple(len(b) for b in self.binders):
            raise LocalProtocolError("binders must keep the placeholders' lengths")
        return PskOffer(self.identities, binders)


def encode_binders(binders: tuple[bytes, ...]) -> bytes:
    """RFC 8446 §4.2.11: PskBinderEntry binders<33..2^16-1>, each opaque<32..255>."""
    entries = Writer()
    for binder in binders:
        if not MIN_BINDER_BYTES <= len(binder) <= MAX_BINDER_BYTES:
            raise LocalProtocolError(
                f"a PSK binder of {len(binder)} bytes; must be {MIN_BINDER_BYTES}.."
                f"{MAX_BINDER_BYTES}"
            )
        entries.opaque(1, binder, "binder")
    return Writer().opaque(2, entries.getvalue(), "binders").getvalue()


def _pre_shared_key(offer: PskOffer) -> bytes:
    if not offer.identities or len(offer.identities) != len(offer.binders):
        raise LocalProtocolError("a PSK offer needs one binder per identity, and at least one")
    identities = Writer()
    for entry in offer.identities:
        identities.opaque(2, entry.identity, "identity")
        identities.uint32(entry.obfuscated_ticket_age, "obfuscated_ticket_age")
    return Writer().opaque(2, identities.getvalue(), "identities").getvalue() + encode_binders(
        offer.binders
    )


def truncate_binders(client_hello: bytes, offer: PskOffer) -> bytes:
    """RFC 8446 §4.2.11.2: the hello up to, not including, the binders list it ends with.

    The lengths inside the prefix already count the binders, so the hello must have been built
    with binders of their final lengths.
    """
    cut = len(encode_binders(offer.binders))
    if cut >= len(client_hello):
        raise LocalProtocolError("the ClientHello is shorter than its binders")
    return client_hello[:-cut]


def _ordered(
    extensions: list[bytes], order: tuple[int, ...], *, grease: tuple[int, ...]
) -> list[bytes]:
    """``extensions`` sorted by ``order``; unlisted types keep their relative places after."""
    head = extensions[:1] if grease else []
    tail = extensions[-1:] if len(grease) > 4 else []
    middle = extensions[len(head) : len(extensions) - len(tail)]
    rank = {extension_type: index for index, extension_type in enumerate(order)}

    def key(extension: bytes) -> int:
        return rank.get(int.from_bytes(extension[:2], "big"), len(order))

    return [*head, *sorted(middle, key=key), *tail]
