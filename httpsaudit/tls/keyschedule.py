"""The TLS 1.3 key schedule (RFC 8446 §7.1, §7.3, §4.4.4, §4.6.1) on HKDF (RFC 5869).

Pure functions and one immutable ``KeySchedule``: every input and output is bytes, and the
transcript hashes are passed in, because the engine keeps the transcript. Nothing here knows
about records, sockets or time. A misuse (wrong lengths, an unknown suite, a secret asked for
before its stage) is our bug, so it raises ``LocalProtocolError``.

::

                 0
                 |
    PSK ->  HKDF-Extract = early_secret ---> binder_key, client_early_traffic_secret,
                 |                           early_exporter_master_secret
           Derive-Secret(., "derived", "")
                 |
 (EC)DHE -> HKDF-Extract = handshake_secret ---> {client,server}_handshake_traffic_secret
                 |
           Derive-Secret(., "derived", "")
                 |
       0 -> HKDF-Extract = master_secret ---> {client,server}_application_traffic_secret_0,
                                              exporter_master_secret, resumption_master_secret
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from httpsaudit.errors import LocalProtocolError
from httpsaudit.tls.codes import CipherSuite

# RFC 8446 §7.1: every HkdfLabel.label starts with this prefix.
LABEL_PREFIX = b"tls13 "
# RFC 8446 §7.1: opaque label<7..255>, so the label after the prefix is 1..249 bytes.
MAX_LABEL_BYTES = 255 - len(LABEL_PREFIX)
# RFC 8446 §7.1: opaque context<0..255>.
MAX_CONTEXT_BYTES = 255
# RFC 8446 §7.1: HkdfLabel.length is a uint16.
MAX_LABEL_OUTPUT_BYTES = 2**16 - 1
# RFC 5869 §2.3: HKDF-Expand yields at most 255 hash blocks.
MAX_EXPAND_BLOCKS = 255
# RFC 8446 §5.3: every TLS 1.3 AEAD takes a 12-byte nonce, so the write IV is 12 bytes.
IV_BYTES = 12
# RFC 8446 §4.6.1: a ticket_nonce is opaque<0..255>.
MAX_TICKET_NONCE_BYTES = 255

# RFC 8446 §B.4: the hash of each TLS 1.3 suite, used for HKDF and the transcript.
_SUITE_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    CipherSuite.TLS_AES_128_GCM_SHA256: hashes.SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384: hashes.SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: hashes.SHA256,
    CipherSuite.TLS_AES_128_CCM_SHA256: hashes.SHA256,
    CipherSuite.TLS_AES_128_CCM_8_SHA256: hashes.SHA256,
}
# RFC 8446 §B.4 with RFC 5116 §5, RFC 8439 §2.8 and RFC 6655 §3: the AEAD key length of each suite.
_SUITE_KEY_BYTES: dict[int, int] = {
    CipherSuite.TLS_AES_128_GCM_SHA256: 16,
    CipherSuite.TLS_AES_256_GCM_SHA384: 32,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: 32,
    CipherSuite.TLS_AES_128_CCM_SHA256: 16,
    CipherSuite.TLS_AES_128_CCM_8_SHA256: 16,
}


def hash_for_suite(suite_code: int) -> hashes.HashAlgorithm:
    """The suite's hash (RFC 8446 §B.4); only the five TLS 1.3 suites have one here."""
    try:
        return _SUITE_HASHES[suite_code]()
    except KeyError:
        raise LocalProtocolError(f"0x{suite_code:04x} is not a TLS 1.3 cipher suite") from None


def key_length_for_suite(suite_code: int) -> int:
    """The suite's AEAD key length in bytes (RFC 8446 §B.4)."""
    try:
        return _SUITE_KEY_BYTES[suite_code]
    except KeyError:
        raise LocalProtocolError(f"0x{suite_code:04x} is not a TLS 1.3 cipher suite") from None


