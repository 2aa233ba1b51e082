"""Client key shares for TLS 1.3 (RFC 8446 §4.2.8, §7.4) on ``cryptography`` primitives.

A ``KeyShareSecret`` is generated before the ClientHello is built, so that the hello stays a pure
function of its inputs: the caller makes the shares (or loads known private keys, as the RFC 8448
tests do) and the engine only reads ``public`` and later calls ``shared_secret``. Generating a key
is computation, not I/O, so it belongs here.

Hybrid groups (draft-ietf-tls-ecdhe-mlkem §3) concatenate two shares. X25519MLKEM768 puts ML-KEM
first in every field; the NIST-curve hybrids put the ECDH part first:

=====================  ===============================  ==============================
group                  client share / server share       shared secret
=====================  ===============================  ==============================
X25519MLKEM768         ML-KEM-768 ek ‖ X25519            ML-KEM ss ‖ X25519 ss
                       ML-KEM-768 ct ‖ X25519
SecP256r1MLKEM768      P-256 point ‖ ML-KEM-768 ek       P-256 ss ‖ ML-KEM ss
                       P-256 point ‖ ML-KEM-768 ct
SecP384r1MLKEM1024     P-384 point ‖ ML-KEM-1024 ek      P-384 ss ‖ ML-KEM ss
                       P-384 point ‖ ML-KEM-1024 ct
=====================  ===============================  ==============================

A malformed server share is the server's fault: ``RemoteProtocolError`` (illegal_parameter). A
group we cannot compute is ours: ``LocalProtocolError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from httpsaudit.errors import LocalProtocolError, RemoteProtocolError
from httpsaudit.tls.codes import NamedGroup, name_of

# RFC 7748 §6: X25519 and X448 public values and shared secrets.
X25519_BYTES = 32
X448_BYTES = 56
# FIPS 203 §8 table 3: ML-KEM-768 encapsulation key and ciphertext sizes, and the shared secret.
MLKEM768_ENCAPSULATION_KEY_BYTES = 1184
MLKEM768_CIPHERTEXT_BYTES = 1088
MLKEM1024_ENCAPSULATION_KEY_BYTES = 1568
MLKEM1024_CIPHERTEXT_BYTES = 1568
MLKEM_SHARED_SECRET_BYTES = 32
# FIPS 203 §7.1 / cryptography: an ML-KEM private key from its 64-byte seed (d ‖ z).
MLKEM_SEED_BYTES = 64
# SEC 1 §2.3.3, RFC 8446 §4.2.8.2: uncompressed points, 0x04 ‖ X ‖ Y.
UNCOMPRESSED_POINT_PREFIX = 0x04

_CURVES: dict[int, type[ec.EllipticCurve]] = {
    NamedGroup.secp256r1: ec.SECP256R1,
    NamedGroup.secp384r1: ec.SECP384R1,
    NamedGroup.secp521r1: ec.SECP521R1,
}
# RFC 8446 §4.2.8.2: an uncompressed point is 1 + 2 * field size bytes long.
_POINT_BYTES: dict[int, int] = {
    NamedGroup.secp256r1: 65,
    NamedGroup.secp384r1: 97,
    NamedGroup.secp521r1: 133,
}
# The hybrids: (ECDH group, ML-KEM parameter set, ML-KEM first?), draft-ietf-tls-ecdhe-mlkem §3.
_HYBRIDS: dict[int, tuple[int, int, bool]] = {
    NamedGroup.X25519MLKEM768: (NamedGroup.x25519, 768, True),
    NamedGroup.SecP256r1MLKEM768: (NamedGroup.secp256r1, 768, False),
    NamedGroup.SecP384r1MLKEM1024: (NamedGroup.secp384r1, 1024, False),
}
_MLKEM_SIZES: dict[int, tuple[int, int]] = {
    768: (MLKEM768_ENCAPSULATION_KEY_BYTES, MLKEM768_CIPHERTEXT_BYTES),
    1024: (MLKEM1024_ENCAPSULATION_KEY_BYTES, MLKEM1024_CIPHERTEXT_BYTES),
}

# Every group ``generate_key_share`` can make, the hybrid first as browsers list it.
SUPPORTED_KEY_SHARE_GROUPS: tuple[int, ...] = (
    NamedGroup.X25519MLKEM768,
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.secp521r1,
    NamedGroup.x448,
    NamedGroup.SecP256r1MLKEM768,
    NamedGroup.SecP384r1MLKEM1024,
)

_EcdhKey = x25519.X25519PrivateKey | x448.X448PrivateKey | ec.EllipticCurvePrivateKey
_MlkemKey = mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey


@dataclass(frozen=True, slots=True)
class _Private:
    """The private halves of a share: an ECDH key and, for a hybrid, an ML-KEM key."""

    ecdh: _EcdhKey
    mlkem: _MlkemKey | None = None


@dataclass(frozen=True, slots=True)
class KeyShareSecret:
    """One client key share: what the ClientHello carries, and the key to finish it.

    Two shares are equal when their group and public bytes are: the private key never takes part
    in comparison or ``repr``.
    """

    group: int
    public: bytes
    _private: _Private = field(repr=False, compare=False)

    def shared_secret(self, server_share: bytes) -> bytes:
        """The (EC)DHE or hybrid shared secret with the server's ``key_exchange`` bytes."""
        hybrid = _HYBRIDS.get(self.group)
        if hybrid is None:
            return _ecdh(self.group, self._private.ecdh, server_share)
        ecdh_group, parameter_set, mlkem_first = hybrid
        _, ciphertext_bytes = _MLKEM_SIZES[parameter_set]
        ecdh_bytes = _server_ecdh_bytes(ecdh_group)
        if len(server_share) != ciphertext_bytes + ecdh_bytes:
            raise _bad_share(
                self.group,
                f"{len(server_share)} bytes, expected {ciphertext_bytes} + {ecdh_bytes}",
            )
        if mlkem_first:
            ciphertext, ecdh_share = (
                server_share[:ciphertext_bytes],
                server_share[ciphertext_bytes:],
            )
        else:
            ecdh_share, ciphertext = server_share[:ecdh_bytes], server_share[ecdh_bytes:]
        private_mlkem = self._private.mlkem
        if private_mlkem is None:
            raise LocalProtocolError(f"{name_of(NamedGroup, self.group)} share without ML-KEM key")
        try:
            mlkem_secret = private_mlkem.decapsulate(ciphertext)
        except ValueError as exc:
            raise _bad_share(self.group, f"ML-KEM ciphertext refused ({exc})") from None
        ecdh_secret = _ecdh(ecdh_group, self._private.ecdh, ecdh_share)
        return mlkem_secret + ecdh_secret if mlkem_first else ecdh_secret + mlkem_secret


