"""Frozen, typed results shared by every layer: what each probe measured, and how it ended.

Units live in field names (``_ms``, ``_bytes``, ``_bits``). Wire code points stay ``int`` next to
their names so unknown values survive. Fields marked ``internal`` are kept for later probes and
rules but left out of JSON reports (raw DER, tracebacks).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from httpsaudit.errors import ErrorKind, Phase

INTERNAL = {"json": False}
"""Field metadata: keep the value in memory, leave it out of JSON reports."""


class ProbeId(enum.StrEnum):
    """Every probe, in the order reports list them."""

    CONNECTION = "connection"
    CERTIFICATE = "certificate"
    VERSIONS = "versions"
    DOWNGRADE = "downgrade"
    CIPHER_SUITES = "cipher_suites"
    GROUPS = "groups"
    KEY_EXCHANGE = "key_exchange"
    FALSE_START = "false_start"
    ALPN = "alpn"
    HTTP3_HINTS = "http3_hints"
    CLIENT_SIMULATION = "client_simulation"
    RESUMPTION = "resumption"
    EARLY_DATA = "early_data"
    OCSP = "ocsp"
    CERTIFICATE_DELIVERY = "certificate_delivery"


class ProbeStatus(enum.StrEnum):
    """How a probe ended: a failed probe makes its rules unknown, never passed."""

    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


# -- DNS and TCP ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DnsQuery:
    """One question asked of the resolver, and how it went."""

    record_type: str
    status: str  # "answer" | "nodata" | "nxdomain" | "servfail" | "timeout" | "error"
    addresses: tuple[str, ...]
    ttl_s: int | None
    duration_ms: float
    server: str | None


@dataclass(frozen=True, slots=True)
class DnsResult:
    """How the target name became addresses; ``resolver`` is dnspython, system or literal."""

    name: str
    resolver: str  # "dnspython" | "system"
    server: str | None
    addresses: tuple[str, ...]
    cname_chain: tuple[str, ...]
    ttl_s: int | None
    duration_ms: float
    queries: tuple[DnsQuery, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class TcpConnect:
    """The TCP handshake: its time is our round-trip estimate."""

    address: str
    port: int
    duration_ms: float
    failed_addresses: tuple[str, ...] = ()


# -- TLS -----------------------------------------------------------------------------------


class Direction(enum.StrEnum):
    """Who sent a flight."""

    CLIENT = "client"
    SERVER = "server"


@dataclass(frozen=True, slots=True)
class Flight:
    """Bytes one side sent before waiting for the other; times from the ClientHello write.

    ``start_ms`` is the first read (or write) of the flight, ``end_ms`` the one that completed
    it; they differ when a flight spans several reads (big chains, slow links).
    """

    direction: Direction
    messages: tuple[str, ...]
    wire_bytes: int
    records: int
    start_ms: float
    end_ms: float


@dataclass(frozen=True, slots=True)
class TlsHandshake:
    """What one full handshake negotiated and how long each flight took."""

    version: str
    version_code: int
    cipher_suite: str
    cipher_suite_code: int | None
    group: str | None
    group_code: int | None
    alpn: str | None
    sni: str | None
    handshake_ms: float
    round_trips: int
    hello_retry_request: bool
    flights: tuple[Flight, ...]
    client_hello_bytes: int
    server_first_flight_bytes: int
    session_id_bytes: int
    certificate_message_bytes: int | None  # exact only where the message was in the clear


# -- HTTP ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The first response: its head and the time to its first byte."""

    protocol: str  # as the status line says ("HTTP/1.1", "HTTP/1.0"), or "h2"
    method: str
    path: str
    status: int
    reason: str
    ttfb_ms: float
    server: str | None
    alt_svc: str | None
    strict_transport_security: str | None
    location: str | None
    header_bytes: int | None


# -- Certificates --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """One certificate as sent; ``position`` 0 is the leaf."""

    position: int
    subject: str
    issuer: str
    serial_hex: str
    sha256_fingerprint: str
    key_type: str  # "RSA" | "ECDSA" | "Ed25519" | "Ed448" | "DSA" | "unknown"
    key_bits: int
    key_curve: str | None
    key_description: str  # "RSA-2048", "ECDSA P-256", "Ed25519"
    signature_algorithm: str
    signature_hash: str | None
    not_before: str
    not_after: str
    days_left: int
    lifetime_days: int
    is_ca: bool
    self_signed: bool
    der_bytes: int


