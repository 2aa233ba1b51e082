"""Ready-made ClientHellos for raw probes, and real key shares when a probe needs one.

Probes differ in one or two fields (a version, a suite list, a group); everything else here is
what a modern client sends, so a server never refuses a probe for an unrelated reason.
"""

from __future__ import annotations

import os
import secrets

from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from httpsaudit.errors import Unsupported
from httpsaudit.tls.codes import NamedGroup, ProtocolVersion
from httpsaudit.tls.hello import GREASE_VALUES, ClientHelloSpec, KeyShare
from httpsaudit.tls.suites import suites_for_version

# What we list when a probe is not about groups: every group a server might insist on.
ALL_GROUPS: tuple[int, ...] = (
    NamedGroup.X25519MLKEM768,
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.secp521r1,
    NamedGroup.x448,
    NamedGroup.ffdhe2048,
    NamedGroup.ffdhe3072,
    NamedGroup.ffdhe4096,
    NamedGroup.ffdhe6144,
    NamedGroup.ffdhe8192,
    NamedGroup.SecP256r1MLKEM768,
    NamedGroup.SecP384r1MLKEM1024,
)
# TLS 1.2 ECDHE curves (RFC 8422): the only groups a TLS 1.2 server reads from the list.
TLS12_CURVES: tuple[int, ...] = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.secp521r1,
    NamedGroup.x448,
)
# RFC 8446 §4.2.9: psk_dhe_ke; listing it is what real TLS 1.3 clients do.
PSK_DHE_KE = 1


def client_random() -> bytes:
    """32 fresh random bytes: a probe hello must look like any other client's."""
    return os.urandom(32)


def grease_values() -> tuple[int, ...]:
    """Five distinct GREASE values, picked at random as browsers do (RFC 8701 §3)."""
    values = list(GREASE_VALUES)
    secrets.SystemRandom().shuffle(values)
    return tuple(values[:5])


def hello_for_version(
    version: int,
    *,
    server_name: str | None,
    cipher_suites: tuple[int, ...] | None = None,
    groups: tuple[int, ...] | None = None,
    key_shares: tuple[KeyShare, ...] = (),
    alpn: tuple[str, ...] = (),
    fallback_scsv: bool = False,
    avoid_f5_sizes: bool = False,
) -> ClientHelloSpec:
    """A hello offering ``version`` alone.

    TLS 1.3 goes in supported_versions (legacy_version stays 0x0303, RFC 8446 §4.1.2) with,
    by default, an empty key_share: a server that can use one of our groups then answers with
    a HelloRetryRequest naming its choice, which is all a probe needs. Older versions go in
    legacy_version and carry no supported_versions. Hellos stay unpadded unless
    ``avoid_f5_sizes``: a version probe must not be confused with a size intolerance, which the
    versions probe tests on its own.
    """
    suites = cipher_suites if cipher_suites is not None else suites_for_version(version)
    if fallback_scsv:
        suites = (*suites, 0x5600)  # RFC 7507 TLS_FALLBACK_SCSV
    if version >= ProtocolVersion.TLSv1_3:
        return ClientHelloSpec(
            random=client_random(),
            session_id=os.urandom(32),  # RFC 8446 §D.4 middlebox compatibility mode
            cipher_suites=suites,
            legacy_version=ProtocolVersion.TLSv1_2,
            server_name=server_name,
            supported_versions=(ProtocolVersion.TLSv1_3,),
            supported_groups=groups if groups is not None else ALL_GROUPS,
            key_shares=key_shares,
            alpn=alpn,
            psk_modes=(PSK_DHE_KE,),
            avoid_f5_sizes=avoid_f5_sizes,
        )
    return ClientHelloSpec(
        random=client_random(),
        cipher_suites=(*suites, 0x00FF) if version > ProtocolVersion.SSLv3 else suites,
        legacy_version=version,
        server_name=server_name if version > ProtocolVersion.SSLv3 else None,
        supported_groups=groups if groups is not None else TLS12_CURVES,
        alpn=alpn,
        renegotiation_info=False,  # the SCSV above says the same, and SSL 3.0 has no extensions
        extended_master_secret=version > ProtocolVersion.SSLv3,
        with_extensions=version > ProtocolVersion.SSLv3,
        avoid_f5_sizes=avoid_f5_sizes,
    )


def key_share(group: int) -> KeyShare:
    """A real public key for ``group`` (the private half is discarded: probes never finish)."""
    if group == NamedGroup.x25519:
        public = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    elif group == NamedGroup.x448:
        public = x448.X448PrivateKey.generate().public_key().public_bytes_raw()
    elif group in _CURVES:
        private = ec.generate_private_key(_CURVES[group])
        public = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    elif group == NamedGroup.X25519MLKEM768:
        # draft-ietf-tls-ecdhe-mlkem: ML-KEM-768 encapsulation key first, then the X25519 share.
        encapsulation_key = mlkem.MLKEM768PrivateKey.generate().public_key().public_bytes_raw()
        classic = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
        public = encapsulation_key + classic
    else:
        raise Unsupported(f"no key share generator for group 0x{group:04x}")
    return KeyShare(group, public)


_CURVES: dict[int, ec.EllipticCurve] = {
    NamedGroup.secp256r1: ec.SECP256R1(),
    NamedGroup.secp384r1: ec.SECP384R1(),
    NamedGroup.secp521r1: ec.SECP521R1(),
}
