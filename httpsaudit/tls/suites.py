"""Facts about cipher suites, read from their IANA names (RFC 8446 §B.4, RFC 5246 §A.5).

An IANA name spells its parts: ``TLS_<kex>_<auth>_WITH_<cipher>_<mac>`` before TLS 1.3,
``TLS_<AEAD>_<hash>`` in TLS 1.3. Parsing the name keeps one table (codes.CipherSuite).
"""

from __future__ import annotations

from dataclasses import dataclass

from httpsaudit.tls.codes import CipherSuite

TLS13_SUITES = tuple(suite for suite in CipherSuite if 0x1301 <= suite <= 0x1305)
SIGNALLING_SUITES = frozenset(
    {CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV, CipherSuite.TLS_FALLBACK_SCSV}
)
TLS12_SUITES = tuple(
    suite for suite in CipherSuite if suite not in TLS13_SUITES and suite not in SIGNALLING_SUITES
)
# TLS 1.0 and 1.1 cannot negotiate suites with SHA-256/384 PRFs or AEAD ciphers (RFC 5246 §A.5).
_TLS12_ONLY_MARKERS = ("_GCM_", "_CCM", "CHACHA20", "_SHA256", "_SHA384")

_CIPHERS: dict[str, tuple[str, str, int]] = {
    # name in the suite -> (display name, mode, key bits)
    "AES_128_GCM": ("AES-128-GCM", "AEAD", 128),
    "AES_256_GCM": ("AES-256-GCM", "AEAD", 256),
    "AES_128_CCM_8": ("AES-128-CCM-8", "AEAD", 128),
    "AES_256_CCM_8": ("AES-256-CCM-8", "AEAD", 256),
    "AES_128_CCM": ("AES-128-CCM", "AEAD", 128),
    "AES_256_CCM": ("AES-256-CCM", "AEAD", 256),
    "CHACHA20_POLY1305": ("CHACHA20-POLY1305", "AEAD", 256),
    "ARIA_128_GCM": ("ARIA-128-GCM", "AEAD", 128),
    "ARIA_256_GCM": ("ARIA-256-GCM", "AEAD", 256),
    "AES_128_CBC": ("AES-128-CBC", "CBC", 128),
    "AES_256_CBC": ("AES-256-CBC", "CBC", 256),
    "CAMELLIA_128_CBC": ("CAMELLIA-128-CBC", "CBC", 128),
    "CAMELLIA_256_CBC": ("CAMELLIA-256-CBC", "CBC", 256),
    "3DES_EDE_CBC": ("3DES-EDE-CBC", "CBC", 112),
    "DES_CBC": ("DES-CBC", "CBC", 56),
    "SEED_CBC": ("SEED-CBC", "CBC", 128),
    "IDEA_CBC": ("IDEA-CBC", "CBC", 128),
    "RC4_128": ("RC4-128", "stream", 128),
    "NULL": ("NULL", "none", 0),
}


@dataclass(frozen=True, slots=True)
class SuiteFacts:
    """What a suite's name says about it."""

    name: str
    code: int
    key_exchange: str
    authentication: str
    encryption: str
    mode: str
    encryption_bits: int
    tls13: bool

    @property
    def forward_secret(self) -> bool:
        return self.key_exchange in {"ECDHE", "DHE", "any"}


def describe_suite(code: int) -> SuiteFacts | None:
    """Facts for a known suite, None for one we have no name for."""
    try:
        name = CipherSuite(code).name
    except ValueError:
        return None
    if code in SIGNALLING_SUITES:
        return None
    if code in TLS13_SUITES:
        cipher = name.removeprefix("TLS_").rsplit("_", 1)[0]
        display, mode, bits = _CIPHERS[cipher]
        return SuiteFacts(name, int(code), "any", "any", display, mode, bits, tls13=True)
    exchange, _, rest = name.removeprefix("TLS_").partition("_WITH_")
    parts = exchange.split("_")
    key_exchange = parts[0]
    authentication = parts[1] if len(parts) > 1 else parts[0]
    cipher = next(key for key in _CIPHERS if rest.startswith(key))
    display, mode, bits = _CIPHERS[cipher]
    return SuiteFacts(name, code, key_exchange, authentication, display, mode, bits, tls13=False)


def suites_for_version(version: int) -> tuple[int, ...]:
    """Every suite a server could pick for ``version`` (TLS 1.3 has its own five)."""
    if version >= 0x0304:
        return tuple(int(suite) for suite in TLS13_SUITES)
    if version == 0x0303:
        return tuple(int(suite) for suite in TLS12_SUITES)
    return tuple(
        int(suite)
        for suite in TLS12_SUITES
        if not any(marker in suite.name for marker in _TLS12_ONLY_MARKERS)
    )