@dataclass(frozen=True, slots=True)
class VerifyProblem:
    """One reason the chain is not trusted, at a position in the chain as sent."""

    reason: str  # "expired" | "not_yet_valid" | "unknown_issuer" | "missing_intermediate" | ...
    depth: int
    openssl_code: int | None
    message: str


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """Whether a client with our trust store would accept the chain for this name."""

    trusted: bool
    name_matches: bool
    problems: tuple[VerifyProblem, ...]
    trust_store: str  # "system" | "system+ca-file"


@dataclass(frozen=True, slots=True)
class LeafDetails:
    """Leaf-only facts: names, revocation pointers, must-staple."""

    subject_alt_names: tuple[str, ...]
    name_checked: str
    name_matches: bool
    ocsp_urls: tuple[str, ...]
    ca_issuers_urls: tuple[str, ...]
    crl_urls: tuple[str, ...]
    must_staple: bool


@dataclass(frozen=True, slots=True)
class PeerCertificates:
    """The chain exactly as the server sent it, plus what OpenSSL's verifier said of it."""

    ders: tuple[bytes, ...] = field(metadata=INTERNAL)
    verify_errors: tuple[tuple[int, int], ...]  # (depth, X509_V_ERR code)
    trust_store: str


# -- Connection probe ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseSample:
    """One cold connection's phase times; ``None`` where the phase did not happen."""

    dns_ms: float | None
    tcp_ms: float | None
    tls_ms: float | None
    ttfb_ms: float | None
    total_ms: float | None


@dataclass(frozen=True, slots=True)
class PhaseStats:
    """Spread of one phase across samples."""

    phase: str
    samples: int
    min_ms: float
    median_ms: float
    p90_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    """The timed cold connection: DNS, TCP, TLS flights, first HTTP byte, and its samples."""

    dns: DnsResult | None
    tcp: TcpConnect | None
    tls: TlsHandshake | None
    http: HttpResponse | None
    peer_certificates: PeerCertificates | None
    samples: tuple[PhaseSample, ...]
    stats: tuple[PhaseStats, ...]
    rtt_estimate_ms: float | None
    http_error: str | None = None
    sample_errors: tuple[str, ...] = ()
    failed_handshake_flights: tuple[Flight, ...] = ()


# -- Certificate probe ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CertificateResult:
    """The chain as sent: its weight, each certificate, the leaf's names, and trust."""

    certificates: tuple[CertificateInfo, ...]
    leaf: LeafDetails
    verification: ChainVerification
    chain_der_bytes: int
    certificate_message_bytes: int
    certificate_message_bytes_exact: bool


# -- Protocol versions ---------------------------------------------------------------------


class Support(enum.StrEnum):
    """A capability's verdict; ``unknown`` when the answer could not be read."""

    SUPPORTED = "supported"
    NOT_SUPPORTED = "not_supported"
    NOT_TESTED = "not_tested"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class VersionSupport:
    """One protocol version offered alone, and what the server did with it.

    Supported only when the ServerHello names exactly the version offered: servers negotiate
    down, and OpenSSL 3.0 answers old versions with an internal_error alert.
    """

    version: str
    version_code: int
    support: Support
    answer: str  # server_hello, hello_retry_request, alert, closed, reset or timeout
    server_version_code: int | None  # the version the ServerHello named, if any
    alert: str | None
    cipher_suite: str | None


@dataclass(frozen=True, slots=True)
class VersionsResult:
    """Which versions the server speaks, and whether unusual but valid hellos upset it."""

    versions: tuple[VersionSupport, ...]
    supported: tuple[str, ...]
    highest: str | None
    lowest: str | None
    tolerates_grease: bool | None  # RFC 8701 values in a TLS 1.3-capable hello
    tolerates_large_hello: bool | None  # a hello of 512 bytes or more (RFC 7685 padding)
    intolerance: tuple[str, ...]  # what went wrong, in words, when a tolerance test failed


@dataclass(frozen=True, slots=True)
class DowngradeResult:
    """Protection against a forced fallback to an older version."""

    fallback_scsv: Support  # RFC 7507: a fallback hello below the top version is refused
    fallback_scsv_answer: str | None  # e.g. "alert inappropriate_fallback", "server_hello TLSv1.1"
    downgrade_sentinel: bool | None  # RFC 8446 §4.1.3 DOWNGRD marker when offered TLS 1.2 max


