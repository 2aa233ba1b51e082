"""Client key shares: RFC 8448's public keys from its private keys, and every group end to end.

The "server side" here is computed with ``cryptography`` directly (ECDH with a fresh key, ML-KEM
encapsulation against our encapsulation key), so each test checks the wire layout the drafts
define, not just that our two halves agree with each other.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import LocalProtocolError, RemoteProtocolError
from httpsaudit.tls.codes import NamedGroup
from httpsaudit.tls.keyshare import (
    MLKEM768_CIPHERTEXT_BYTES,
    MLKEM768_ENCAPSULATION_KEY_BYTES,
    MLKEM1024_ENCAPSULATION_KEY_BYTES,
    SUPPORTED_KEY_SHARE_GROUPS,
    KeyShareSecret,
    generate_key_share,
    key_share_from_private_bytes,
)

H = bytes.fromhex
# RFC 8448 §3 "{client} create an ephemeral x25519 key pair" and the share its ClientHello sends.
S3_CLIENT_PRIVATE = H("49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005")
S3_CLIENT_PUBLIC = H("99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c")
S3_SERVER_PUBLIC = H("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f")
S3_SHARED = H("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
# RFC 8448 §5: the client's P-256 key for the second ClientHello, its share, the server's.
S5_P256_PRIVATE = H("ab5473467e19346ceb0a0414e41da21d4d2445bc3025afe97c4e8dc8d513da39")
S5_P256_PUBLIC = H(
    "04a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f01"
    "51812677c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8065780"
)
S5_SERVER_P256_PUBLIC = H(
    "04583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd8"
    "5b4c8de6776f5b04ac07d83540eab3e3d9c547bc6528c4317d294686093a6cad7d"
)
SEED = bytes(range(64))


def _ecdh_server(group: int, client_public: bytes) -> tuple[bytes, bytes]:
    """A server's share for ``group`` and the secret it computes from the client's share."""
    if group == NamedGroup.x25519:
        key = x25519.X25519PrivateKey.generate()
        peer = x25519.X25519PublicKey.from_public_bytes(client_public)
        return key.public_key().public_bytes_raw(), key.exchange(peer)
    if group == NamedGroup.x448:
        key448 = x448.X448PrivateKey.generate()
        peer448 = x448.X448PublicKey.from_public_bytes(client_public)
        return key448.public_key().public_bytes_raw(), key448.exchange(peer448)
    curve: ec.EllipticCurve = {
        NamedGroup.secp256r1: ec.SECP256R1(),
        NamedGroup.secp384r1: ec.SECP384R1(),
        NamedGroup.secp521r1: ec.SECP521R1(),
    }[group]
    ec_key = ec.generate_private_key(curve)
    ec_peer = ec.EllipticCurvePublicKey.from_encoded_point(curve, client_public)
    public = ec_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return public, ec_key.exchange(ec.ECDH(), ec_peer)


@pytest.mark.parametrize(
    "group", [NamedGroup.x25519, NamedGroup.x448, NamedGroup.secp256r1, NamedGroup.secp384r1,
              NamedGroup.secp521r1],
)  # fmt: skip
def test_ecdh_groups_agree_with_a_server(group: int) -> None:
    # Given a fresh client share
    share = generate_key_share(group)

    # When a server answers with its own key
    server_share, server_secret = _ecdh_server(group, share.public)

    # Then both sides hold the same secret (the x-coordinate for NIST curves, RFC 8446 §7.4)
    assert share.group == group
    assert share.shared_secret(server_share) == server_secret


def test_x25519mlkem768_puts_ml_kem_first_everywhere() -> None:
    # Given a hybrid share (draft-ietf-tls-ecdhe-mlkem: ML-KEM-768 ek || X25519 public)
    share = generate_key_share(NamedGroup.X25519MLKEM768)
    assert len(share.public) == MLKEM768_ENCAPSULATION_KEY_BYTES + 32
    encapsulation_key = share.public[:MLKEM768_ENCAPSULATION_KEY_BYTES]
    x25519_public = share.public[MLKEM768_ENCAPSULATION_KEY_BYTES:]

    # When a server encapsulates and answers ciphertext || X25519 public
    mlkem_secret, ciphertext = mlkem.MLKEM768PublicKey.from_public_bytes(
        encapsulation_key
    ).encapsulate()
    x_public, x_secret = _ecdh_server(NamedGroup.x25519, x25519_public)
    secret = share.shared_secret(ciphertext + x_public)

    # Then the shared secret is the ML-KEM secret followed by the X25519 secret
    assert len(ciphertext) == MLKEM768_CIPHERTEXT_BYTES
    assert secret == mlkem_secret + x_secret


@pytest.mark.parametrize(
    ("group", "curve_group", "point_bytes", "mlkem_public", "ek_bytes"),
    [
        (NamedGroup.SecP256r1MLKEM768, NamedGroup.secp256r1, 65, mlkem.MLKEM768PublicKey,
         MLKEM768_ENCAPSULATION_KEY_BYTES),
        (NamedGroup.SecP384r1MLKEM1024, NamedGroup.secp384r1, 97, mlkem.MLKEM1024PublicKey,
         MLKEM1024_ENCAPSULATION_KEY_BYTES),
    ],
)  # fmt: skip
def test_nist_hybrids_put_ecdh_first_everywhere(
    group: int,
    curve_group: int,
    point_bytes: int,
    mlkem_public: type[mlkem.MLKEM768PublicKey] | type[mlkem.MLKEM1024PublicKey],
    ek_bytes: int,
) -> None:
    # Given a NIST-curve hybrid share: point || ML-KEM ek
    share = generate_key_share(group)
    assert len(share.public) == point_bytes + ek_bytes
    point, encapsulation_key = share.public[:point_bytes], share.public[point_bytes:]

    # When a server answers point || ciphertext
    mlkem_secret, ciphertext = mlkem_public.from_public_bytes(encapsulation_key).encapsulate()
    server_point, ecdh_secret = _ecdh_server(curve_group, point)

    # Then the secret is the ECDH secret followed by the ML-KEM secret
    assert share.shared_secret(server_point + ciphertext) == ecdh_secret + mlkem_secret


def test_rfc8448_private_keys_give_the_rfc_public_keys_and_secret() -> None:
    # Given the RFC's x25519 and P-256 client private keys
    s3 = key_share_from_private_bytes(NamedGroup.x25519, S3_CLIENT_PRIVATE)
    s5 = key_share_from_private_bytes(NamedGroup.secp256r1, S5_P256_PRIVATE)

    # When their public values and the §3 shared secret are computed
    # Then they are the bytes the RFC's ClientHellos carry, and the RFC's (EC)DHE secret
    assert s3.public == S3_CLIENT_PUBLIC
    assert s5.public == S5_P256_PUBLIC
    assert s3.shared_secret(S3_SERVER_PUBLIC) == S3_SHARED
    assert len(s5.shared_secret(S5_SERVER_P256_PUBLIC)) == 32


def test_a_hybrid_from_known_bytes_is_deterministic() -> None:
    # Given the same private bytes and seed twice
    first = key_share_from_private_bytes(
        NamedGroup.X25519MLKEM768, S3_CLIENT_PRIVATE, mlkem_seed=SEED
    )
    second = key_share_from_private_bytes(
        NamedGroup.X25519MLKEM768, S3_CLIENT_PRIVATE, mlkem_seed=SEED
    )

    # Then the shares are equal and end with the RFC's x25519 public key
    assert first == second
    assert first.public.endswith(S3_CLIENT_PUBLIC)


def test_equality_and_repr_leave_the_private_key_out() -> None:
    # Given one share and a copy of its public half on another key object
    share = key_share_from_private_bytes(NamedGroup.x25519, S3_CLIENT_PRIVATE)
    again = key_share_from_private_bytes(NamedGroup.x25519, S3_CLIENT_PRIVATE)

    # Then they compare equal, hash alike, and repr shows no private material
    assert share == again
    assert hash(share) == hash(again)
    assert "private" not in repr(share).lower()
    assert share != generate_key_share(NamedGroup.x25519)


@pytest.mark.parametrize(
    ("group", "server_share", "why"),
    [
        (NamedGroup.x25519, bytes(31), "short"),
        (NamedGroup.x25519, bytes(32), "all-zero output (RFC 8446 §7.4.2)"),
        (NamedGroup.x448, bytes(55), "short"),
        (NamedGroup.secp256r1, S5_SERVER_P256_PUBLIC[:-1], "short point"),
        (NamedGroup.secp256r1, b"\x02" + S5_SERVER_P256_PUBLIC[1:33], "compressed point"),
        (NamedGroup.secp256r1, b"\x04" + bytes(64), "not on the curve"),
        (NamedGroup.secp384r1, S5_SERVER_P256_PUBLIC, "wrong curve size"),
        (NamedGroup.X25519MLKEM768, bytes(MLKEM768_CIPHERTEXT_BYTES), "no X25519 part"),
        (NamedGroup.SecP256r1MLKEM768, S5_SERVER_P256_PUBLIC, "no ciphertext"),
    ],
)
def test_a_malformed_server_share_is_a_remote_error(
    group: int, server_share: bytes, why: str
) -> None:
    # Given a client share and a server share that is wrong in one way
    share = generate_key_share(group)

    # When the secret is computed
    # Then the server is blamed (illegal_parameter), never a foreign exception
    with pytest.raises(RemoteProtocolError, match="illegal_parameter"):
        share.shared_secret(server_share)
    assert why


def test_groups_we_cannot_compute_are_a_local_error() -> None:
    # Given finite-field and unknown groups
    # Then asking for a share is our mistake, not the server's
    for group in (NamedGroup.ffdhe2048, 0x0A0A, 0xFFFF):
        with pytest.raises(LocalProtocolError):
            generate_key_share(group)
    with pytest.raises(LocalProtocolError):
        key_share_from_private_bytes(NamedGroup.X25519MLKEM768, S3_CLIENT_PRIVATE)
    with pytest.raises(LocalProtocolError):
        key_share_from_private_bytes(NamedGroup.secp256r1, bytes(32))  # scalar 0


def test_every_supported_group_makes_a_share() -> None:
    # Given every group the module lists
    # Then each makes a share whose public bytes are non-empty and distinct per call
    for group in SUPPORTED_KEY_SHARE_GROUPS:
        first, second = generate_key_share(group), generate_key_share(group)
        assert isinstance(first, KeyShareSecret)
        assert first.public
        assert first.public != second.public


_SHARES = {group: generate_key_share(group) for group in SUPPORTED_KEY_SHARE_GROUPS}


@settings(max_examples=200, deadline=None)
@given(group=st.sampled_from(SUPPORTED_KEY_SHARE_GROUPS), data=st.binary(max_size=1800))
def test_random_server_shares_raise_only_remote_errors(group: int, data: bytes) -> None:
    # Given any bytes as the server's share
    # When the secret is computed
    # Then the result is a secret or a RemoteProtocolError, never another exception
    try:
        secret = _SHARES[group].shared_secret(data)
    except RemoteProtocolError:
        return
    assert len(secret) >= 32