def _bad_share(group: int, why: str) -> RemoteProtocolError:
    return RemoteProtocolError(
        f"illegal_parameter: the server's {name_of(NamedGroup, group)} key share is invalid: {why}"
    )


def _server_ecdh_bytes(group: int) -> int:
    if group == NamedGroup.x25519:
        return X25519_BYTES
    if group == NamedGroup.x448:
        return X448_BYTES
    return _POINT_BYTES[group]


def _ecdh(group: int, private: _EcdhKey, server_share: bytes) -> bytes:
    """RFC 8446 §7.4: X25519/X448 output, or the x-coordinate of the ECDH point."""
    try:
        if group == NamedGroup.x25519 and isinstance(private, x25519.X25519PrivateKey):
            return private.exchange(x25519.X25519PublicKey.from_public_bytes(server_share))
        if group == NamedGroup.x448 and isinstance(private, x448.X448PrivateKey):
            return private.exchange(x448.X448PublicKey.from_public_bytes(server_share))
        if isinstance(private, ec.EllipticCurvePrivateKey):
            # RFC 8446 §4.2.8.2: only the uncompressed form is allowed in TLS 1.3.
            if len(server_share) != _POINT_BYTES[group] or (
                server_share[0] != UNCOMPRESSED_POINT_PREFIX
            ):
                raise ValueError(f"{len(server_share)} bytes, not an uncompressed point")
            public = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[group](), server_share)
            return private.exchange(ec.ECDH(), public)
    except ValueError as exc:
        # RFC 8446 §7.4.2: an all-zero X25519/X448 output MUST abort; cryptography refuses it.
        raise _bad_share(group, str(exc)) from None
    raise LocalProtocolError(f"no ECDH for {name_of(NamedGroup, group)}")