# -- Cipher suites, groups, key exchange ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class CipherSuiteInfo:
    """A cipher suite with the facts advice needs, so rules never look names up."""

    name: str
    code: int
    key_exchange: str  # "ECDHE" | "DHE" | "ECDH" (static) | "DH" (anon only) | "RSA" | "any"
    authentication: str  # "ECDSA" | "RSA" | "DSS" | "anon" | "any" (TLS 1.3)
    encryption: str  # "AES-128-GCM", "CHACHA20-POLY1305", "AES-256-CBC", "3DES-EDE-CBC"...
    mode: str  # "AEAD" | "CBC" | "stream" | "none"
    encryption_bits: int
    forward_secret: bool


@dataclass(frozen=True, slots=True)
class VersionCipherSuites:
    """Suites one version accepts; in the server's order when it has one.

    With "server" preference the last ``unranked_count`` suites rank below all the others but
    not all against each other (ranking every suite would cost a chain of hellos as long as the
    list): their order keeps what the server's picks showed, ties in our offer order. 0 for
    any other preference.
    """

    version: str
    version_code: int
    accepted: tuple[CipherSuiteInfo, ...]
    preference: str  # "server" | "client" | "single" (one suite only) | "unknown"
    unranked_count: int = 0


@dataclass(frozen=True, slots=True)
class CipherSuitesResult:
    """Accepted suites per version, the server's preference, and two choices that cost."""

    versions: tuple[VersionCipherSuites, ...]
    prefers_aes128_over_aes256: bool | None  # picks AES-128-GCM when offered both, AES-256 first
    honours_chacha20_preference: bool | None  # picks ChaCha20 for a client that lists it first


@dataclass(frozen=True, slots=True)
class GroupSupport:
    """One key-exchange group tested alone in TLS 1.3 and TLS 1.2."""

    group: str
    code: int
    tls13: Support
    tls12: Support


@dataclass(frozen=True, slots=True)
class GroupsResult:
    """Groups the server accepts, its preference, and the price of a browser-like hello."""

    groups: tuple[GroupSupport, ...]
    tls13_preference: tuple[str, ...]  # the server's order, most preferred first
    tls13_preference_kind: str  # "server" | "client" | "tiered" | "single" | "unknown"
    # The server's tiers, best first; inside a tier the client's order decides (OpenSSL 3.5+).
    tls13_preference_tiers: tuple[tuple[str, ...], ...]
    browser_hello_group: (
        str | None
    )  # group chosen for X25519MLKEM768 + x25519 with one x25519 share
    browser_hello_retry: bool | None  # ... and whether that cost a HelloRetryRequest
    dhe_prime_bits: int | None  # TLS 1.2 DHE: size of the server's prime
    # Supported TLS 1.3 groups whose place the probe's capped rounds did not settle: they are
    # in no tier and not in tls13_preference, which ranks only the groups before them.
    tls13_unranked_groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyExchangeResult:
    """What TLS 1.2 key exchange a browser-like offer gets."""

    tls12_supported: bool
    kind: str | None  # "ECDHE" | "DHE" | "RSA"
    cipher_suite: str | None
    group: str | None
    dh_prime_bits: int | None
    static_rsa_accepted: bool | None  # any RSA key-transport suite accepted (no forward secrecy)


@dataclass(frozen=True, slots=True)
class FalseStartResult:
    """TLS 1.2 False Start (RFC 7918) as browsers allow it: ECDHE + AEAD + ALPN negotiated.

    That is Chrome's rule (BoringSSL ``ssl_can_false_start``), the strictest: Firefox also
    requires ECDHE and AEAD but no longer ALPN. DHE does not qualify in either.
    """

    eligible: bool
    moot: bool  # TLS 1.3 is offered (only then): a new connection is 1-RTT anyway
    reasons: tuple[str, ...]  # why not, in words (empty when eligible)
    cipher_suite: str | None
    alpn: str | None


# -- ALPN and HTTP/3 -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlpnResult:
    """Application protocols the server selects."""

    h2: Support
    http11: Support
    selected_for_browser_offer: str | None  # for "h2, http/1.1"


@dataclass(frozen=True, slots=True)
class SvcbRecord:
    """One DNS HTTPS record (RFC 9460)."""

    priority: int
    target: str
    alpn: tuple[str, ...]
    port: int | None
    ipv4hint: tuple[str, ...]
    ipv6hint: tuple[str, ...]
    ech: bool


