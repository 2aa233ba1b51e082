"""The TLS 1.2 key exchange a browser-like offer gets, and whether static RSA is still accepted.

ECDHE and DHE give forward secrecy; RSA key transport (TLS_RSA_WITH_*) does not: whoever gets
the server's key later can decrypt every recorded session (RFC 7525 §3.6, dropped in TLS 1.3).
"""

from __future__ import annotations

from httpsaudit.net.raw_hello import ReadUntil
from httpsaudit.probes.base import ProbeContext
from httpsaudit.probes.groups import (
    REFUSALS,
    TLS12_DHE_OFFER_GROUPS,
    read_tls12_key_exchange,
    speaks,
    suites_with_key_exchange,
    tls12_hello,
)
from httpsaudit.results import KeyExchangeResult, ProbeId, VersionsResult
from httpsaudit.tls.codes import CipherSuite, NamedGroup, ProtocolVersion, name_of

# A browser's TLS 1.2 list (Chrome's order for ECDHE and RSA) with DHE between them, as
# browsers offered it until 2016 and many non-browser clients still do: AEAD first, then CBC.
BROWSER_TLS12_SUITES: tuple[int, ...] = (
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
    CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA,
)
# Every RSA key-transport suite we know, so any one the server still accepts is found.
STATIC_RSA_SUITES = suites_with_key_exchange("RSA")


class KeyExchangeProbe:
    """Two TLS 1.2 hellos: the browser-like offer, and static RSA suites alone."""

    probe_id = ProbeId.KEY_EXCHANGE
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS,)

    def run(self, context: ProbeContext) -> KeyExchangeResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        if not speaks(versions, ProtocolVersion.TLSv1_2):
            return KeyExchangeResult(
                tls12_supported=False,
                kind=None,
                cipher_suite=None,
                group=None,
                dh_prime_bits=None,
                static_rsa_accepted=None,
            )
        server_name = context.target.sni
        browser_answer, static_rsa_answer = context.hellos(
            [
                tls12_hello(server_name, BROWSER_TLS12_SUITES, TLS12_DHE_OFFER_GROUPS),
                # RSA key transport needs no groups (RFC 5246 §7.4.7.1).
                tls12_hello(server_name, STATIC_RSA_SUITES, ()),
            ],
            ReadUntil.FIRST_FLIGHT,
        )
        browser = read_tls12_key_exchange(browser_answer)
        static_rsa = read_tls12_key_exchange(static_rsa_answer)
        static_rsa_accepted: bool | None = None
        if static_rsa is not None:
            static_rsa_accepted = static_rsa.key_exchange == "RSA"
        elif static_rsa_answer.kind in REFUSALS:
            static_rsa_accepted = False
        if browser is None:
            return KeyExchangeResult(
                tls12_supported=True,
                kind=None,
                cipher_suite=None,
                group=None,
                dh_prime_bits=None,
                static_rsa_accepted=static_rsa_accepted,
            )
        return KeyExchangeResult(
            tls12_supported=True,
            kind=browser.key_exchange,
            cipher_suite=name_of(CipherSuite, browser.cipher_suite),
            group=name_of(NamedGroup, browser.curve) if browser.curve is not None else None,
            dh_prime_bits=browser.dh_prime.bit_length() if browser.dh_prime is not None else None,
            static_rsa_accepted=static_rsa_accepted,
        )