def _ecdh_public(private: _EcdhKey) -> bytes:
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return private.public_key().public_bytes_raw()


def _new_ecdh(group: int) -> _EcdhKey:
    if group == NamedGroup.x25519:
        return x25519.X25519PrivateKey.generate()
    if group == NamedGroup.x448:
        return x448.X448PrivateKey.generate()
    return ec.generate_private_key(_CURVES[group]())


def _ecdh_from_bytes(group: int, private: bytes) -> _EcdhKey:
    try:
        if group == NamedGroup.x25519:
            return x25519.X25519PrivateKey.from_private_bytes(private)
        if group == NamedGroup.x448:
            return x448.X448PrivateKey.from_private_bytes(private)
        return ec.derive_private_key(int.from_bytes(private, "big"), _CURVES[group]())
    except ValueError as exc:
        raise LocalProtocolError(f"bad {name_of(NamedGroup, group)} private key: {exc}") from None


def _new_mlkem(parameter_set: int, seed: bytes | None) -> _MlkemKey:
    try:
        if parameter_set == 768:
            if seed is None:
                return mlkem.MLKEM768PrivateKey.generate()
            return mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)
        if seed is None:
            return mlkem.MLKEM1024PrivateKey.generate()
        return mlkem.MLKEM1024PrivateKey.from_seed_bytes(seed)
    except ValueError as exc:
        raise LocalProtocolError(f"bad ML-KEM-{parameter_set} seed: {exc}") from None


def _assemble(group: int, ecdh: _EcdhKey, mlkem_key: _MlkemKey | None) -> KeyShareSecret:
    hybrid = _HYBRIDS.get(group)
    ecdh_public = _ecdh_public(ecdh)
    if hybrid is None or mlkem_key is None:
        return KeyShareSecret(group, ecdh_public, _Private(ecdh))
    encapsulation_key = mlkem_key.public_key().public_bytes_raw()
    _, _, mlkem_first = hybrid
    public = encapsulation_key + ecdh_public if mlkem_first else ecdh_public + encapsulation_key
    return KeyShareSecret(group, public, _Private(ecdh, mlkem_key))


def _check_group(group: int) -> None:
    if group not in SUPPORTED_KEY_SHARE_GROUPS:
        raise LocalProtocolError(
            f"cannot make a key share for {name_of(NamedGroup, group)}: supported are "
            + ", ".join(name_of(NamedGroup, known) for known in SUPPORTED_KEY_SHARE_GROUPS)
        )


def generate_key_share(group: int) -> KeyShareSecret:
    """A fresh key share for ``group`` (one of ``SUPPORTED_KEY_SHARE_GROUPS``)."""
    _check_group(group)
    hybrid = _HYBRIDS.get(group)
    if hybrid is None:
        return _assemble(group, _new_ecdh(group), None)
    ecdh_group, parameter_set, _ = hybrid
    return _assemble(group, _new_ecdh(ecdh_group), _new_mlkem(parameter_set, None))


def key_share_from_private_bytes(
    group: int, private: bytes, *, mlkem_seed: bytes | None = None
) -> KeyShareSecret:
    """A share from known private key bytes: for recorded traces and byte-identical tests.

    ``private`` is the raw X25519/X448 key or the big-endian EC scalar; a hybrid also needs the
    64-byte ML-KEM seed.
    """
    _check_group(group)
    hybrid = _HYBRIDS.get(group)
    if hybrid is None:
        return _assemble(group, _ecdh_from_bytes(group, private), None)
    ecdh_group, parameter_set, _ = hybrid
    if mlkem_seed is None or len(mlkem_seed) != MLKEM_SEED_BYTES:
        raise LocalProtocolError(f"a hybrid share needs a {MLKEM_SEED_BYTES}-byte ML-KEM seed")
    return _assemble(
        group, _ecdh_from_bytes(ecdh_group, private), _new_mlkem(parameter_set, mlkem_seed)
    )