@dataclass(frozen=True, slots=True)
class Http3HintsResult:
    """How a browser would learn it may use HTTP/3: Alt-Svc and the DNS HTTPS record."""

    alt_svc: str | None
    alt_svc_h3: bool
    https_records: tuple[SvcbRecord, ...]
    https_record_h3: bool
    dns_status: str  # answer | nodata | nxdomain | servfail | timeout | error | not_queried


# -- Client simulation ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimulatedClient:
    """A real client's first flight replayed, and what it would cost that client."""

    client: str
    version: str | None
    cipher_suite: str | None
    group: str | None
    alpn: str | None  # TLS 1.2 only: in TLS 1.3 the server's choice travels encrypted
    hello_retry_request: bool
    round_trips: int | None  # before the client's first request byte leaves
    failure: str | None


@dataclass(frozen=True, slots=True)
class ClientSimulationResult:
    """Handshake outcome per client profile."""

    clients: tuple[SimulatedClient, ...]


# -- Session resumption --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResumptionAttempts:
    """One resumption mechanism tried N times after a full handshake, judged from the wire.

    A resumed TLS 1.2 handshake has no server Certificate message; a resumed TLS 1.3 one has a
    pre_shared_key extension in its ServerHello. Session IDs are never compared.
    """

    mechanism: str  # "session_id" | "session_ticket" | "tls13_psk"
    support: Support  # supported when at least one attempt resumed
    attempts: int
    resumed: int
    resumption_rate: float  # resumed / attempts, 0.0-1.0
    full_handshake_ms: float | None  # median of the full handshakes measured
    resumed_handshake_ms: float | None  # median of the resumed ones
    saved_ms: float | None  # full - resumed medians (negative when resuming was slower)
    full_round_trips: int | None
    resumed_round_trips: int | None
    server_flight_bytes_full: int | None  # what resumption saves on the wire
    server_flight_bytes_resumed: int | None
    note: str | None  # why not tested, or what went wrong, in words


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the server's tickets say: lifetime, size, and the key that sealed them.

    A key name is the first 16 bytes of a ticket (lowercase hex), the key name in the layout
    OpenSSL, nginx and most servers use (RFC 5077 §4's recommendation); only tickets of at
    least 80 bytes have one (a 32-byte TLS 1.3 ticket is a stateful handle). Two reports hours
    apart with the same key name mean the ticket key did not rotate.
    """

    version: str  # "TLSv1.2" | "TLSv1.3"
    tickets_seen: int
    tickets_per_connection: int | None  # TLS 1.3: NewSessionTicket messages after one handshake
    lifetime_hint_s: int | None
    ticket_bytes: int | None
    key_names: tuple[str, ...]  # distinct key names seen in this scan, hex
    single_key_name: bool | None  # every ticket in this scan carried the same key name
    reissued_on_resumption: bool | None  # a new ticket came with (1.2) or after (1.3) a resumption
    max_early_data_bytes: int | None  # TLS 1.3 early_data extension of the ticket; 0 when absent


@dataclass(frozen=True, slots=True)
class CrossAddressResumption:
    """Resuming on address B a session set up on address A."""

    mechanism: str
    from_address: str
    to_address: str
    resumed: bool | None  # None when the full handshake on A failed or A offered no session


@dataclass(frozen=True, slots=True)
class ResumptionResult:
    """Session ID, Session Ticket and TLS 1.3 PSK resumption: does it work, what it saves."""

    session_id: ResumptionAttempts
    session_ticket: ResumptionAttempts
    tls13_psk: ResumptionAttempts
    tls12_tickets: TicketFacts | None  # None: none seen (none issued, or version not tested)
    tls13_tickets: TicketFacts | None
    psk_dhe_ke: Support  # TLS 1.3 resumption with a fresh (EC)DHE exchange: forward secret
    psk_ke: Support  # resumption on the PSK alone (no forward secrecy)
    addresses: tuple[str, ...]  # HOST:PORT tried against each other; empty with one address
    cross_address: tuple[CrossAddressResumption, ...]


# -- 0-RTT early data -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirstByteTiming:
    """Time from TCP connected to the first response byte, and the round trips in it."""

    full_handshake_ms: float | None  # full TLS 1.3 handshake, then the request
    full_round_trips: int | None
    resumed_ms: float | None  # PSK resumption, then the request
    resumed_round_trips: int | None
    zero_rtt_ms: float | None  # PSK with the request sent as early data
    zero_rtt_round_trips: int | None


@dataclass(frozen=True, slots=True)
class ReplayCheck:
    """One replay attempt: was the early data accepted again, and was the request served?"""

    tested: bool
    early_data_accepted: bool | None
    served: bool | None  # a response other than 425 Too Early came back for the replay
    status: int | None  # its HTTP status
    note: str | None


@dataclass(frozen=True, slots=True)
class EarlyDataResult:
    """TLS 1.3 0-RTT: offered, accepted, what it saves, and whether it can be replayed.

    Only GET or HEAD ever travels as early data, unless ``--unsafe-probes`` allows the
    RFC 8470 check, which sends one non-idempotent request to a harmless path.
    """

    offered: Support  # tickets carry early_data.max_early_data_size > 0
    max_early_data_bytes: int | None
    accepted: Support  # early_data in EncryptedExtensions for our 0-RTT request
    method: str  # the method sent as early data
    status: int | None  # HTTP status of the 0-RTT request
    timing: FirstByteTiming
    ticket_reuse: ReplayCheck  # the same ticket again, with a new ClientHello
    exact_replay: ReplayCheck  # the byte-identical first flight on a second connection
    # RFC 8470, sent only with --unsafe-probes: a POST to a harmless path as early data.
    too_early: str  # "425" | "held" | "served" | "rejected" | "not_tested"
    too_early_status: int | None  # 425 when too_early is "425"; None when not tested
    engine_flights: tuple[Flight, ...]  # our own engine's full handshake, flight by flight
    engine_handshake_ms: float | None  # to cross-check the reference client's number
    reference_handshake_ms: float | None


# -- OCSP stapling ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OcspResponseFacts:
    """A stapled OCSP response, parsed and verified against the leaf and its issuer (RFC 6960)."""

    response_bytes: int
    # "successful" | "malformed_request" | "internal_error" | "try_later" | "sig_required" |
    # "unauthorized" | "unparseable" (the staple is not a DER OCSPResponse: the rest is None)
    response_status: str
    cert_status: str | None  # "good" | "revoked" | "unknown"
    revocation_time: str | None
    revocation_reason: str | None
    serial_matches: bool | None  # the response is about the leaf the server sent
    issuer_key_hash_matches: bool | None  # ... as issued by the leaf's issuer
    signature_valid: bool | None
    signer: str | None  # "issuer" | "delegated" | "unknown"
    delegated_ocsp_signing: bool | None  # a delegated responder has the OCSPSigning EKU
    produced_at: str | None
    this_update: str | None
    next_update: str | None
    age_s: int | None  # now - thisUpdate
    expires_in_s: int | None  # nextUpdate - now (negative: expired)
    stale: bool  # expired, or thisUpdate in the future
    problems: tuple[str, ...]  # every reason a client would reject it, in words


@dataclass(frozen=True, slots=True)
class OcspResult:
    """OCSP stapling in TLS 1.2 and 1.3, and what the leaf says about revocation."""

    ocsp_urls: tuple[str, ...]  # the leaf's responders (AIA); none: stapling advice is moot
    crl_urls: tuple[str, ...]
    revocation_info: str  # "ocsp" | "crl" | "ocsp+crl" | "none"
    tls12_stapled: Support
    tls13_stapled: Support
    connections_tried: int  # servers fetch the staple lazily: the first may come without
    # 1-based, numbered round by round (TLS 1.2 before TLS 1.3 in a round); None: none stapled
    first_stapled_connection: int | None
    response: OcspResponseFacts | None
    must_staple: bool  # the leaf has the TLS Feature status_request (RFC 7633)
    must_staple_violated: bool  # must-staple leaf, no staple: enforcing clients refuse it


# -- Certificate delivery --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainWeight:
    """What the chain costs on the wire and whether it is assembled right."""

    certificates: int
    chain_der_bytes: int
    certificate_message_bytes: int
    server_first_flight_bytes: int  # everything the server sent before waiting for the client
    initial_window_bytes: int  # 10 segments of 1460 bytes (RFC 6928)
    exceeds_initial_window: bool  # the first flight needs an extra round trip to arrive
    root_included: bool  # a self-signed CA in the chain: bytes for nothing
    duplicates: tuple[int, ...]  # positions repeating an earlier certificate (first not listed)
    order_ok: bool  # each certificate is issued by the next one
    order_problems: tuple[str, ...]
    # True: the leaf's issuer was not sent and is no root (roots never sign leaves);
    # None: the top of the chain has an unknown issuer (missing cross-cert or untrusted root).
    missing_intermediate: bool | None
    ca_issuers_urls: tuple[str, ...]  # where a client could fetch it (never fetched here)


@dataclass(frozen=True, slots=True)
class KeyCost:
    """One key type's price for a client: bytes on the wire and time to verify a signature."""

    key_description: str  # "ECDSA P-256", "RSA-2048"...
    is_leaf: bool  # the server's own leaf key (the others are references)
    public_key_bytes: int
    signature_bytes: int
    verify_us: float  # median microseconds per verification on this machine


@dataclass(frozen=True, slots=True)
class DualCertificates:
    """Does the server hold an ECDSA and an RSA certificate, chosen by the client's offer?"""

    ecdsa_certificate: str | None  # key description served to an ECDSA-only client
    rsa_certificate: str | None  # ... to an RSA-only client
    dual: bool  # both, from different certificates
    version: str | None  # the protocol version the two offers used


@dataclass(frozen=True, slots=True)
class ValidityHygiene:
    """Validity and algorithm checks a browser applies to the leaf and chain."""

    days_left: int
    lifetime_days: int
    max_lifetime_days: int  # CA/Browser Forum limit for a certificate issued when this one was
    exceeds_max_lifetime: bool
    sha1_signatures: tuple[int, ...]  # chain positions signed with SHA-1 (roots excepted)
    weak_keys: tuple[str, ...]  # "position 0: RSA-1024" (RSA < 2048, EC < 256)
    name_matches: bool


@dataclass(frozen=True, slots=True)
class CertificateDeliveryResult:
    """Chain weight and assembly, key economics, dual certificates and validity hygiene."""

    chain: ChainWeight
    key_costs: tuple[KeyCost, ...]
    dual_certificates: DualCertificates
    hygiene: ValidityHygiene


# -- Outcomes and the scan -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeError:
    """Why a probe failed: a stable kind, the phase, and a one-line message."""

    kind: ErrorKind
    phase: Phase | None
    message: str


ResultT = TypeVar("ResultT", covariant=True)


@dataclass(frozen=True, slots=True)
class ProbeOutcome(Generic[ResultT]):
    """How a probe ended. A failed probe may still carry what it measured before failing."""

    probe: ProbeId
    status: ProbeStatus
    result: ResultT | None
    error: ProbeError | None = None
    skip_reason: str | None = None
    connections: int = 0
    duration_ms: float = 0.0
    traceback: str | None = field(default=None, metadata=INTERNAL)

    @property
    def completed(self) -> bool:
        return self.status is ProbeStatus.COMPLETED


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """The target as understood: what we asked for and where we connected."""

    input: str
    host: str
    port: int
    path: str
    sni: str | None
    connect_to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Everything one scan measured; the rules and reports read only this."""

    tool_version: str
    target: ScanTarget
    started_at: str
    duration_ms: float
    connection: ProbeOutcome[ConnectionResult]
    certificate: ProbeOutcome[CertificateResult]
    versions: ProbeOutcome[VersionsResult]
    downgrade: ProbeOutcome[DowngradeResult]
    cipher_suites: ProbeOutcome[CipherSuitesResult]
    groups: ProbeOutcome[GroupsResult]
    key_exchange: ProbeOutcome[KeyExchangeResult]
    false_start: ProbeOutcome[FalseStartResult]
    alpn: ProbeOutcome[AlpnResult]
    http3_hints: ProbeOutcome[Http3HintsResult]
    client_simulation: ProbeOutcome[ClientSimulationResult]
    resumption: ProbeOutcome[ResumptionResult]
    early_data: ProbeOutcome[EarlyDataResult]
    ocsp: ProbeOutcome[OcspResult]
    certificate_delivery: ProbeOutcome[CertificateDeliveryResult]
    connections: int = 0  # every connection the scan opened to the target
    # Stopped before every probe ended (Ctrl-C): unfinished probes are skipped, reason given.
    interrupted: bool = False

    def outcomes(self) -> tuple[ProbeOutcome[object], ...]:
        """Every probe's outcome, in ``ProbeId`` order."""
        return tuple(getattr(self, probe_id.value) for probe_id in ProbeId)

    @property
    def reachable(self) -> bool:
        """True when at least one TLS session was set up (exit code 3 otherwise)."""
        connection = self.connection.result
        return connection is not None and connection.tls is not None
