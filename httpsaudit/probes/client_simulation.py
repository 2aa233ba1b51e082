"""Client simulation: replay the first flight of real clients and count what each one pays.

SSL Labs' handshake simulation asks "can this client connect?"; this one also asks "how many
round trips before its first request byte leaves?". Each profile in ``profiles/*.json`` (data,
documented in ``profiles/README.md``) becomes one raw ClientHello with that client's versions,
suites, groups, real key shares, signature algorithms, ALPN and GREASE. The server's cleartext
answer decides the rest: one connection per client, never a second hello (an HRR is answer
enough to know that client pays an extra round trip).
"""

from __future__ import annotations

import concurrent.futures
import functools
import importlib.resources
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from httpsaudit.errors import DecodeError, HttpsAuditError, Unsupported
from httpsaudit.net.raw_hello import AnswerKind, HelloAnswer, ReadUntil
from httpsaudit.probes.base import HELLO_TIMEOUT_S, ProbeContext, ProbeFailed
from httpsaudit.probes.hellos import PSK_DHE_KE, client_random, grease_values, key_share
from httpsaudit.results import ClientSimulationResult, ProbeId, SimulatedClient
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import (
    AlertDescription,
    CipherSuite,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
    name_of,
    version_label,
)
from httpsaudit.tls.hello import ClientHelloSpec
from httpsaudit.tls.messages import (
    ServerHello,
    is_tls13,
    parse_alpn_selection,
    parse_server_key_exchange,
)
from httpsaudit.tls.suites import SuiteFacts, describe_suite

# Hellos in flight at once; context.hello still enforces the per-address connection cap.
MAX_PARALLEL_HELLOS = 3
# Where the profiles live, as package data next to this module.
PROFILES_FOLDER = "profiles"
# RFC 8446 §D.4: a TLS 1.3 client sends a 32-byte legacy_session_id (middlebox compatibility).
COMPATIBILITY_SESSION_ID_BYTES = 32
# A full handshake before the first request byte: TLS 1.3 one round trip, TLS 1.2 two.
TLS13_ROUND_TRIPS = 1
TLS12_ROUND_TRIPS = 2
_VERSIONS_BY_LABEL = {version.label: int(version) for version in ProtocolVersion}
# Why a server refuses, in words; the alert name itself stays in the text.
_ALERT_MEANINGS: dict[int, str] = {
    AlertDescription.HANDSHAKE_FAILURE: "no cipher suite, group or signature algorithm in common",
    AlertDescription.PROTOCOL_VERSION: "no protocol version in common",
    AlertDescription.INSUFFICIENT_SECURITY: "the server wants stronger parameters than offered",
    AlertDescription.INTERNAL_ERROR: (
        "the server failed on this offer (OpenSSL answers versions below its minimum this way)"
    ),
    AlertDescription.ILLEGAL_PARAMETER: "the server rejected a value in the hello",
    AlertDescription.DECODE_ERROR: "the server could not parse the hello",
    AlertDescription.UNRECOGNIZED_NAME: "the server does not serve this name",
    AlertDescription.NO_APPLICATION_PROTOCOL: "no application protocol (ALPN) in common",
}


@dataclass(frozen=True, slots=True)
class ClientProfile:
    """One real client's first flight, as the profile file describes it (codes as ints)."""

    name: str
    source: str
    min_version: int
    max_version: int
    cipher_suites: tuple[int, ...]
    groups: tuple[int, ...]
    key_share_groups: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    alpn: tuple[str, ...]
    grease: bool
    false_start: bool
    false_start_requires_alpn: bool

    @property
    def offers_tls13(self) -> bool:
        return self.max_version >= ProtocolVersion.TLSv1_3

    @property
    def versions_offered(self) -> tuple[int, ...]:
        """Newest first, as supported_versions lists them (RFC 8446 §4.2.1)."""
        return tuple(
            int(version)
            for version in sorted(ProtocolVersion, reverse=True)
            if self.min_version <= version <= self.max_version
        )


