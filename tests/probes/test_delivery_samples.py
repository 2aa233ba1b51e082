"""The RSA signature samples shipped for the key-economics table are what they claim to be."""

from __future__ import annotations

import json
from importlib import resources

from cryptography.hazmat.primitives.asymmetric import rsa

from httpsaudit.probes import delivery
from httpsaudit.probes.delivery import RSA_SAMPLES_FILE, KeySpec


def test_every_shipped_sample_is_an_rsa_key_of_its_size_with_a_valid_signature() -> None:
    # Given the samples file inside the package
    text = resources.files("httpsaudit.probes").joinpath(RSA_SAMPLES_FILE).read_text("utf-8")
    names = sorted(json.loads(text)["samples"])
    # When it is loaded as the probe loads it
    samples = delivery._shipped_rsa_samples()
    # Then it holds RSA-2048, 3072 and 4096, each signature verifying over the TLS 1.3
    # CertificateVerify content (verify raises InvalidSignature otherwise)
    assert names == ["RSA-2048", "RSA-3072", "RSA-4096"]
    assert sorted(spec.bits for spec in samples) == [2048, 3072, 4096]
    for spec, sample in samples.items():
        assert isinstance(sample.public_key, rsa.RSAPublicKey)
        assert sample.public_key.key_size == spec.bits
        assert len(sample.signature) == spec.bits // 8
        delivery._verify(sample.public_key, sample.signature)


def test_reference_rsa_keys_come_from_the_samples_and_others_are_made_fresh() -> None:
    # Given the reference key sizes the table shows
    shipped = delivery._shipped_rsa_samples()
    # When the probe asks for the sample of each
    for _description, spec in delivery.REFERENCE_KEYS:
        sample = delivery._signed_sample(spec)
        # Then RSA sizes use the shipped key (no key generation at scan time)
        if spec.algorithm == "RSA":
            assert sample is shipped[spec]
        delivery._verify(sample.public_key, sample.signature)
    # And a size that is not shipped is generated, and verifies too
    odd = delivery._signed_sample(KeySpec("RSA", 1024))
    assert isinstance(odd.public_key, rsa.RSAPublicKey)
    assert odd.public_key.key_size == 1024
    delivery._verify(odd.public_key, odd.signature)