def hkdf_extract(algorithm: hashes.HashAlgorithm, salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); an empty salt means HashLen zero bytes."""
    key = salt or bytes(algorithm.digest_size)
    mac = hmac.HMAC(key, algorithm)
    mac.update(ikm)
    return mac.finalize()


def hkdf_expand_label(
    algorithm: hashes.HashAlgorithm, secret: bytes, label: bytes, context: bytes, length: int
) -> bytes:
    """RFC 8446 §7.1: HKDF-Expand(secret, HkdfLabel{length, "tls13 " + label, context})."""
    if not 1 <= len(label) <= MAX_LABEL_BYTES:
        raise LocalProtocolError(f"HKDF label of {len(label)} bytes; must be 1..{MAX_LABEL_BYTES}")
    if len(context) > MAX_CONTEXT_BYTES:
        raise LocalProtocolError(
            f"HKDF context of {len(context)} bytes; must be at most {MAX_CONTEXT_BYTES}"
        )
    # RFC 5869 §2.3 (L <= 255 * HashLen) and RFC 8446 §7.1 (uint16 length), whichever is less.
    limit = min(MAX_EXPAND_BLOCKS * algorithm.digest_size, MAX_LABEL_OUTPUT_BYTES)
    if not 1 <= length <= limit:
        raise LocalProtocolError(f"HKDF output of {length} bytes; must be 1..{limit}")
    full_label = LABEL_PREFIX + label
    info = (
        length.to_bytes(2, "big")
        + bytes([len(full_label)])
        + full_label
        + bytes([len(context)])
        + context
    )
    return HKDFExpand(algorithm=algorithm, length=length, info=info).derive(secret)


def transcript_hash(algorithm: hashes.HashAlgorithm, messages: bytes) -> bytes:
    """RFC 8446 §4.4.1: Hash of the concatenated handshake messages, headers included."""
    digest = hashes.Hash(algorithm)
    digest.update(messages)
    return digest.finalize()


def derive_secret(
    algorithm: hashes.HashAlgorithm, secret: bytes, label: bytes, transcript_hash: bytes
) -> bytes:
    """RFC 8446 §7.1 Derive-Secret, with Transcript-Hash(Messages) already computed."""
    if len(transcript_hash) != algorithm.digest_size:
        raise LocalProtocolError(
            f"transcript hash of {len(transcript_hash)} bytes for a "
            f"{algorithm.digest_size}-byte {algorithm.name}"
        )
    return hkdf_expand_label(algorithm, secret, label, transcript_hash, algorithm.digest_size)


@dataclass(frozen=True, slots=True)
class TrafficKeys:
    """The AEAD write key and IV one traffic secret yields (RFC 8446 §7.3)."""

    key: bytes
    iv: bytes


def traffic_keys(suite_code: int, secret: bytes) -> TrafficKeys:
    """RFC 8446 §7.3: key = Expand-Label(secret, "key", "", key_length), iv likewise."""
    algorithm = hash_for_suite(suite_code)
    return TrafficKeys(
        key=hkdf_expand_label(algorithm, secret, b"key", b"", key_length_for_suite(suite_code)),
        iv=hkdf_expand_label(algorithm, secret, b"iv", b"", IV_BYTES),
    )


def next_traffic_secret(algorithm: hashes.HashAlgorithm, secret: bytes) -> bytes:
    """RFC 8446 §7.2: application_traffic_secret_N+1 after a KeyUpdate."""
    return hkdf_expand_label(algorithm, secret, b"traffic upd", b"", algorithm.digest_size)


def finished_key(algorithm: hashes.HashAlgorithm, base_key: bytes) -> bytes:
    """RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)."""
    return hkdf_expand_label(algorithm, base_key, b"finished", b"", algorithm.digest_size)


def finished_verify_data(
    algorithm: hashes.HashAlgorithm, base_key: bytes, transcript_hash: bytes
) -> bytes:
    """RFC 8446 §4.4.4: HMAC(finished_key, transcript hash); also a PSK binder (§4.2.11.2).

    ``base_key`` is a handshake traffic secret for Finished, the binder key for a binder.
    """
    if len(transcript_hash) != algorithm.digest_size:
        raise LocalProtocolError(
            f"transcript hash of {len(transcript_hash)} bytes for a "
            f"{algorithm.digest_size}-byte {algorithm.name}"
        )
    mac = hmac.HMAC(finished_key(algorithm, base_key), algorithm)
    mac.update(transcript_hash)
    return mac.finalize()


def resumption_psk(
    algorithm: hashes.HashAlgorithm, resumption_master_secret: bytes, ticket_nonce: bytes
) -> bytes:
    """RFC 8446 §4.6.1: a ticket's PSK, Expand-Label(res_master, "resumption", nonce, HashLen)."""
    if len(ticket_nonce) > MAX_TICKET_NONCE_BYTES:
        raise LocalProtocolError(f"ticket nonce of {len(ticket_nonce)} bytes; at most 255")
    return hkdf_expand_label(
        algorithm, resumption_master_secret, b"resumption", ticket_nonce, algorithm.digest_size
    )


