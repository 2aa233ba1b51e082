"""Certificate delivery on real servers: chain weight and assembly, key costs, dual
certificates and validity hygiene, with chains built at test time by tests/pki.py."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from httpsaudit.probes.certificate import CertificateProbe
from httpsaudit.probes.delivery import (
    INITIAL_WINDOW_BYTES,
    CertificateDeliveryProbe,
    max_lifetime_days,
)
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import (
    CertificateDeliveryResult,
    CertificateResult,
    ChainWeight,
    ConnectionResult,
    DualCertificates,
    ProbeId,
    ProbeStatus,
)
from httpsaudit.scan import run_probe
from tests.pki import (
    CA_ISSUERS_URL,
    Issued,
    TestPKI,
    issue_under_intermediates,
    send_chain,
    sha1_signed,
)
from tests.probe_context import make_context
from tests.servers import NginxServer, OpenSSLServer

# What the delivery probe itself may open: one ECDSA-only and one RSA-only offer.
DELIVERY_CONNECTIONS = 2
# s_server refuses SHA-1 signed and RSA-1024 certificates at OpenSSL 3.0's default security
# level ("ca md too weak", "ee key too small"); level 0 lets it serve them.
SECURITY_LEVEL_0 = ("-cipher", "DEFAULT:@SECLEVEL=0")
# Intermediates in the oversized chain: eleven RSA-4096 certificates of about 1.4 kB each.
OVERSIZED_INTERMEDIATES = 11
# A fixed issue date in the 398-day era (2020-09-01 to 2026-03-15), so the limit is known.
ISSUED_IN_398_DAY_ERA = datetime.datetime(2025, 9, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Measured:
    """The delivery result and what the probes before it saw."""

    result: CertificateDeliveryResult
    connections: int
    connection: ConnectionResult
    certificate: CertificateResult


def measure(port: int, pki: TestPKI, *, trust_root: bool = True) -> Measured:
    """Timed connection, versions and certificate probes, then the delivery probe."""
    context = make_context(port, ca_file=pki.root_path if trust_root else None)
    for needed in (VersionsProbe(), CertificateProbe()):
        context.outcomes[needed.probe_id] = run_probe(needed, context)
    outcome = run_probe(CertificateDeliveryProbe(), context)
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert isinstance(outcome.result, CertificateDeliveryResult)
    connection = context.outcomes[ProbeId.CONNECTION].result
    certificate = context.outcomes[ProbeId.CERTIFICATE].result
    assert isinstance(connection, ConnectionResult)
    assert isinstance(certificate, CertificateResult)
    return Measured(outcome.result, outcome.connections, connection, certificate)


def with_openssl(issued: Issued, pki: TestPKI, *args: str, trust_root: bool = True) -> Measured:
    with OpenSSLServer(issued, *args) as server:
        return measure(server.port, pki, trust_root=trust_root)


def tls13_certificate_message_bytes(sizes: tuple[int, ...]) -> int:
    """RFC 8446 §4.4.2: header 4, context 1, list length 3; per entry length 3, extensions 2."""
    return 4 + 1 + 3 + sum(3 + size + 2 for size in sizes)


def first_flight_bytes(measured: Measured) -> int:
    assert measured.connection.tls is not None
    return measured.connection.tls.server_first_flight_bytes


@pytest.fixture(scope="module")
def oversized(pki: TestPKI) -> Issued:
    # One RSA-4096 key for every intermediate: generating eleven would take seconds, and only
    # the certificates' size matters here.
    heavy = pki.rsa4096.private_key
    return issue_under_intermediates(
        pki, "oversized", ec.generate_private_key(ec.SECP256R1()), [heavy] * OVERSIZED_INTERMEDIATES
    )


@pytest.fixture(scope="module")
def two_intermediates(pki: TestPKI) -> Issued:
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(2)]
    return issue_under_intermediates(
        pki, "two_intermediates", ec.generate_private_key(ec.SECP256R1()), keys
    )


# -- chain weight and assembly -------------------------------------------------------------


def test_default_ecdsa_chain_is_light_and_well_built(pki: TestPKI) -> None:
    # Given s_server sending an ECDSA P-256 leaf and its intermediate, over TLS 1.3
    measured = with_openssl(pki.ecdsa_p256, pki)
    sizes = pki.ecdsa_p256.chain_der_sizes
    # Then the chain weighs what the fixture built and fits the initial window
    assert measured.result.chain == ChainWeight(
        certificates=2,
        chain_der_bytes=sum(sizes),
        certificate_message_bytes=tls13_certificate_message_bytes(sizes),
        server_first_flight_bytes=first_flight_bytes(measured),
        initial_window_bytes=14600,
        exceeds_initial_window=False,
        root_included=False,
        duplicates=(),
        order_ok=True,
        order_problems=(),
        missing_intermediate=False,
        ca_issuers_urls=(),  # the intermediate, sent last, names no caIssuers
    )
    # And the flight carries the Certificate message and fits the window
    assert measured.result.chain.certificate_message_bytes < first_flight_bytes(measured)
    assert first_flight_bytes(measured) <= INITIAL_WINDOW_BYTES
    # And only the two dual-certificate offers went out
    assert measured.connections == DELIVERY_CONNECTIONS


def test_root_sent_in_the_chain(pki: TestPKI) -> None:
    # Given a server that appends the root to its chain
    issued = send_chain(pki, pki.ecdsa_p256, "with_root", (*pki.ecdsa_p256.chain, pki.root))
    measured = with_openssl(issued, pki)
    chain = measured.result.chain
    # Then the root is flagged, and its bytes counted, while the order stays right
    assert chain.root_included is True
    assert chain.certificates == 3
    assert chain.chain_der_bytes == sum(issued.chain_der_sizes)
    assert chain.certificate_message_bytes == tls13_certificate_message_bytes(
        issued.chain_der_sizes
    )
    assert chain.order_ok is True
    assert chain.duplicates == ()
    assert chain.missing_intermediate is False
    assert measured.connections == DELIVERY_CONNECTIONS


def test_oversized_chain_exceeds_the_initial_window(pki: TestPKI, oversized: Issued) -> None:
    # Given a leaf under eleven RSA-4096 intermediates: a Certificate message over 14600 bytes
    sizes = oversized.chain_der_sizes
    expected_message_bytes = tls13_certificate_message_bytes(sizes)
    assert expected_message_bytes > INITIAL_WINDOW_BYTES
    # When the server sends all of it
    measured = with_openssl(oversized, pki)
    # Then the first flight, which carries that message, needs a second round trip
    assert measured.result.chain == ChainWeight(
        certificates=1 + OVERSIZED_INTERMEDIATES,
        chain_der_bytes=sum(sizes),
        certificate_message_bytes=expected_message_bytes,
        server_first_flight_bytes=first_flight_bytes(measured),
        initial_window_bytes=INITIAL_WINDOW_BYTES,
        exceeds_initial_window=True,
        root_included=False,
        duplicates=(),
        order_ok=True,
        order_problems=(),
        missing_intermediate=False,
        ca_issuers_urls=(),
    )
    assert first_flight_bytes(measured) > expected_message_bytes
    assert measured.connections == DELIVERY_CONNECTIONS


def test_out_of_order_chain(pki: TestPKI, two_intermediates: Issued) -> None:
    # Given a leaf under two intermediates, sent with the intermediates swapped
    leaf, signs_leaf, signs_intermediate = two_intermediates.chain
    swapped = send_chain(pki, two_intermediates, "swapped", (leaf, signs_intermediate, signs_leaf))
    well_ordered = with_openssl(two_intermediates, pki)
    measured = with_openssl(swapped, pki)

    def name(certificate: x509.Certificate) -> str:
        return certificate.subject.rfc4514_string()

    # Then each broken link is named, with where the right issuer is
    assert measured.result.chain.order_ok is False
    assert measured.result.chain.order_problems == (
        f"position 0 ({name(leaf)}) is issued by {name(signs_leaf)}, "
        f"not by position 1 ({name(signs_intermediate)}); its issuer is at position 2",
        f"position 1 ({name(signs_intermediate)}) is issued by {name(pki.root)}, "
        f"not by position 2 ({name(signs_leaf)})",
    )
    # And nothing is missing (clients reorder), duplicated or extra
    assert measured.result.chain.missing_intermediate is False
    assert measured.result.chain.duplicates == ()
    assert measured.result.chain.root_included is False
    # While the same chain in the right order is fine
    assert well_ordered.result.chain.order_ok is True
    assert well_ordered.result.chain.order_problems == ()


def test_duplicate_certificate(pki: TestPKI) -> None:
    # Given a server that sends its intermediate twice
    chain = (*pki.ecdsa_p256.chain, pki.intermediate)
    issued = send_chain(pki, pki.ecdsa_p256, "duplicate_intermediate", chain)
    measured = with_openssl(issued, pki)
    # Then the repeat is reported by position, counted in the bytes, and not an order problem
    assert measured.result.chain.duplicates == (2,)
    assert measured.result.chain.certificates == 3
    assert measured.result.chain.chain_der_bytes == sum(issued.chain_der_sizes)
    assert measured.result.chain.order_ok is True
    assert measured.result.chain.root_included is False


def test_missing_intermediate(pki: TestPKI) -> None:
    # Given a server that sends its leaf alone
    measured = with_openssl(pki.missing_intermediate, pki)
    chain = measured.result.chain
    # Then the intermediate is missing, and the leaf's caIssuers URL says where it lives
    assert chain.missing_intermediate is True
    assert chain.ca_issuers_urls == (CA_ISSUERS_URL,)
    assert chain.certificates == 1
    assert chain.chain_der_bytes == pki.missing_intermediate.chain_der_sizes[0]
    assert chain.order_ok is True
    assert measured.connections == DELIVERY_CONNECTIONS


def test_untrusted_root_is_not_called_a_missing_intermediate(pki: TestPKI) -> None:
    # Given a complete chain whose root the client does not trust (no --ca-file)
    measured = with_openssl(pki.ecdsa_p256, pki, trust_root=False)
    # Then the verifier cannot find the intermediate's issuer: a missing cross-certificate and
    # an unknown root look alike without fetching, so the verdict is "cannot tell"
    assert measured.result.chain.missing_intermediate is None
    assert measured.result.chain.order_ok is True


# -- dual certificates -----------------------------------------------------------------------


@pytest.fixture
def dual_nginx(pki: TestPKI, request: pytest.FixtureRequest) -> Iterator[NginxServer]:
    rsa_chain = str(pki.rsa2048.chain_path)
    rsa_key = str(pki.rsa2048.key_path)
    protocols: str = request.param
    with NginxServer(
        "dual", pki.ecdsa_p256, protocols=protocols, rsa_cert=rsa_chain, rsa_key=rsa_key
    ) as server:
        yield server


@pytest.mark.parametrize(
    ("dual_nginx", "version"),
    [("TLSv1.2 TLSv1.3", "TLSv1.3"), ("TLSv1.2", "TLSv1.2")],
    indirect=["dual_nginx"],
)
def test_nginx_with_ecdsa_and_rsa_certificates(
    pki: TestPKI, dual_nginx: NginxServer, version: str
) -> None:
    # Given nginx with two ssl_certificate lines, ECDSA P-256 first, then RSA-2048
    measured = measure(dual_nginx.port, pki)
    # Then the ECDSA-only client gets the ECDSA leaf and the RSA-only client the RSA leaf
    assert measured.result.dual_certificates == DualCertificates(
        ecdsa_certificate="ECDSA P-256", rsa_certificate="RSA-2048", dual=True, version=version
    )
    assert measured.connections == DELIVERY_CONNECTIONS


def test_ecdsa_only_server_has_no_rsa_certificate(pki: TestPKI) -> None:
    # Given s_server with an ECDSA certificate only
    measured = with_openssl(pki.ecdsa_p256, pki)
    # Then the RSA-only offer is refused
    assert measured.result.dual_certificates == DualCertificates(
        ecdsa_certificate="ECDSA P-256", rsa_certificate=None, dual=False, version="TLSv1.3"
    )


def test_rsa_only_tls12_server_has_no_ecdsa_certificate(pki: TestPKI) -> None:
    # Given s_server limited to TLS 1.2 with an RSA certificate only
    measured = with_openssl(pki.rsa2048, pki, "-no_tls1_3")
    # Then the raw ECDSA-suites hello is refused and the RSA one gets the RSA leaf
    assert measured.result.dual_certificates == DualCertificates(
        ecdsa_certificate=None, rsa_certificate="RSA-2048", dual=False, version="TLSv1.2"
    )
    # And the chain sizes come from the cleartext Certificate message (no TLS 1.3 extensions)
    sizes = pki.rsa2048.chain_der_sizes
    assert measured.result.chain.certificate_message_bytes == 4 + 3 + sum(3 + s for s in sizes)


# -- key economics -----------------------------------------------------------------------------


def test_key_costs_for_an_ecdsa_leaf(pki: TestPKI) -> None:
    # Given an ECDSA P-256 leaf
    measured = with_openssl(pki.ecdsa_p256, pki)
    costs = measured.result.key_costs
    # Then the leaf comes first and every RSA size follows (the P-256 reference is the leaf's)
    assert [(cost.key_description, cost.is_leaf) for cost in costs] == [
        ("ECDSA P-256", True),
        ("RSA-2048", False),
        ("RSA-3072", False),
        ("RSA-4096", False),
    ]
    # And the sizes are those of a SubjectPublicKeyInfo and of one signature
    assert [(cost.public_key_bytes, cost.signature_bytes) for cost in costs] == [
        (91, 72),  # P-256 point (65) in its SPKI; the largest DER ECDSA signature
        (294, 256),
        (422, 384),
        (550, 512),
    ]
    # And each was timed on this machine (how long is the machine's business, not the test's)
    assert all(cost.verify_us > 0 for cost in costs)


def test_key_costs_for_an_rsa_leaf(pki: TestPKI) -> None:
    # Given an RSA-2048 leaf
    measured = with_openssl(pki.rsa2048, pki)
    costs = measured.result.key_costs
    # Then the leaf row replaces the RSA-2048 reference, and P-256 is shown beside it
    assert [
        (cost.key_description, cost.is_leaf, cost.public_key_bytes, cost.signature_bytes)
        for cost in costs
    ] == [
        ("RSA-2048", True, 294, 256),
        ("ECDSA P-256", False, 91, 72),
        ("RSA-3072", False, 422, 384),
        ("RSA-4096", False, 550, 512),
    ]
    assert all(cost.verify_us > 0 for cost in costs)


# -- validity hygiene --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "lifetime_days", "exceeds"),
    [
        (datetime.timedelta(days=825), 825, True),
        (datetime.timedelta(days=398), 398, False),
        (datetime.timedelta(days=398, seconds=1), 398, True),
    ],
)
def test_lifetime_against_the_rule_of_its_issue_date(
    pki: TestPKI, lifetime: datetime.timedelta, lifetime_days: int, exceeds: bool
) -> None:
    # Given a leaf issued in the 398-day era with this lifetime
    issued = pki.issue(
        f"lifetime_{int(lifetime.total_seconds())}",
        ec.generate_private_key(ec.SECP256R1()),
        not_before=ISSUED_IN_398_DAY_ERA,
        not_after=ISSUED_IN_398_DAY_ERA + lifetime,
    )
    measured = with_openssl(issued, pki)
    hygiene = measured.result.hygiene
    # Then it is judged by the 398-day rule, whatever today's rule is
    assert hygiene.max_lifetime_days == 398
    assert hygiene.lifetime_days == lifetime_days
    assert hygiene.exceeds_max_lifetime is exceeds
    assert hygiene.days_left == measured.certificate.certificates[0].days_left


def test_clean_leaf_hygiene(pki: TestPKI) -> None:
    # Given the default leaf: 90 days from now, backdated one day, SHA-256, P-256
    measured = with_openssl(pki.ecdsa_p256, pki)
    hygiene = measured.result.hygiene
    # Then nothing is wrong with it
    assert hygiene.days_left == 89  # whole days: 90 days minus the seconds since it was issued
    assert hygiene.lifetime_days == 91
    assert hygiene.max_lifetime_days == max_lifetime_days(
        pki.ecdsa_p256.certificate.not_valid_before_utc
    )
    assert hygiene.exceeds_max_lifetime is False
    assert hygiene.sha1_signatures == ()
    assert hygiene.weak_keys == ()
    assert hygiene.name_matches is True


def test_expired_and_misnamed_leaves(pki: TestPKI) -> None:
    # Given a leaf that expired ten days ago, and one issued for another name
    expired = with_openssl(pki.expired, pki).result.hygiene
    wrong_name = with_openssl(pki.wrong_name, pki).result.hygiene
    # Then the days left go negative (whole days, rounded down) and the name is flagged
    assert expired.days_left == -11
    assert expired.lifetime_days == 90
    assert expired.name_matches is True
    assert wrong_name.name_matches is False
    assert wrong_name.days_left == 89


def test_weak_rsa_1024_leaf(pki: TestPKI) -> None:
    # Given an RSA-1024 leaf, which s_server serves only at security level 0
    weak_key = rsa.generate_private_key(65537, 1024)  # noqa: S505 - weak on purpose
    issued = pki.issue("rsa1024", weak_key)
    measured = with_openssl(issued, pki, *SECURITY_LEVEL_0)
    # Then the key is weak, and its row shows how small it is
    assert measured.result.hygiene.weak_keys == ("position 0: RSA-1024",)
    leaf_cost = measured.result.key_costs[0]
    assert (leaf_cost.key_description, leaf_cost.is_leaf) == ("RSA-1024", True)
    assert (leaf_cost.public_key_bytes, leaf_cost.signature_bytes) == (162, 128)
    assert [cost.key_description for cost in measured.result.key_costs[1:]] == [
        "ECDSA P-256",
        "RSA-2048",
        "RSA-3072",
        "RSA-4096",
    ]
    # And the RSA-only offer gets it, at whatever security level the server runs
    assert measured.result.dual_certificates.rsa_certificate == "RSA-1024"


def test_sha1_signed_leaf(pki: TestPKI) -> None:
    # Given a leaf the intermediate signed with ecdsa-with-SHA1 (served at security level 0)
    issued = sha1_signed(pki, "sha1_leaf", ec.generate_private_key(ec.SECP256R1()))
    measured = with_openssl(issued, pki, *SECURITY_LEVEL_0)
    # Then position 0 is flagged, and the chain order still checks out (the SHA-1 signature
    # verifies with the intermediate's key)
    assert measured.result.hygiene.sha1_signatures == (0,)
    assert measured.result.chain.order_ok is True
    assert measured.result.hygiene.weak_keys == ()


@pytest.mark.parametrize(
    ("not_before", "days"),
    [
        (datetime.datetime(2012, 6, 30, tzinfo=datetime.UTC), 3652),
        (datetime.datetime(2012, 7, 1, tzinfo=datetime.UTC), 1827),
        (datetime.datetime(2015, 4, 1, tzinfo=datetime.UTC), 1188),
        (datetime.datetime(2018, 2, 28, 23, 59, 59, tzinfo=datetime.UTC), 1188),
        (datetime.datetime(2018, 3, 1, tzinfo=datetime.UTC), 825),
        (datetime.datetime(2020, 9, 1, tzinfo=datetime.UTC), 398),
        (datetime.datetime(2026, 3, 14, 23, 59, 59, tzinfo=datetime.UTC), 398),
        (datetime.datetime(2026, 3, 15, tzinfo=datetime.UTC), 200),
        (datetime.datetime(2027, 3, 15, tzinfo=datetime.UTC), 100),
        (datetime.datetime(2029, 3, 15, tzinfo=datetime.UTC), 47),
        (datetime.datetime(2040, 1, 1, tzinfo=datetime.UTC), 47),
    ],
)
def test_max_lifetime_table(not_before: datetime.datetime, days: int) -> None:
    # Given a leaf issued at this instant, Then this is the CA/B Forum (and Chrome) maximum
    assert max_lifetime_days(not_before) == days