def _text(document: Mapping[str, object], key: str, where: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: {key!r} must be a non-empty string")
    return value


def _flag(document: Mapping[str, object], key: str, where: str) -> bool:
    value = document.get(key)
    if not isinstance(value, bool):
        raise ValueError(f"{where}: {key!r} must be true or false")
    return value


def _texts(document: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = document.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}: {key!r} must be a list of strings")
    return tuple(str(item) for item in value)


def _codes(
    document: Mapping[str, object], key: str, registry: Mapping[str, int], where: str
) -> tuple[int, ...]:
    """Registry names, or ``0xNNNN`` for code points our tables have no name for."""
    codes: list[int] = []
    for item in _texts(document, key, where):
        if item.startswith("0x"):
            codes.append(int(item, 16))
        elif item in registry:
            codes.append(int(registry[item]))
        else:
            raise ValueError(f"{where}: unknown {key} entry {item!r}")
    return tuple(codes)


def _version(versions: Mapping[str, object], key: str, where: str) -> int:
    label = versions.get(key)
    if not isinstance(label, str) or label not in _VERSIONS_BY_LABEL:
        raise ValueError(f"{where}: versions.{key} must be one of {sorted(_VERSIONS_BY_LABEL)}")
    return _VERSIONS_BY_LABEL[label]


def parse_profile(document: object, where: str) -> ClientProfile:
    """Validate one profile file's JSON; a bad file is a packaging bug, so it raises."""
    if not isinstance(document, dict):
        raise ValueError(f"{where}: a profile is a JSON object")
    versions = document.get("versions")
    if not isinstance(versions, dict):
        raise ValueError(f"{where}: 'versions' must be an object with 'min' and 'max'")
    profile = ClientProfile(
        name=_text(document, "name", where),
        source=_text(document, "source", where),
        min_version=_version(versions, "min", where),
        max_version=_version(versions, "max", where),
        cipher_suites=_codes(document, "cipher_suites", CipherSuite.__members__, where),
        groups=_codes(document, "groups", NamedGroup.__members__, where),
        key_share_groups=_codes(document, "key_share_groups", NamedGroup.__members__, where),
        signature_algorithms=_codes(
            document, "signature_algorithms", SignatureScheme.__members__, where
        ),
        alpn=_texts(document, "alpn", where),
        grease=_flag(document, "grease", where),
        false_start=_flag(document, "false_start", where),
        false_start_requires_alpn=_flag(document, "false_start_requires_alpn", where),
    )
    if profile.min_version > profile.max_version:
        raise ValueError(f"{where}: versions.min is newer than versions.max")
    if not set(profile.key_share_groups) <= set(profile.groups):
        # RFC 8446 §4.2.8: every key share's group must be listed in supported_groups.
        raise ValueError(f"{where}: a key_share_groups entry is missing from groups")
    if profile.key_share_groups and not profile.offers_tls13:
        raise ValueError(f"{where}: key shares exist only in TLS 1.3 hellos")
    return profile


@functools.cache
def load_profiles() -> tuple[ClientProfile, ...]:
    """Every packaged profile, sorted by name; read once per process."""
    folder = importlib.resources.files("httpsaudit.probes").joinpath(PROFILES_FOLDER)
    profiles = [
        parse_profile(json.loads(entry.read_text(encoding="utf-8")), entry.name)
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    ]
    return tuple(sorted(profiles, key=lambda profile: profile.name.casefold()))


def client_hello_for(profile: ClientProfile, server_name: str | None) -> ClientHelloSpec:
    """The profile's first flight: its lists in its order, with real key shares."""
    grease = grease_values() if profile.grease else ()
    # RFC 5746 §3.4: clients send the renegotiation SCSV or the empty extension; keep theirs.
    renegotiation_extension = CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV not in (
        profile.cipher_suites
    )
    if profile.offers_tls13:
        return ClientHelloSpec(
            random=client_random(),
            session_id=os.urandom(COMPATIBILITY_SESSION_ID_BYTES),
            cipher_suites=profile.cipher_suites,
            legacy_version=ProtocolVersion.TLSv1_2,  # RFC 8446 §4.1.2
            server_name=server_name,
            supported_versions=profile.versions_offered,
            supported_groups=profile.groups,
            key_shares=tuple(key_share(group) for group in profile.key_share_groups),
            signature_algorithms=profile.signature_algorithms,
            alpn=profile.alpn,
            renegotiation_info=renegotiation_extension,
            psk_modes=(PSK_DHE_KE,),
            grease=grease,
        )
    return ClientHelloSpec(
        random=client_random(),
        cipher_suites=profile.cipher_suites,
        legacy_version=profile.max_version,
        server_name=server_name,
        supported_groups=profile.groups,
        signature_algorithms=profile.signature_algorithms,
        alpn=profile.alpn,
        renegotiation_info=renegotiation_extension,
        grease=grease,
    )


def _failed(profile: ClientProfile, failure: str) -> SimulatedClient:
    return SimulatedClient(
        client=profile.name,
        version=None,
        cipher_suite=None,
        group=None,
        alpn=None,
        hello_retry_request=False,
        round_trips=None,
        failure=failure,
    )


def _refusal(answer: HelloAnswer) -> str:
    """The server's refusal in words, led by the alert name when there is one."""
    if answer.kind is AnswerKind.ALERT and answer.alert is not None:
        description = answer.alert.description
        meaning = _ALERT_MEANINGS.get(description, "the server refused the handshake")
        return f"alert {name_of(AlertDescription, description).lower()}: {meaning}"
    if answer.kind is AnswerKind.RESET:
        return "the server reset the connection instead of answering the hello"
    if answer.kind is AnswerKind.TIMEOUT:
        return f"no answer to the hello within {HELLO_TIMEOUT_S:g} s"
    return "the server closed the connection without answering the hello"


def _tls12_group(answer: HelloAnswer, suite: SuiteFacts | None) -> str | None:
    """The ECDHE curve (RFC 8422 §5.4) or DHE prime size from the ServerKeyExchange."""
    if suite is None or suite.key_exchange not in ("ECDHE", "DHE"):
        return None
    messages = answer.messages_of_type(HandshakeType.SERVER_KEY_EXCHANGE)
    if not messages:
        return None
    ecdhe = suite.key_exchange == "ECDHE"
    parameters = parse_server_key_exchange(Reader(messages[0].body), ecdhe=ecdhe)
    if parameters.named_group is not None:
        return name_of(NamedGroup, parameters.named_group)
    return f"DHE-{parameters.dh_prime_bits}"


def _false_starts(profile: ClientProfile, suite: SuiteFacts | None, alpn: bool) -> bool:
    """RFC 7918 §3 as browsers apply it: TLS 1.2 with ECDHE and an AEAD suite.

    BoringSSL (can_false_start) and Firefox (CanFalseStartCallback) both refuse DHE (Logjam)
    and CBC; BoringSSL also wants ALPN negotiated unless told otherwise, Firefox does not.
    """
    if not profile.false_start or suite is None:
        return False
    if suite.key_exchange != "ECDHE" or suite.mode != "AEAD":
        return False
    return alpn or not profile.false_start_requires_alpn


def _hello_retry(profile: ClientProfile, retry: ServerHello) -> SimulatedClient:
    group = retry.key_share_group
    if retry.cipher_suite not in profile.cipher_suites:
        return _failed(
            profile, "the HelloRetryRequest names a cipher suite the client never offered"
        )
    if group is not None and (group not in profile.groups or group in profile.key_share_groups):
        # RFC 8446 §4.1.4: the group must be offered and must not be one already shared.
        return _failed(profile, "the HelloRetryRequest names a group the client cannot retry with")
    return SimulatedClient(
        client=profile.name,
        version=version_label(retry.selected_version),
        cipher_suite=name_of(CipherSuite, retry.cipher_suite),
        group=None if group is None else name_of(NamedGroup, group),
        alpn=None,
        hello_retry_request=True,
        round_trips=TLS13_ROUND_TRIPS + 1,
        failure=None,
    )


def judge_answer(profile: ClientProfile, answer: HelloAnswer) -> SimulatedClient:
    """What the client would make of this answer, and what the handshake costs it."""
    retry = answer.hello_retry_request
    if answer.kind is AnswerKind.HELLO_RETRY_REQUEST and retry is not None:
        return _hello_retry(profile, retry)
    hello = answer.server_hello
    if answer.kind is not AnswerKind.SERVER_HELLO or hello is None:
        return _failed(profile, _refusal(answer))
    version = hello.selected_version
    label = version_label(version)
    if not profile.min_version <= version <= profile.max_version:
        accepted = f"{version_label(profile.min_version)} to {version_label(profile.max_version)}"
        return _failed(profile, f"the server chose {label}; this client accepts {accepted}")
    suite_name = name_of(CipherSuite, hello.cipher_suite)
    if hello.cipher_suite not in profile.cipher_suites:
        return _failed(profile, f"the server chose {suite_name}, which this client never offered")
    if is_tls13(hello):
        group = hello.key_share_group
        if group is None or group not in profile.key_share_groups:
            # RFC 8446 §4.2.8: the server's share must answer one the client sent.
            return _failed(profile, "the server's key share answers none the client sent")
        return SimulatedClient(
            client=profile.name,
            version=label,
            cipher_suite=suite_name,
            group=name_of(NamedGroup, group),
            alpn=None,
            hello_retry_request=False,
            round_trips=TLS13_ROUND_TRIPS,
            failure=None,
        )
    if profile.offers_tls13 and hello.downgrade_sentinel:
        # RFC 8446 §4.1.3: a TLS 1.3 client must abort on the downgrade marker.
        return _failed(profile, f"the server chose {label} but its random signals a downgrade")
    suite = describe_suite(hello.cipher_suite)
    # ALPN is in the cleartext TLS 1.2 ServerHello (RFC 7301 §3.1).
    alpn_data = hello.extension(ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION)
    selected = _selected_alpn(alpn_data)
    alpn = selected is not None
    return SimulatedClient(
        client=profile.name,
        version=label,
        cipher_suite=suite_name,
        group=_tls12_group(answer, suite),
        alpn=selected,
        hello_retry_request=False,
        round_trips=TLS13_ROUND_TRIPS if _false_starts(profile, suite, alpn) else TLS12_ROUND_TRIPS,
        failure=None,
    )


def simulate(context: ProbeContext, profile: ClientProfile) -> SimulatedClient:
    """One connection: the profile's hello, read through the TLS 1.2 first flight."""
    spec = client_hello_for(profile, context.target.sni)
    return judge_answer(profile, context.hello(spec, until=ReadUntil.FIRST_FLIGHT))


class ClientSimulationProbe:
    """One raw hello per client profile, a few at a time; one connection each."""

    probe_id = ProbeId.CLIENT_SIMULATION
    requires: tuple[ProbeId, ...] = (ProbeId.CONNECTION,)

    def run(self, context: ProbeContext) -> ClientSimulationResult:
        profiles = load_profiles()
        _ = context.address  # no timed connection: Unsupported (skipped) before any work
        workers = max(1, min(MAX_PARALLEL_HELLOS, len(profiles)))
        with concurrent.futures.ThreadPoolExecutor(
            workers, thread_name_prefix="client-simulation"
        ) as pool:
            futures = [pool.submit(simulate, context, profile) for profile in profiles]
            clients: list[SimulatedClient] = []
            error: HttpsAuditError | None = None
            for future in futures:
                try:
                    clients.append(future.result())
                except Unsupported:
                    raise
                except HttpsAuditError as exc:
                    error = error or exc
        result = ClientSimulationResult(clients=tuple(clients))
        if error is not None:
            raise ProbeFailed(error, result)
        return result


def _selected_alpn(data: bytes | None) -> str | None:
    """The protocol a TLS 1.2 ServerHello picked; a malformed extension counts as none."""
    if data is None:
        return None
    try:
        return parse_alpn_selection(Reader(data))
    except DecodeError:
        return None