@dataclass(frozen=True, slots=True)
class KeySchedule:
    """The RFC 8446 §7.1 secrets of one connection, one stage at a time, never mutated.

    ``KeySchedule.start(suite, psk)`` gives the early secret; ``with_shared_secret()`` adds the
    handshake and master secrets (both need nothing else). Each ``*_secret(hash)`` method takes
    the transcript hash the RFC names for it.
    """

    suite_code: int
    early_secret: bytes
    handshake_secret: bytes | None = None
    master_secret: bytes | None = None

    @classmethod
    def start(cls, suite_code: int, psk: bytes | None = None) -> KeySchedule:
        """Early Secret = HKDF-Extract(0, PSK), with HashLen zeros when no PSK is in use."""
        algorithm = hash_for_suite(suite_code)
        zeros = bytes(algorithm.digest_size)
        if psk is not None and not psk:
            raise LocalProtocolError("an empty PSK; pass None for a handshake without one")
        return cls(suite_code, hkdf_extract(algorithm, zeros, zeros if psk is None else psk))

    @property
    def algorithm(self) -> hashes.HashAlgorithm:
        return hash_for_suite(self.suite_code)

    @property
    def hash_length(self) -> int:
        return self.algorithm.digest_size

    def _derived(self, secret: bytes) -> bytes:
        # RFC 8446 §7.1: the salt of the next stage is Derive-Secret(., "derived", "").
        algorithm = self.algorithm
        return derive_secret(algorithm, secret, b"derived", transcript_hash(algorithm, b""))

    def with_shared_secret(self, shared_secret: bytes | None) -> KeySchedule:
        """Handshake Secret from the (EC)DHE secret (zeros in psk_ke mode), then Master Secret."""
        if self.handshake_secret is not None:
            raise LocalProtocolError("the handshake secret is already set")
        if shared_secret is not None and not shared_secret:
            raise LocalProtocolError("an empty (EC)DHE shared secret")
        algorithm = self.algorithm
        zeros = bytes(algorithm.digest_size)
        handshake = hkdf_extract(
            algorithm,
            self._derived(self.early_secret),
            zeros if shared_secret is None else shared_secret,
        )
        master = hkdf_extract(algorithm, self._derived(handshake), zeros)
        return KeySchedule(self.suite_code, self.early_secret, handshake, master)

    def _require(self, secret: bytes | None, stage: str) -> bytes:
        if secret is None:
            raise LocalProtocolError(f"the {stage} secret is not known yet: add the shared secret")
        return secret

    # --- from the early secret ----------------------------------------------------------------

    def binder_key(self, *, external: bool = False) -> bytes:
        """RFC 8446 §7.1: "res binder" for a ticket's PSK, "ext binder" for an external one."""
        label = b"ext binder" if external else b"res binder"
        algorithm = self.algorithm
        return derive_secret(algorithm, self.early_secret, label, transcript_hash(algorithm, b""))

    def client_early_traffic_secret(self, client_hello_hash: bytes) -> bytes:
        """RFC 8446 §7.1: keys for 0-RTT data; the hash is of the whole ClientHello."""
        return derive_secret(self.algorithm, self.early_secret, b"c e traffic", client_hello_hash)

    def early_exporter_master_secret(self, client_hello_hash: bytes) -> bytes:
        return derive_secret(self.algorithm, self.early_secret, b"e exp master", client_hello_hash)

    # --- from the handshake secret ------------------------------------------------------------

    def client_handshake_traffic_secret(self, hello_hash: bytes) -> bytes:
        """RFC 8446 §7.1: the hash is of ClientHello..ServerHello."""
        secret = self._require(self.handshake_secret, "handshake")
        return derive_secret(self.algorithm, secret, b"c hs traffic", hello_hash)

    def server_handshake_traffic_secret(self, hello_hash: bytes) -> bytes:
        """RFC 8446 §7.1: the hash is of ClientHello..ServerHello."""
        secret = self._require(self.handshake_secret, "handshake")
        return derive_secret(self.algorithm, secret, b"s hs traffic", hello_hash)

    # --- from the master secret ---------------------------------------------------------------

    def client_application_traffic_secret(self, server_finished_hash: bytes) -> bytes:
        """RFC 8446 §7.1: the hash is of ClientHello..server Finished."""
        secret = self._require(self.master_secret, "master")
        return derive_secret(self.algorithm, secret, b"c ap traffic", server_finished_hash)

    def server_application_traffic_secret(self, server_finished_hash: bytes) -> bytes:
        """RFC 8446 §7.1: the hash is of ClientHello..server Finished."""
        secret = self._require(self.master_secret, "master")
        return derive_secret(self.algorithm, secret, b"s ap traffic", server_finished_hash)

    def exporter_master_secret(self, server_finished_hash: bytes) -> bytes:
        secret = self._require(self.master_secret, "master")
        return derive_secret(self.algorithm, secret, b"exp master", server_finished_hash)

    def resumption_master_secret(self, client_finished_hash: bytes) -> bytes:
        """RFC 8446 §7.1: the hash is of ClientHello..client Finished."""
        secret = self._require(self.master_secret, "master")
        return derive_secret(self.algorithm, secret, b"res master", client_finished_hash)
