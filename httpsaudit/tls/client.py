"""A minimal sans-IO TLS 1.3 client (RFC 8446), h11 style: bytes in, events and bytes out.

It exists for what stock clients cannot do: send 0-RTT data, resume with a ticket we hold as plain
data, and replay a first flight byte for byte. Drive it like h11::

    connection = ClientConnection(params)
    connection.start()                      # queues the first flight
    send(connection.data_to_send())
    while True:
        event = connection.next_event()
        if event is NEED_DATA:
            connection.receive_data(recv())  # b"" means end of stream
            continue
        ...                                 # then send(connection.data_to_send()) again

States (``ClientState``)::

    IDLE --start()--> WAIT_SERVER_HELLO --HelloRetryRequest (once)--> WAIT_SERVER_HELLO
                             | ServerHello
                             v
                      WAIT_ENCRYPTED_EXTENSIONS --(PSK accepted)-------------+
                             | (full handshake)                              |
                             v                                               |
                      WAIT_CERTIFICATE (a CertificateRequest may come first) |
                             v                                               |
                      WAIT_CERTIFICATE_VERIFY                                |
                             v                                               v
                      WAIT_FINISHED <-----------------------------------------
                             | server Finished verified; our flight queued
                             v
                      CONNECTED --close_notify / fatal alert / end of stream--> CLOSED
    any protocol error --> FAILED (an alert is queued; next_event raises the error again)

Design decisions:

- The first flight is a pure function of ``ClientParams``: randoms and key shares come in from the
  caller, so two engines built from equal params write byte-identical first flights, and either
  can finish a handshake the other's flight started (the replay probe needs exactly that).
- After a HelloRetryRequest the engine takes the new key share from
  ``ClientParams.retry_key_shares`` when one matches the selected group (deterministic, as the
  RFC 8448 §5 test needs), and otherwise generates one with ``generate_key_share``.
- Early data the server does not accept is not resent: ``negotiated.early_data_accepted`` says so
  and the caller decides whether to send the request again after the handshake.
- ``ticket_age_ms`` must be the real age: GnuTLS 3.7 rejects 0-RTT when the client's age is
  larger than its own view of it (measured on loopback), and OpenSSL allows about 10 s of skew.
- A CertificateRequest is answered with an empty Certificate (RFC 8446 §4.4.2): the engine has
  no client certificates, and whether the server then refuses is the server's answer.
- Plaintext alerts are read even after the keys change: a server that fails before it has our
  keys can only send them in the clear, and the auditor wants the code.
- Every buffer and loop over a count the server controls has a named cap below.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, replace
from typing import NoReturn, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import PublicKeyAlgorithmOID

from httpsaudit.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from httpsaudit.tls.certificates import load_certificate
from httpsaudit.tls.codec import Reader, Writer
from httpsaudit.tls.codes import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
    name_of,
    version_label,
)
from httpsaudit.tls.events import (
    AlertReceived,
    ApplicationDataReceived,
    CertificateReceived,
    ConnectionClosed,
    EncryptedExtensionsReceived,
    Event,
    HandshakeComplete,
    HelloRetryRequestReceived,
    Negotiated,
    NewSessionTicketReceived,
    ResumptionTicket,
    ServerHelloReceived,
)
from httpsaudit.tls.hello import (
    GREASE_VALUES,
    ClientHelloSpec,
    KeyShare,
    PskIdentity,
    PskOffer,
    build_client_hello,
    build_record,
    encode_binders,
    truncate_binders,
)
from httpsaudit.tls.keyschedule import (
    KeySchedule,
    finished_verify_data,
    hash_for_suite,
    next_traffic_secret,
    resumption_psk,
    transcript_hash,
)
from httpsaudit.tls.keyshare import KeyShareSecret, generate_key_share
from httpsaudit.tls.messages import (
    CertificateRequest13,
    ServerHello,
    extension_offsets,
    parse_alert,
    parse_certificate_request_tls13,
    parse_certificate_tls13,
    parse_certificate_verify,
    parse_cookie,
    parse_encrypted_extensions,
    parse_extensions,
    parse_finished,
    parse_key_update,
    parse_new_session_ticket_tls13,
    parse_selected_identity,
    parse_server_hello,
    parse_server_key_share,
    server_hello_extensions_offset,
)
from httpsaudit.tls.protection import MAX_PLAINTEXT_BYTES, RecordDecryptor, RecordEncryptor
from httpsaudit.tls.records import (
    NEED_DATA,
    RECORD_HEADER_BYTES,
    HandshakeMessage,
    HandshakeReassembler,
    NeedData,
    Record,
    RecordBuffer,
)

__all__ = [
    "DEFAULT_CIPHER_SUITES",
    "DEFAULT_EXTENSION_ORDER",
    "DEFAULT_SIGNATURE_ALGORITHMS",
    "DEFAULT_SUPPORTED_GROUPS",
    "NEED_DATA",
    "ClientConnection",
    "ClientParams",
    "ClientState",
    "NeedData",
    "Negotiated",
    "ResumptionTicket",
    "signature_problem",
]

# --- bounds on what the server controls --------------------------------------------------------

# The driver calls next_event() after every read, so unread bytes stay near one read's worth.
# More than this unread means a peer flooding faster than records are taken out.
MAX_UNREAD_BYTES = 2**22
# Records (change_cipher_spec, empty application data, handshake fragments) taken in a row with no
# event to show for them. RFC 8449's smallest record_size_limit (64) needs about 4200 records for
# one handshake message of records.MAX_HANDSHAKE_MESSAGE_BYTES (2^18); twice that is a flood.
MAX_RECORDS_WITHOUT_EVENT = 8192
# Handshake messages after the handshake (NewSessionTicket, KeyUpdate). Servers send one to a
# few tickets per connection; hundreds mean a loop in the peer, not a connection to follow.
MAX_POST_HANDSHAKE_MESSAGES = 256

# --- what a default client offers -------------------------------------------------------------

# RFC 8446 §9.1 MUST/SHOULD suites: the three AEADs every TLS 1.3 server speaks.
DEFAULT_CIPHER_SUITES: tuple[int, ...] = (
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
)
DEFAULT_SUPPORTED_GROUPS: tuple[int, ...] = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
)
# Everything CertificateVerify may use that we can check (RFC 8446 §4.2.3), plus the PKCS #1
# schemes, which TLS 1.3 allows only in certificates: without them an RSA CA chain is refused.
DEFAULT_SIGNATURE_ALGORITHMS: tuple[int, ...] = (
    SignatureScheme.ecdsa_secp256r1_sha256,
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.ecdsa_secp384r1_sha384,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pkcs1_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
    SignatureScheme.rsa_pkcs1_sha512,
    SignatureScheme.ed25519,
    SignatureScheme.ed448,
    SignatureScheme.rsa_pss_pss_sha256,
    SignatureScheme.rsa_pss_pss_sha384,
    SignatureScheme.rsa_pss_pss_sha512,
    SignatureScheme.ecdsa_secp521r1_sha512,
)
# The extension order NSS and RFC 8448's traces use; types not listed follow in builder order,
# padding and pre_shared_key close the list (RFC 8446 §4.2.11).
DEFAULT_EXTENSION_ORDER: tuple[int, ...] = (
    ExtensionType.SERVER_NAME,
    ExtensionType.EXTENDED_MASTER_SECRET,
    ExtensionType.RENEGOTIATION_INFO,
    ExtensionType.SUPPORTED_GROUPS,
    ExtensionType.EC_POINT_FORMATS,
    ExtensionType.SESSION_TICKET,
    ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
    ExtensionType.STATUS_REQUEST,
    ExtensionType.KEY_SHARE,
    ExtensionType.EARLY_DATA,
    ExtensionType.SUPPORTED_VERSIONS,
    ExtensionType.SIGNATURE_ALGORITHMS,
    ExtensionType.COOKIE,
    ExtensionType.PSK_KEY_EXCHANGE_MODES,
    ExtensionType.RECORD_SIZE_LIMIT,
)
# RFC 8446 §4.1.2: 32 random bytes of legacy_session_id put a client in middlebox compatibility
# mode (§D.4); zero bytes is the other legal choice (RFC 8448 §3).
LEGACY_SESSION_ID_BYTES = 32
RANDOM_BYTES = 32

# RFC 8446 §4.4.3: the CertificateVerify signature covers 64 spaces, this context, a zero byte
# and the transcript hash.
SERVER_SIGNATURE_CONTEXT = b" " * 64 + b"TLS 1.3, server CertificateVerify" + b"\x00"
# RFC 8446 §5: the compatibility change_cipher_spec is one record holding the single byte 0x01.
CHANGE_CIPHER_SPEC_RECORD = build_record(ContentType.CHANGE_CIPHER_SPEC, b"\x01", 0x0303)
# RFC 8446 §5.1: every record after the initial ClientHello says 0x0303.
LEGACY_RECORD_VERSION = ProtocolVersion.TLSv1_2
INITIAL_RECORD_VERSION = ProtocolVersion.TLSv1_0
# RFC 8446 §4.2.11.1: ages are added modulo 2^32.
TICKET_AGE_MODULUS = 2**32

# RFC 8446 §4.2 table: what each server message may carry (ours to compare with what we sent).
_SERVER_HELLO_EXTENSIONS = frozenset(
    {ExtensionType.SUPPORTED_VERSIONS, ExtensionType.KEY_SHARE, ExtensionType.PRE_SHARED_KEY}
)
_HELLO_RETRY_REQUEST_EXTENSIONS = frozenset(
    {ExtensionType.SUPPORTED_VERSIONS, ExtensionType.KEY_SHARE, ExtensionType.COOKIE}
)
# Extensions we recognise that RFC 8446 §4.2 does not list for EncryptedExtensions (the TLS 1.2
# ones included): receiving one is an illegal_parameter, not an unsupported_extension.
_NOT_IN_ENCRYPTED_EXTENSIONS = frozenset(
    {
        ExtensionType.STATUS_REQUEST,
        ExtensionType.EC_POINT_FORMATS,
        ExtensionType.SIGNATURE_ALGORITHMS,
        ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP,
        ExtensionType.PADDING,
        ExtensionType.ENCRYPT_THEN_MAC,
        ExtensionType.EXTENDED_MASTER_SECRET,
        ExtensionType.SESSION_TICKET,
        ExtensionType.PRE_SHARED_KEY,
        ExtensionType.SUPPORTED_VERSIONS,
        ExtensionType.COOKIE,
        ExtensionType.PSK_KEY_EXCHANGE_MODES,
        ExtensionType.CERTIFICATE_AUTHORITIES,
        ExtensionType.OID_FILTERS,
        ExtensionType.POST_HANDSHAKE_AUTH,
        ExtensionType.SIGNATURE_ALGORITHMS_CERT,
        ExtensionType.KEY_SHARE,
        ExtensionType.RENEGOTIATION_INFO,
    }
)

_T = TypeVar("_T")


def _known(value: _T | None, what: str) -> _T:
    if value is None:
        raise LocalProtocolError(f"{what} is not known yet: the engine is out of step")
    return value


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


@dataclass(frozen=True, slots=True)
class ClientParams:
    """Everything the first flight depends on; equal params give byte-identical first flights.

    ``key_shares`` are generated by the caller (``generate_key_share``, or ``ClientParams.generate``
    for all of it at once); an empty tuple sends an empty key_share list, which asks the server
    for a HelloRetryRequest. ``ticket_age_ms`` is the caller's clock: milliseconds since the
    ticket arrived. ``early_data`` needs a ticket whose ``max_early_data_size`` admits it.
    With ``psk_modes == (psk_ke,)`` and a ticket, neither key_share nor supported_groups is sent
    (RFC 8446 §9.2: they go together), so ``key_shares`` is then ignored.

    After a HelloRetryRequest the new share comes from ``retry_key_shares`` when one matches the
    selected group, else from ``generate_key_share``; list in ``supported_groups`` only groups one
    of the two can make (RFC 8448's ffdhe groups, say, would end in a LocalProtocolError).

    The fields after ``retry_key_shares`` shape the hello byte for byte (the RFC 8448 traces need
    them); their defaults make a plain TLS 1.3-only hello.
    """

    random: bytes
    legacy_session_id: bytes
    server_name: str | None
    cipher_suites: tuple[int, ...] = DEFAULT_CIPHER_SUITES
    supported_groups: tuple[int, ...] = DEFAULT_SUPPORTED_GROUPS
    key_shares: tuple[KeyShareSecret, ...] = ()
    signature_algorithms: tuple[int, ...] = DEFAULT_SIGNATURE_ALGORITHMS
    alpn: tuple[str, ...] = ()
    ticket: ResumptionTicket | None = None
    ticket_age_ms: int = 0
    psk_modes: tuple[int, ...] = (PskKeyExchangeMode.psk_dhe_ke,)
    early_data: bytes | None = None
    send_compat_ccs: bool = True
    retry_key_shares: tuple[KeyShareSecret, ...] = ()
    renegotiation_info: bool = False
    session_ticket_extension: bool = False
    record_size_limit: int | None = None
    grease: tuple[int, ...] = ()
    avoid_f5_sizes: bool = True
    extension_order: tuple[int, ...] = DEFAULT_EXTENSION_ORDER
    extra_extensions: tuple[tuple[int, bytes], ...] = ()

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise LocalProtocolError(f"ClientParams: {problem}")

    def _problem(self) -> str | None:
        if len(self.random) != RANDOM_BYTES:
            return f"random must be {RANDOM_BYTES} bytes, not {len(self.random)}"
        if len(self.legacy_session_id) > LEGACY_SESSION_ID_BYTES:
            return f"legacy_session_id is at most {LEGACY_SESSION_ID_BYTES} bytes"
        if self.server_name is not None and (
            not self.server_name.isascii() or not 0 < len(self.server_name) < 2**16
        ):
            return "server_name must be an ASCII (punycode) host name"
        if not self.cipher_suites:
            return "no cipher suites"
        for suite in (
            *self.cipher_suites,
            *(() if self.ticket is None else (self.ticket.suite_code,)),
        ):
            try:
                hash_for_suite(suite)
            except LocalProtocolError:
                return f"0x{suite:04x} is not a TLS 1.3 cipher suite this engine can run"
        groups = [share.group for share in self.key_shares]
        if len(set(groups)) != len(groups):
            # RFC 8446 §4.2.8: clients MUST NOT offer two KeyShareEntry values for one group.
            return "two key shares for the same group"
        if not set(groups) <= set(self.supported_groups):
            # RFC 8446 §4.2.8: each KeyShareEntry MUST be for a group in supported_groups.
            return "a key share for a group missing from supported_groups"
        if not self.signature_algorithms:
            return "no signature_algorithms (RFC 8446 §4.2.3 requires them for certificates)"
        if any(not 0 < len(name) < 256 or not name.isascii() for name in self.alpn):
            return "ALPN names are 1..255 ASCII bytes"
        if not 0 <= self.ticket_age_ms < TICKET_AGE_MODULUS:
            return "ticket_age_ms must be 0..2^32-1"
        if any(not 0 <= mode < 256 for mode in self.psk_modes):
            return "psk_modes are uint8 values"
        if self.ticket is not None and (not self.ticket.psk or not self.ticket.ticket):
            return "the ticket has no PSK or no ticket bytes"
        if self.ticket is not None and not self.psk_modes:
            # RFC 8446 §4.2.9: a client offering pre_shared_key MUST send psk_key_exchange_modes.
            return "a ticket needs psk_modes"
        return self._early_data_problem()

    def _early_data_problem(self) -> str | None:
        if self.early_data is None:
            return None
        if self.ticket is None:
            return "early_data needs a ticket (RFC 8446 §4.2.10)"
        if len(self.early_data) > self.ticket.max_early_data_size:
            return (
                f"{len(self.early_data)} bytes of early data; the ticket allows "
                f"{self.ticket.max_early_data_size}"
            )
        if self.ticket.suite_code not in self.cipher_suites:
            # RFC 8446 §4.2.10: 0-RTT data is protected with the ticket's cipher suite.
            return "early_data needs the ticket's cipher suite among cipher_suites"
        return None

    @property
    def psk_ke_only(self) -> bool:
        """A ticket offered in psk_ke mode alone: no (EC)DHE, so no key_share at all."""
        return (
            self.ticket is not None
            and PskKeyExchangeMode.psk_dhe_ke not in self.psk_modes
            and PskKeyExchangeMode.psk_ke in self.psk_modes
        )

    @classmethod
    def generate(
        cls,
        server_name: str | None,
        *,
        key_share_groups: tuple[int, ...] = (NamedGroup.x25519,),
        supported_groups: tuple[int, ...] | None = None,
        cipher_suites: tuple[int, ...] = DEFAULT_CIPHER_SUITES,
        alpn: tuple[str, ...] = (),
        ticket: ResumptionTicket | None = None,
        ticket_age_ms: int = 0,
        psk_modes: tuple[int, ...] = (PskKeyExchangeMode.psk_dhe_ke,),
        early_data: bytes | None = None,
        send_compat_ccs: bool = True,
    ) -> ClientParams:
        """Fresh randoms and key shares; ``supported_groups`` defaults to the share groups
        followed by ``DEFAULT_SUPPORTED_GROUPS``."""
        groups = (
            supported_groups
            if supported_groups is not None
            else tuple(dict.fromkeys((*key_share_groups, *DEFAULT_SUPPORTED_GROUPS)))
        )
        return cls(
            random=secrets.token_bytes(RANDOM_BYTES),
            legacy_session_id=secrets.token_bytes(LEGACY_SESSION_ID_BYTES),
            server_name=server_name,
            cipher_suites=cipher_suites,
            supported_groups=groups,
            key_shares=tuple(generate_key_share(group) for group in key_share_groups),
            alpn=alpn,
            ticket=ticket,
            ticket_age_ms=ticket_age_ms,
            psk_modes=psk_modes,
            early_data=early_data,
            send_compat_ccs=send_compat_ccs,
        )


class ClientState(enum.Enum):
    """Where the handshake stands (see the module docstring for the transitions)."""

    IDLE = "idle"
    WAIT_SERVER_HELLO = "wait_server_hello"
    WAIT_ENCRYPTED_EXTENSIONS = "wait_encrypted_extensions"
    WAIT_CERTIFICATE = "wait_certificate"
    WAIT_CERTIFICATE_VERIFY = "wait_certificate_verify"
    WAIT_FINISHED = "wait_finished"
    CONNECTED = "connected"
    CLOSED = "closed"
    FAILED = "failed"


_HANDSHAKE_STATES = frozenset(
    {
        ClientState.WAIT_SERVER_HELLO,
        ClientState.WAIT_ENCRYPTED_EXTENSIONS,
        ClientState.WAIT_CERTIFICATE,
        ClientState.WAIT_CERTIFICATE_VERIFY,
        ClientState.WAIT_FINISHED,
    }
)


class _WriteEpoch(enum.Enum):
    """Which keys our records go out under (RFC 8446 §2 figure 4)."""

    PLAINTEXT = "plaintext"
    EARLY = "early"
    HANDSHAKE = "handshake"
    APPLICATION = "application"


# --- CertificateVerify (RFC 8446 §4.4.3) ---------------------------------------------------------

_ECDSA: dict[int, tuple[type[hashes.HashAlgorithm], type[ec.EllipticCurve]]] = {
    SignatureScheme.ecdsa_secp256r1_sha256: (hashes.SHA256, ec.SECP256R1),
    SignatureScheme.ecdsa_secp384r1_sha384: (hashes.SHA384, ec.SECP384R1),
    SignatureScheme.ecdsa_secp521r1_sha512: (hashes.SHA512, ec.SECP521R1),
}
# RFC 8446 §4.2.3: rsae schemes need an rsaEncryption key, pss schemes an RSASSA-PSS key.
_RSA_PSS: dict[int, tuple[type[hashes.HashAlgorithm], x509.ObjectIdentifier]] = {
    SignatureScheme.rsa_pss_rsae_sha256: (hashes.SHA256, PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5),
    SignatureScheme.rsa_pss_rsae_sha384: (hashes.SHA384, PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5),
    SignatureScheme.rsa_pss_rsae_sha512: (hashes.SHA512, PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5),
    SignatureScheme.rsa_pss_pss_sha256: (hashes.SHA256, PublicKeyAlgorithmOID.RSASSA_PSS),
    SignatureScheme.rsa_pss_pss_sha384: (hashes.SHA384, PublicKeyAlgorithmOID.RSASSA_PSS),
    SignatureScheme.rsa_pss_pss_sha512: (hashes.SHA512, PublicKeyAlgorithmOID.RSASSA_PSS),
}


def signature_problem(
    certificate: x509.Certificate, scheme: int, signature: bytes, content: bytes
) -> tuple[int, str] | None:
    """Why ``signature`` by ``certificate``'s key over ``content`` fails, as (alert, reason).

    None when it verifies. A scheme that does not fit the key, or that TLS 1.3 forbids in
    CertificateVerify (PKCS #1 v1.5, SHA-1), is an illegal_parameter; a wrong signature a
    decrypt_error (RFC 8446 §4.4.3).
    """
    label = name_of(SignatureScheme, scheme)
    try:
        key = certificate.public_key()
        key_oid = certificate.public_key_algorithm_oid
    except (ValueError, UnsupportedAlgorithm) as exc:
        return AlertDescription.UNSUPPORTED_CERTIFICATE, f"the leaf's public key is unusable: {exc}"
    mismatch = (AlertDescription.ILLEGAL_PARAMETER, f"{label} does not fit the leaf's key")
    try:
        if scheme in _ECDSA:
            algorithm, curve = _ECDSA[scheme]
            # RFC 8446 §4.2.3: in TLS 1.3 the ECDSA scheme also names the curve.
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
                return mismatch
            key.verify(signature, content, ec.ECDSA(algorithm()))
        elif scheme in _RSA_PSS:
            algorithm, wanted_oid = _RSA_PSS[scheme]
            if not isinstance(key, rsa.RSAPublicKey) or key_oid != wanted_oid:
                return mismatch
            # RFC 8446 §4.2.3: the salt is as long as the digest.
            digest = algorithm()
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            key.verify(signature, content, pss, digest)
        elif scheme == SignatureScheme.ed25519:
            if not isinstance(key, ed25519.Ed25519PublicKey):
                return mismatch
            key.verify(signature, content)
        elif scheme == SignatureScheme.ed448:
            if not isinstance(key, ed448.Ed448PublicKey):
                return mismatch
            key.verify(signature, content)
        else:
            # RFC 8446 §4.4.3: PKCS #1 v1.5 and SHA-1 schemes MUST NOT sign a CertificateVerify.
            return (
                AlertDescription.ILLEGAL_PARAMETER,
                f"{label} cannot sign a TLS 1.3 CertificateVerify",
            )
    except (InvalidSignature, ValueError):
        return AlertDescription.DECRYPT_ERROR, f"the {label} CertificateVerify signature is wrong"
    return None


def _extension_types(client_hello: bytes) -> frozenset[int]:
    """The extension types of one of our own ClientHello messages (header included)."""
    try:
        reader = Reader(client_hello[4:])
        reader.raw(2 + 32, "version and random")
        reader.opaque(1, "session id", maximum=32)
        reader.opaque(2, "cipher suites", maximum=2**16 - 1)
        reader.opaque(1, "compression", maximum=255)
        types = (extension.extension_type for extension in parse_extensions(reader, "ours"))
        # RFC 8701 §3: a server never answers a GREASE extension, so none counts as sent.
        return frozenset(kind for kind in types if kind not in GREASE_VALUES)
    except DecodeError as exc:
        raise LocalProtocolError(f"our own ClientHello does not parse: {exc}") from exc


class ClientConnection:
    """One TLS 1.3 client connection: no sockets, no clocks; see the module docstring."""

    def __init__(self, params: ClientParams) -> None:
        self._params = params
        self._state = ClientState.IDLE
        self._outgoing = bytearray()
        self._records = RecordBuffer()
        self._handshake = HandshakeReassembler()
        self._events: deque[Event] = deque()
        self._failure: RemoteProtocolError | LocalProtocolError | None = None
        self._pending_alert: int | None = None
        self._alert_sent: int | None = None
        self._end_of_stream = False
        self._overflow = False
        self._close_notify_received = False
        self._close_sent = False
        self._records_without_event = 0
        self._post_handshake_messages = 0
        self._transcript = bytearray()
        self._key_shares = {} if params.psk_ke_only else {s.group: s for s in params.key_shares}
        self._psk_offered = params.ticket is not None
        self._early_pending = False
        self._ccs_sent = False
        self._hello_retry_request: ServerHello | None = None
        self._certificate_request: CertificateRequest13 | None = None
        self._leaf: x509.Certificate | None = None
        self._schedule: KeySchedule | None = None
        self._client_handshake_secret: bytes | None = None
        self._server_handshake_secret: bytes | None = None
        self._client_application_secret: bytes | None = None
        self._server_application_secret: bytes | None = None
        self._resumption_master_secret: bytes | None = None
        self._read: RecordDecryptor | None = None
        self._write: RecordEncryptor | None = None
        self._write_epoch = _WriteEpoch.PLAINTEXT
        self._write_fragment_bytes = MAX_PLAINTEXT_BYTES
        self._negotiated = Negotiated(early_data_offered=params.early_data is not None)
        self._sent_extensions: frozenset[int] = frozenset()
        self._first_flight = self._build_first_flight()

    # --- the public surface ---------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def negotiated(self) -> Negotiated:
        """A snapshot of what is settled so far."""
        return self._negotiated

    @property
    def first_flight(self) -> bytes:
        """Exactly what ``start()`` queues: ClientHello record, [CCS, 0-RTT records]."""
        return self._first_flight

    @property
    def alert_sent(self) -> int | None:
        """The fatal alert we queued when the connection failed (an AlertDescription value)."""
        return self._alert_sent

    def start(self) -> None:
        """Queue the first flight; call once."""
        if self._state is not ClientState.IDLE:
            raise LocalProtocolError("start() was already called")
        self._outgoing += self._first_flight
        self._state = ClientState.WAIT_SERVER_HELLO

    def data_to_send(self) -> bytes:
        """Everything queued since the last call, in order."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def receive_data(self, data: bytes) -> None:
        """Buffer bytes from the server; ``b""`` means the stream ended. Never raises."""
        if not data:
            self._end_of_stream = True
            return
        if self._state in (ClientState.CLOSED, ClientState.FAILED) or self._end_of_stream:
            return
        if self._records.buffered_bytes + len(data) > MAX_UNREAD_BYTES:
            self._overflow = True
            return
        self._records.receive_data(data)

    def next_event(self) -> Event | NeedData:
        """The next event, or ``NEED_DATA``. Raises only DecodeError, RemoteProtocolError or
        LocalProtocolError; events read before a failure come out first, then it is raised (and
        raised again on every later call)."""
        if self._events:
            return self._events.popleft()
        if self._failure is not None:
            raise self._failure
        if self._state is ClientState.IDLE:
            raise LocalProtocolError("call start() before reading events")
        if self._state is ClientState.CLOSED:
            return ConnectionClosed(close_notify=self._close_notify_received)
        try:
            while not self._events:
                record = self._records.next_record()
                if record is NEED_DATA:
                    if self._overflow:
                        self._abort(
                            AlertDescription.INTERNAL_ERROR,
                            f"more than {MAX_UNREAD_BYTES} bytes received and not yet read",
                        )
                    if not self._end_of_stream:
                        return NEED_DATA
                    self._stream_ended()
                    continue
                self._records_without_event += 1
                if self._records_without_event > MAX_RECORDS_WITHOUT_EVENT:
                    self._abort(
                        AlertDescription.UNEXPECTED_MESSAGE,
                        f"{MAX_RECORDS_WITHOUT_EVENT} records in a row without an event",
                        record.offset,
                    )
                self._handle_record(record)
        except (RemoteProtocolError, LocalProtocolError) as exc:
            self._fail(exc)
            if not self._events:
                raise
        self._records_without_event = 0
        return self._events.popleft()

    def send_application_data(self, data: bytes) -> None:
        """Queue ``data`` under the application traffic keys (after ``HandshakeComplete``)."""
        if self._state is not ClientState.CONNECTED or self._close_sent:
            raise LocalProtocolError(
                f"cannot send application data in state {self._state.value}"
                + (" after close()" if self._close_sent else "")
            )
        writer = _known(self._write, "the application write key")
        for chunk in _chunks(data, self._write_fragment_bytes):
            self._outgoing += writer.encrypt(ContentType.APPLICATION_DATA, chunk)

    def close(self) -> None:
        """Queue close_notify (RFC 8446 §6.1) under the current keys; later calls do nothing."""
        if self._close_sent or self._state in (ClientState.IDLE, ClientState.FAILED):
            return
        self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)
        self._close_sent = True

    # --- building our flights -------------------------------------------------------------------

    def _binder_algorithm(self) -> hashes.HashAlgorithm:
        return hash_for_suite(_known(self._params.ticket, "the ticket").suite_code)

    def _build_hello(
        self, shares: tuple[KeyShareSecret, ...], *, cookie: bytes | None, early: bool
    ) -> bytes:
        """A ClientHello message; with a ticket its binder covers ``self._transcript`` (empty, or
        message_hash + HRR after a HelloRetryRequest) and the hello cut before the binders."""
        params = self._params
        offer: PskOffer | None = None
        ticket = params.ticket if self._psk_offered else None
        if ticket is not None:
            # RFC 8446 §4.2.11.1: obfuscated_ticket_age = (age in ms + ticket_age_add) mod 2^32.
            age = (params.ticket_age_ms + ticket.age_add) % TICKET_AGE_MODULUS
            placeholder = bytes(self._binder_algorithm().digest_size)
            offer = PskOffer((PskIdentity(ticket.ticket, age),), (placeholder,))
        psk_ke_only = params.psk_ke_only
        spec = ClientHelloSpec(
            random=params.random,
            cipher_suites=params.cipher_suites,
            legacy_version=ProtocolVersion.TLSv1_2,
            session_id=params.legacy_session_id,
            server_name=params.server_name,
            supported_versions=(ProtocolVersion.TLSv1_3,),
            supported_groups=() if psk_ke_only else params.supported_groups,
            key_shares=None
            if psk_ke_only
            else tuple(KeyShare(share.group, share.public) for share in shares),
            signature_algorithms=params.signature_algorithms,
            alpn=params.alpn,
            session_ticket=params.session_ticket_extension,
            extended_master_secret=False,
            renegotiation_info=params.renegotiation_info,
            psk_modes=params.psk_modes,
            grease=params.grease,
            avoid_f5_sizes=params.avoid_f5_sizes,
            extra_extensions=params.extra_extensions,
            ec_point_formats=False,
            record_size_limit=params.record_size_limit,
            early_data=early,
            cookie=cookie,
            extension_order=params.extension_order,
            pre_shared_key=offer,
        )
        hello = build_client_hello(spec)
        if ticket is None or offer is None:
            return hello
        # RFC 8446 §4.2.11.2: the binder is an HMAC over the transcript up to the binders list,
        # with every length in that prefix already counting the binders.
        algorithm = self._binder_algorithm()
        truncated = truncate_binders(hello, offer)
        binder_key = KeySchedule.start(ticket.suite_code, ticket.psk).binder_key()
        binder = finished_verify_data(
            algorithm, binder_key, transcript_hash(algorithm, bytes(self._transcript) + truncated)
        )
        return truncated + encode_binders((binder,))

    def _build_first_flight(self) -> bytes:
        params = self._params
        early = params.early_data is not None
        hello = self._build_hello(params.key_shares, cookie=None, early=early)
        self._transcript += hello
        self._sent_extensions = _extension_types(hello)
        flight = build_record(ContentType.HANDSHAKE, hello, INITIAL_RECORD_VERSION)
        if params.early_data is None:
            return flight
        if params.send_compat_ccs:
            # RFC 8446 §D.4: with early data the compatibility CCS goes right after the hello.
            flight += CHANGE_CIPHER_SPEC_RECORD
            self._ccs_sent = True
        ticket = _known(params.ticket, "the ticket")
        algorithm = self._binder_algorithm()
        # RFC 8446 §7.1: client_early_traffic_secret = Derive-Secret(early, "c e traffic", CH).
        secret = KeySchedule.start(ticket.suite_code, ticket.psk).client_early_traffic_secret(
            transcript_hash(algorithm, hello)
        )
        self._write = RecordEncryptor(ticket.suite_code, secret)
        self._write_epoch = _WriteEpoch.EARLY
        self._early_pending = True
        for chunk in _chunks(params.early_data, MAX_PLAINTEXT_BYTES):
            flight += self._write.encrypt(ContentType.APPLICATION_DATA, chunk)
        return flight

    def _send_alert(self, level: int, description: int) -> None:
        payload = bytes([level, description])
        if self._write is None:
            self._outgoing += build_record(ContentType.ALERT, payload, LEGACY_RECORD_VERSION)
        else:
            self._outgoing += self._write.encrypt(ContentType.ALERT, payload)

    # --- failure ----------------------------------------------------------------------------

    def _abort(self, description: int | None, message: str, offset: int | None = None) -> NoReturn:
        """Raise RemoteProtocolError, remembering which alert (if any) to send for it."""
        self._pending_alert = description
        label = "" if description is None else f"{name_of(AlertDescription, description)}: "
        at = "" if offset is None else f" (offset {offset})"
        raise RemoteProtocolError(f"{label}{message}{at}", offset=offset)

    def _fail(self, exc: RemoteProtocolError | LocalProtocolError) -> None:
        self._failure = exc
        if isinstance(exc, LocalProtocolError):
            description: int | None = AlertDescription.INTERNAL_ERROR
        elif self._pending_alert is not None or self._end_of_stream:
            description = self._pending_alert
        elif isinstance(exc, DecodeError):
            description = AlertDescription.DECODE_ERROR
        else:
            description = AlertDescription.UNEXPECTED_MESSAGE
        if description is not None and self._state is not ClientState.CLOSED:
            try:
                self._send_alert(AlertLevel.FATAL, description)
                self._alert_sent = description
            except LocalProtocolError:
                pass  # a write key at its record limit: the connection is dead either way
        self._state = ClientState.FAILED

    def _stream_ended(self) -> None:
        """End of stream with nothing left to read: clean only between records when connected."""
        if (
            self._state is ClientState.CONNECTED
            and self._records.buffered_bytes == 0
            and not self._handshake.has_partial_message
        ):
            self._state = ClientState.CLOSED
            self._events.append(ConnectionClosed(close_notify=False))
            return
        where = (
            f"{self._records.buffered_bytes} bytes into a record"
            if self._records.buffered_bytes
            else f"in state {self._state.value}"
        )
        self._abort(None, f"the server closed the connection {where}", self._records.stream_offset)

    # --- records ----------------------------------------------------------------------------

    def _handle_record(self, record: Record) -> None:
        content_type = record.content_type
        if content_type == ContentType.CHANGE_CIPHER_SPEC:
            self._change_cipher_spec(record)
            return
        if content_type == ContentType.ALERT:
            # Plaintext alerts are read even after the keys change: a server that fails before
            # it has our keys can only send them in the clear, and the auditor wants the code.
            self._not_inside_a_handshake_message(record.offset)
            self._alert(record.payload, record.offset + RECORD_HEADER_BYTES)
            return
        if self._read is None:
            if content_type != ContentType.HANDSHAKE:
                self._abort(
                    AlertDescription.UNEXPECTED_MESSAGE,
                    f"{name_of(ContentType, content_type)} record before the ServerHello",
                    record.offset,
                )
            self._handshake_bytes(record.payload, record.offset, record.legacy_version)
            return
        if content_type != ContentType.APPLICATION_DATA:
            # RFC 8446 §5.2: after the ServerHello every record but CCS is protected.
            self._abort(
                AlertDescription.UNEXPECTED_MESSAGE,
                f"cleartext {name_of(ContentType, content_type)} record after the ServerHello",
                record.offset,
            )
        try:
            inner = self._read.decrypt(record)
        except RemoteProtocolError as exc:
            self._pending_alert = (
                AlertDescription.RECORD_OVERFLOW
                if exc.message.startswith("record_overflow")
                else AlertDescription.UNEXPECTED_MESSAGE
                if exc.message.startswith("unexpected_message")
                else AlertDescription.BAD_RECORD_MAC
            )
            raise
        if inner.content_type == ContentType.HANDSHAKE:
            self._handshake_bytes(inner.content, record.offset, LEGACY_RECORD_VERSION)
        elif inner.content_type == ContentType.ALERT:
            self._not_inside_a_handshake_message(record.offset)
            self._alert(inner.content, record.offset + RECORD_HEADER_BYTES)
        elif inner.content_type == ContentType.APPLICATION_DATA:
            self._not_inside_a_handshake_message(record.offset)
            if self._state is not ClientState.CONNECTED:
                self._abort(
                    AlertDescription.UNEXPECTED_MESSAGE,
                    f"application data in state {self._state.value}",
                    record.offset,
                )
            if inner.content:
                self._events.append(ApplicationDataReceived(inner.content))
        else:
            self._abort(
                AlertDescription.UNEXPECTED_MESSAGE,
                f"protected record of type {inner.content_type}",
                record.offset,
            )

    def _not_inside_a_handshake_message(self, offset: int) -> None:
        # RFC 8446 §5.1: handshake messages MUST NOT be interleaved with other record types.
        if self._handshake.has_partial_message:
            self._abort(
                AlertDescription.UNEXPECTED_MESSAGE,
                "a record of another type inside a fragmented handshake message",
                offset,
            )

    def _change_cipher_spec(self, record: Record) -> None:
        # RFC 8446 §5: a CCS holding the single byte 0x01 may arrive any time after our first
        # ClientHello until the server Finished, and is dropped; anything else is unexpected.
        if record.payload != b"\x01" or self._state not in _HANDSHAKE_STATES:
            self._abort(
                AlertDescription.UNEXPECTED_MESSAGE,
                f"change_cipher_spec {record.payload.hex()} in state {self._state.value}",
                record.offset,
            )
        self._not_inside_a_handshake_message(record.offset)

    def _alert(self, payload: bytes, offset: int) -> None:
        alert = parse_alert(Reader(payload, base=offset))
        if alert.description == AlertDescription.CLOSE_NOTIFY:
            self._state = ClientState.CLOSED
            self._close_notify_received = True
            self._events.append(ConnectionClosed(close_notify=True))
            return
        self._events.append(AlertReceived(alert.level, alert.description))
        if alert.description != AlertDescription.USER_CANCELED:
            # RFC 8446 §6: every other alert is fatal whatever its level; unknown ones too.
            self._state = ClientState.CLOSED

    def _handshake_bytes(self, payload: bytes, offset: int, legacy_version: int) -> None:
        if not payload:
            # RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent.
            self._abort(
                AlertDescription.UNEXPECTED_MESSAGE, "a zero-length handshake fragment", offset
            )
        self._handshake.receive_record(
            Record(ContentType.HANDSHAKE, legacy_version, payload, offset)
        )
        while (message := self._handshake.next_message()) is not NEED_DATA:
            ends_record = self._handshake_message(message)
            if ends_record and self._handshake.has_partial_message:
                # RFC 8446 §5.1: messages before a key change end their record.
                self._abort(
                    AlertDescription.UNEXPECTED_MESSAGE,
                    f"handshake bytes after {name_of(HandshakeType, message.msg_type)} in the "
                    "same record",
                    message.offset,
                )

    # --- handshake messages -------------------------------------------------------------------

    def _handshake_message(self, message: HandshakeMessage) -> bool:
        """Process one message; True when it must end its record (a key change follows)."""
        state = self._state
        kind = message.msg_type
        if state is ClientState.CONNECTED:
            return self._post_handshake(message)
        if state is ClientState.WAIT_SERVER_HELLO and kind == HandshakeType.SERVER_HELLO:
            return self._server_hello(message)
        if state is ClientState.WAIT_ENCRYPTED_EXTENSIONS and (
            kind == HandshakeType.ENCRYPTED_EXTENSIONS
        ):
            self._encrypted_extensions(message)
            return False
        if state is ClientState.WAIT_CERTIFICATE:
            if kind == HandshakeType.CERTIFICATE_REQUEST and self._certificate_request is None:
                self._read_certificate_request(message)
                return False
            if kind == HandshakeType.CERTIFICATE:
                self._certificate(message)
                return False
        if state is ClientState.WAIT_CERTIFICATE_VERIFY and (
            kind == HandshakeType.CERTIFICATE_VERIFY
        ):
            self._certificate_verify(message)
            return False
        if state is ClientState.WAIT_FINISHED and kind == HandshakeType.FINISHED:
            self._server_finished(message)
            return True
        self._abort(
            AlertDescription.UNEXPECTED_MESSAGE,
            f"{name_of(HandshakeType, kind)} in state {state.value}",
            message.offset,
        )

    def _hash(self) -> bytes:
        return transcript_hash(
            _known(self._schedule, "the key schedule").algorithm, bytes(self._transcript)
        )

    def _server_hello_checks(
        self,
        hello: ServerHello,
        offsets: dict[int, int],
        message: HandshakeMessage,
        allowed: frozenset[int],
    ) -> None:
        params = self._params
        if hello.selected_version != ProtocolVersion.TLSv1_3:
            # RFC 8446 §4.2.1: we offered TLS 1.3 alone. The version stays readable in
            # ``negotiated`` after the failure: a TLS 1.2-only server is an answer, not noise.
            self._negotiated = replace(self._negotiated, version=hello.selected_version)
            self._abort(
                AlertDescription.PROTOCOL_VERSION,
                f"the server chose {version_label(hello.selected_version)}; only TLS 1.3 was "
                "offered",
                message.offset,
            )
        if hello.session_id != params.legacy_session_id:
            # RFC 8446 §4.1.3: the echo MUST match what we sent.
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                "legacy_session_id_echo differs from our legacy_session_id",
                message.offset,
            )
        if hello.compression_method != 0:
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                f"legacy_compression_method {hello.compression_method}",
                message.offset,
            )
        if hello.cipher_suite not in params.cipher_suites:
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                f"cipher suite {name_of(CipherSuite, hello.cipher_suite)} was not offered",
                message.offset,
            )
        for extension in hello.extensions:
            kind = extension.extension_type
            at = offsets[kind]
            if kind not in self._sent_extensions and not (
                hello.is_hello_retry_request and kind == ExtensionType.COOKIE
            ):
                # RFC 8446 §4.2: a response to an extension we did not send (HRR cookies aside).
                self._abort(
                    AlertDescription.UNSUPPORTED_EXTENSION,
                    f"{name_of(ExtensionType, kind)} was not offered",
                    at,
                )
            if kind not in allowed:
                self._abort(
                    AlertDescription.ILLEGAL_PARAMETER,
                    f"{name_of(ExtensionType, kind)} does not belong in a "
                    + ("HelloRetryRequest" if hello.is_hello_retry_request else "ServerHello"),
                    at,
                )

    def _server_hello(self, message: HandshakeMessage) -> bool:
        hello = parse_server_hello(Reader(message.body, base=message.offset + 4))
        block = server_hello_extensions_offset(hello, message.offset)
        offsets = {
            extension.extension_type: at
            for extension, at in zip(
                hello.extensions, extension_offsets(hello.extensions, block), strict=True
            )
        }
        if hello.is_hello_retry_request:
            self._hello_retry(hello, message, offsets)
            return True
        self._server_hello_checks(hello, offsets, message, _SERVER_HELLO_EXTENSIONS)
        params = self._params
        suite = hello.cipher_suite
        retry = self._hello_retry_request
        if retry is not None and suite != retry.cipher_suite:
            # RFC 8446 §4.1.4: the ServerHello MUST keep the HelloRetryRequest's suite.
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                "the ServerHello changed the HelloRetryRequest's cipher suite",
                message.offset,
            )
        psk_accepted = False
        psk_data = hello.extension(ExtensionType.PRE_SHARED_KEY)
        if psk_data is not None:
            at = offsets[ExtensionType.PRE_SHARED_KEY]
            selected = parse_selected_identity(Reader(psk_data, base=at))
            if selected != 0 or not self._psk_offered:
                # RFC 8446 §4.2.11: one identity was offered, index 0.
                self._abort(AlertDescription.ILLEGAL_PARAMETER, f"selected_identity {selected}", at)
            if hash_for_suite(suite).name != self._binder_algorithm().name:
                # RFC 8446 §4.2.11: the suite's hash MUST be the PSK's.
                self._abort(
                    AlertDescription.ILLEGAL_PARAMETER,
                    f"{name_of(CipherSuite, suite)} does not use the ticket's hash",
                    at,
                )
            psk_accepted = True
        shared_secret: bytes | None = None
        group: int | None = None
        share_data = hello.extension(ExtensionType.KEY_SHARE)
        if share_data is not None:
            at = offsets[ExtensionType.KEY_SHARE]
            entry = parse_server_key_share(Reader(share_data, base=at))
            share = self._key_shares.get(entry.group)
            if share is None:
                # RFC 8446 §4.2.8: the server's group MUST be one we sent a share for.
                self._abort(
                    AlertDescription.ILLEGAL_PARAMETER,
                    f"a {name_of(NamedGroup, entry.group)} share, for which we sent none",
                    at,
                )
            if psk_accepted and PskKeyExchangeMode.psk_dhe_ke not in params.psk_modes:
                self._abort(AlertDescription.ILLEGAL_PARAMETER, "psk_dhe_ke was not offered", at)
            try:
                shared_secret = share.shared_secret(entry.key_exchange)
            except RemoteProtocolError as exc:
                self._abort(AlertDescription.ILLEGAL_PARAMETER, exc.message, at)
            group = entry.group
        elif not psk_accepted:
            # RFC 8446 §4.2.8: without a PSK the server MUST send a key share.
            self._abort(
                AlertDescription.MISSING_EXTENSION,
                "neither key_share nor pre_shared_key in the ServerHello",
                message.offset,
            )
        elif PskKeyExchangeMode.psk_ke not in params.psk_modes:
            self._abort(
                AlertDescription.MISSING_EXTENSION,
                "psk_ke chosen (no key_share) but only psk_dhe_ke was offered",
                message.offset,
            )
        ticket = params.ticket
        psk = ticket.psk if psk_accepted and ticket is not None else None
        self._schedule = KeySchedule.start(suite, psk).with_shared_secret(shared_secret)
        self._transcript += message.encode()
        hello_hash = self._hash()
        self._client_handshake_secret = self._schedule.client_handshake_traffic_secret(hello_hash)
        self._server_handshake_secret = self._schedule.server_handshake_traffic_secret(hello_hash)
        self._read = RecordDecryptor(suite, self._server_handshake_secret)
        if not self._early_pending:
            self._switch_write(_WriteEpoch.HANDSHAKE)
        self._negotiated = replace(
            self._negotiated,
            version=ProtocolVersion.TLSv1_3,
            cipher_suite=suite,
            group=group,
            resumed=psk_accepted,
        )
        self._state = ClientState.WAIT_ENCRYPTED_EXTENSIONS
        self._events.append(ServerHelloReceived(suite, group, psk_accepted))
        return True

    def _hello_retry(
        self, hello: ServerHello, message: HandshakeMessage, offsets: dict[int, int]
    ) -> None:
        if self._hello_retry_request is not None:
            # RFC 8446 §4.1.4: a second HelloRetryRequest is an unexpected_message.
            self._abort(
                AlertDescription.UNEXPECTED_MESSAGE,
                "a second HelloRetryRequest",
                message.offset,
            )
        self._server_hello_checks(hello, offsets, message, _HELLO_RETRY_REQUEST_EXTENSIONS)
        params = self._params
        group = hello.key_share_group
        cookie_data = hello.extension(ExtensionType.COOKIE)
        cookie = (
            None
            if cookie_data is None
            else parse_cookie(Reader(cookie_data, base=offsets[ExtensionType.COOKIE]))
        )
        if group is not None and (
            group not in params.supported_groups or group in self._key_shares
        ):
            # RFC 8446 §4.1.4: the group MUST be offered, and not one we already sent a share for.
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                f"the HelloRetryRequest asks for {name_of(NamedGroup, group)}, which "
                + ("already had a share" if group in self._key_shares else "was not offered"),
                offsets[ExtensionType.KEY_SHARE],
            )
        if group is None and cookie is None:
            # RFC 8446 §4.1.4: an HRR that would not change the ClientHello is illegal.
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                "a HelloRetryRequest that changes nothing",
                message.offset,
            )
        suite = hello.cipher_suite
        algorithm = hash_for_suite(suite)
        self._hello_retry_request = hello
        # RFC 8446 §4.4.1: ClientHello1 is replaced by message_hash(Hash(ClientHello1)).
        first_hash = transcript_hash(algorithm, bytes(self._transcript))
        self._transcript = bytearray(
            bytes([HandshakeType.MESSAGE_HASH, 0, 0, len(first_hash)]) + first_hash
        )
        self._transcript += message.encode()
        shares = params.key_shares
        if group is not None:
            spare = [share for share in params.retry_key_shares if share.group == group]
            shares = (spare[0] if spare else generate_key_share(group),)
        if not params.psk_ke_only:
            self._key_shares = {share.group: share for share in shares}
        if self._psk_offered and algorithm.name != self._binder_algorithm().name:
            # RFC 8446 §4.1.4: drop PSKs the HRR's suite cannot use.
            self._psk_offered = False
        # RFC 8446 §4.1.2: the second hello drops early_data; the 0-RTT data is lost.
        self._early_pending = False
        self._write = None
        self._write_epoch = _WriteEpoch.PLAINTEXT
        hello2 = self._build_hello(shares, cookie=cookie, early=False)
        self._transcript += hello2
        self._sent_extensions = _extension_types(hello2)
        if params.send_compat_ccs and not self._ccs_sent:
            # RFC 8446 §D.4: the compatibility CCS goes before the second ClientHello.
            self._outgoing += CHANGE_CIPHER_SPEC_RECORD
            self._ccs_sent = True
        self._outgoing += build_record(ContentType.HANDSHAKE, hello2, LEGACY_RECORD_VERSION)
        self._negotiated = replace(self._negotiated, hello_retry_request=True)
        self._events.append(HelloRetryRequestReceived(group, suite, cookie))

    def _switch_write(self, epoch: _WriteEpoch) -> None:
        suite = _known(self._schedule, "the key schedule").suite_code
        if epoch is _WriteEpoch.HANDSHAKE:
            secret = _known(self._client_handshake_secret, "the client handshake secret")
        else:
            secret = _known(self._client_application_secret, "the client application secret")
        self._write = RecordEncryptor(suite, secret)
        self._write_epoch = epoch

    def _encrypted_extensions(self, message: HandshakeMessage) -> None:
        extensions = parse_encrypted_extensions(Reader(message.body, base=message.offset + 4))
        offsets = extension_offsets(extensions.extensions, message.offset + 4)
        params = self._params
        for extension, at in zip(extensions.extensions, offsets, strict=True):
            kind = extension.extension_type
            if kind in _NOT_IN_ENCRYPTED_EXTENSIONS:
                self._abort(
                    AlertDescription.ILLEGAL_PARAMETER,
                    f"{name_of(ExtensionType, kind)} does not belong in EncryptedExtensions",
                    at,
                )
            if kind not in self._sent_extensions:
                self._abort(
                    AlertDescription.UNSUPPORTED_EXTENSION,
                    f"{name_of(ExtensionType, kind)} in EncryptedExtensions was not offered",
                    at,
                )
        if extensions.alpn is not None and extensions.alpn not in params.alpn:
            # RFC 7301 §3.2: the server picks one of the protocols we listed.
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                f"ALPN {extensions.alpn!r} was not offered",
                message.offset,
            )
        accepted = extensions.early_data
        if accepted:
            self._check_early_data_acceptance(extensions.alpn, message.offset)
        if extensions.record_size_limit is not None:
            # RFC 8449 §4: in TLS 1.3 the limit counts the content type byte too.
            self._write_fragment_bytes = min(MAX_PLAINTEXT_BYTES, extensions.record_size_limit - 1)
        self._transcript += message.encode()
        if self._early_pending and not accepted:
            # RFC 8446 §4.2.10: rejected 0-RTT; our next records go under handshake keys.
            self._early_pending = False
            self._switch_write(_WriteEpoch.HANDSHAKE)
        self._negotiated = replace(
            self._negotiated,
            alpn=extensions.alpn,
            early_data_accepted=accepted,
            server_record_size_limit=extensions.record_size_limit,
        )
        self._state = (
            ClientState.WAIT_FINISHED if self._negotiated.resumed else ClientState.WAIT_CERTIFICATE
        )
        self._events.append(
            EncryptedExtensionsReceived(extensions.alpn, accepted, extensions.extensions)
        )

    def _check_early_data_acceptance(self, alpn: str | None, offset: int) -> None:
        """RFC 8446 §4.2.10: 0-RTT is accepted only with the first PSK, under the ticket's suite
        and ALPN; a server that says otherwise is broken, and the data it took is garbage."""
        ticket = self._params.ticket
        if not self._negotiated.resumed or ticket is None:
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER, "early data accepted without the PSK", offset
            )
        if self._negotiated.cipher_suite != ticket.suite_code:
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                "early data accepted under a cipher suite other than the ticket's",
                offset,
            )
        if alpn != ticket.alpn:
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                f"early data accepted with ALPN {alpn!r}; the ticket's is {ticket.alpn!r}",
                offset,
            )

    def _read_certificate_request(self, message: HandshakeMessage) -> None:
        request = parse_certificate_request_tls13(Reader(message.body, base=message.offset + 4))
        if request.request_context:
            # RFC 8446 §4.3.2: empty during the handshake (only post-handshake auth sets it).
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                "a handshake CertificateRequest with a request context",
                message.offset,
            )
        self._certificate_request = request
        self._transcript += message.encode()
        self._negotiated = replace(self._negotiated, client_certificate_requested=True)

    def _certificate(self, message: HandshakeMessage) -> None:
        certificate = parse_certificate_tls13(Reader(message.body, base=message.offset + 4))
        if certificate.request_context:
            # RFC 8446 §4.4.2: zero length for server authentication.
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                "the server Certificate has a request context",
                message.offset,
            )
        if not certificate.entries:
            # RFC 8446 §4.4.2.4: an empty server Certificate is a decode_error.
            self._abort(
                AlertDescription.DECODE_ERROR, "an empty server Certificate", message.offset
            )
        for entry in certificate.entries:
            for extension in entry.extensions:
                if extension.extension_type not in self._sent_extensions:
                    self._abort(
                        AlertDescription.UNSUPPORTED_EXTENSION,
                        f"{name_of(ExtensionType, extension.extension_type)} in a "
                        "CertificateEntry was not offered",
                        message.offset,
                    )
        try:
            self._leaf = load_certificate(certificate.entries[0].cert_data, what="leaf")
        except DecodeError as exc:
            self._abort(
                AlertDescription.BAD_CERTIFICATE,
                f"the leaf certificate does not parse: {exc}",
                message.offset,
            )
        self._transcript += message.encode()
        self._state = ClientState.WAIT_CERTIFICATE_VERIFY
        self._events.append(
            CertificateReceived(
                certificate.certificate_ders,
                tuple(entry.extensions for entry in certificate.entries),
            )
        )

    def _certificate_verify(self, message: HandshakeMessage) -> None:
        verify = parse_certificate_verify(Reader(message.body, base=message.offset + 4))
        if verify.algorithm not in self._params.signature_algorithms:
            # RFC 8446 §4.4.3: the scheme MUST be one we offered.
            self._abort(
                AlertDescription.ILLEGAL_PARAMETER,
                f"{name_of(SignatureScheme, verify.algorithm)} was not offered",
                message.offset,
            )
        content = SERVER_SIGNATURE_CONTEXT + self._hash()
        problem = signature_problem(
            _known(self._leaf, "the leaf certificate"), verify.algorithm, verify.signature, content
        )
        if problem is not None:
            self._abort(problem[0], problem[1], message.offset)
        self._transcript += message.encode()
        self._negotiated = replace(self._negotiated, signature_scheme=verify.algorithm)
        self._state = ClientState.WAIT_FINISHED

    def _server_finished(self, message: HandshakeMessage) -> None:
        schedule = _known(self._schedule, "the key schedule")
        algorithm = schedule.algorithm
        verify_data = parse_finished(
            Reader(message.body, base=message.offset + 4), algorithm.digest_size
        )
        expected = finished_verify_data(
            algorithm, _known(self._server_handshake_secret, "the server secret"), self._hash()
        )
        # RFC 8446 §4.4.4: a wrong verify_data is a decrypt_error; compare in constant time.
        if not hmac.compare_digest(verify_data, expected):
            self._abort(
                AlertDescription.DECRYPT_ERROR,
                "the server Finished does not verify",
                message.offset,
            )
        self._transcript += message.encode()
        server_finished_hash = self._hash()
        self._client_application_secret = schedule.client_application_traffic_secret(
            server_finished_hash
        )
        self._server_application_secret = schedule.server_application_traffic_secret(
            server_finished_hash
        )
        suite = schedule.suite_code
        self._read = RecordDecryptor(suite, self._server_application_secret)
        self._queue_client_finished(schedule)
        self._state = ClientState.CONNECTED
        self._events.append(HandshakeComplete(self._negotiated))

    def _queue_client_finished(self, schedule: KeySchedule) -> None:
        """[EndOfEarlyData] [CCS] {[Certificate] Finished}, then application keys (§4.5, §D.4)."""
        params = self._params
        if self._early_pending:
            # RFC 8446 §4.5: EndOfEarlyData, under the early keys, only when 0-RTT was accepted.
            end_of_early_data = bytes([HandshakeType.END_OF_EARLY_DATA, 0, 0, 0])
            self._outgoing += _known(self._write, "the early write key").encrypt(
                ContentType.HANDSHAKE, end_of_early_data
            )
            self._transcript += end_of_early_data
            self._early_pending = False
        if params.send_compat_ccs and not self._ccs_sent:
            self._outgoing += CHANGE_CIPHER_SPEC_RECORD
            self._ccs_sent = True
        if self._write_epoch is not _WriteEpoch.HANDSHAKE:
            self._switch_write(_WriteEpoch.HANDSHAKE)
        flight = b""
        request = self._certificate_request
        if request is not None:
            # RFC 8446 §4.4.2: no certificate to offer: an empty list, the request's context.
            body = Writer().opaque(1, request.request_context).opaque(3, b"").getvalue()
            empty = Writer().uint8(HandshakeType.CERTIFICATE).opaque(3, body).getvalue()
            self._transcript += empty
            flight += empty
        verify_data = finished_verify_data(
            schedule.algorithm,
            _known(self._client_handshake_secret, "the client secret"),
            self._hash(),
        )
        finished = Writer().uint8(HandshakeType.FINISHED).opaque(3, verify_data).getvalue()
        self._transcript += finished
        flight += finished
        self._outgoing += _known(self._write, "the handshake write key").encrypt(
            ContentType.HANDSHAKE, flight
        )
        self._resumption_master_secret = schedule.resumption_master_secret(self._hash())
        self._switch_write(_WriteEpoch.APPLICATION)

    def _post_handshake(self, message: HandshakeMessage) -> bool:
        self._post_handshake_messages += 1
        if self._post_handshake_messages > MAX_POST_HANDSHAKE_MESSAGES:
            self._abort(
                AlertDescription.UNEXPECTED_MESSAGE,
                f"more than {MAX_POST_HANDSHAKE_MESSAGES} post-handshake messages",
                message.offset,
            )
        schedule = _known(self._schedule, "the key schedule")
        body = Reader(message.body, base=message.offset + 4)
        if message.msg_type == HandshakeType.NEW_SESSION_TICKET:
            issued = parse_new_session_ticket_tls13(body)
            ticket = ResumptionTicket(
                suite_code=schedule.suite_code,
                psk=resumption_psk(
                    schedule.algorithm,
                    _known(self._resumption_master_secret, "the resumption master secret"),
                    issued.nonce,
                ),
                ticket=issued.ticket,
                age_add=issued.age_add,
                lifetime_s=issued.lifetime_s,
                max_early_data_size=issued.max_early_data_size or 0,
                server_name=self._params.server_name,
                alpn=self._negotiated.alpn,
            )
            self._events.append(NewSessionTicketReceived(ticket))
            return False
        if message.msg_type == HandshakeType.KEY_UPDATE:
            request_update = parse_key_update(body)
            # RFC 8446 §4.6.3: the server's next records use its next traffic secret.
            self._server_application_secret = next_traffic_secret(
                schedule.algorithm, _known(self._server_application_secret, "the server secret")
            )
            self._read = RecordDecryptor(schedule.suite_code, self._server_application_secret)
            if request_update == KeyUpdateRequest.update_requested and not self._close_sent:
                answer = bytes([HandshakeType.KEY_UPDATE, 0, 0, 1, 0])
                self._outgoing += _known(self._write, "the write key").encrypt(
                    ContentType.HANDSHAKE, answer
                )
                self._client_application_secret = next_traffic_secret(
                    schedule.algorithm,
                    _known(self._client_application_secret, "the client secret"),
                )
                self._switch_write(_WriteEpoch.APPLICATION)
            return True
        self._abort(
            AlertDescription.UNEXPECTED_MESSAGE,
            f"{name_of(HandshakeType, message.msg_type)} after the handshake",
            message.offset,
        )
