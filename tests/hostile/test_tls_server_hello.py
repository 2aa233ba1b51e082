"""Hostile ServerHellos and HelloRetryRequests, scanned end to end as a user does.

Each lab server answers exactly the hellos a test targets with a crafted ServerHello or HRR and
splices every other connection to a real TLS server, so the probes that meet the hostile answer
must fail with the right error kind and phase (or read it as the answer it is), while the rest
still measure the real server behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from httpsaudit.tls.codes import CipherSuite, ContentType, NamedGroup
from tests.hostile.tls_scripts import (
    SPLICE,
    TLS13,
    Answer,
    OfferedHello,
    ScriptedTlsServer,
    Splice,
    assert_no_session_and_engine_refused,
    first_offered,
    records,
    scan_checked,
    scan_scripted_tls,
    server_hello,
    tls12_acks,
)
from tests.pki import TestPKI

# A version no registry assigns (it would be "TLS 1.4"): the server claims to have chosen it.
UNKNOWN_VERSION = 0x0305
TLS13_SUITES = (
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
)
# What the sans-IO engine (early data probe) lists; the first well-known group missing from it.
ENGINE_MISSING_GROUP = "secp521r1"
# x25519's key_exchange is 32 bytes (RFC 7748), and every other share here is as good as random.
SHARE_BYTES = 32
# The TLS 1.2 suites a lab ServerHello may pick (ECDSA lab key; any the hello offers).
TLS12_SUITES = (
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
)
# Groups a retry may ask for that the engine and OpenSSL can both make a share for.
RETRY_GROUPS = (NamedGroup.secp256r1, NamedGroup.secp384r1, NamedGroup.x25519)


def tls13_suite(hello: OfferedHello) -> int:
    return first_offered(hello, TLS13_SUITES) or hello.cipher_suites[0]


def handshake_records(message: bytes) -> bytes:
    return records(ContentType.HANDSHAKE, message)


# -- a version nobody offered ---------------------------------------------------------------


def unknown_version(hello: OfferedHello, _index: int) -> Answer:
    """Every hello gets a ServerHello choosing 0x0305: in supported_versions for a TLS 1.3
    hello (RFC 8446 §4.2.1), in legacy_version for an older one (RFC 5246 §7.4.1.3)."""
    suite = hello.cipher_suites[0]
    if hello.offers_tls13:
        message = server_hello(hello, cipher_suite=suite, selected_version=UNKNOWN_VERSION)
    else:
        message = server_hello(hello, cipher_suite=suite, legacy_version=UNKNOWN_VERSION)
    return Answer(handshake_records(message))


def test_server_hello_with_an_unknown_version(pki: TestPKI, tmp_path: Path) -> None:
    # Given a server whose every ServerHello picks version 0x0305
    # When the user scans it
    run, _ = scan_scripted_tls(unknown_version, pki, tmp_path)
    # Then no TLS session was set up: exit 3, the timed connection failed in the handshake
    assert run.returncode == 3
    assert run.error("connection") == ("handshake", "tls")
    # And the versions probe still ran, and read every answer as "not this version", keeping
    # the version the server named
    versions = run.result("versions")["versions"]
    assert [(v["version"], v["support"], v["answer"]) for v in versions] == [
        (name, "not_supported", "server_hello")
        for name in ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    ]
    assert {v["server_version_code"] for v in versions} == {UNKNOWN_VERSION}
    assert run.result("versions")["supported"] == []
    # And the probes that need a supported version say so instead of failing
    assert run.status("cipher_suites") == "skipped"
    assert run.probe("cipher_suites")["skip_reason"] == (
        "no protocol version is supported, so no suite can be offered"
    )


# -- a cipher suite nobody offered -----------------------------------------------------------


def suite_not_offered(hello: OfferedHello, _index: int) -> Answer | Splice:
    """A server that always picks TLS_AES_128_GCM_SHA256 in TLS 1.3, offered or not."""
    if not hello.offers_tls13 or CipherSuite.TLS_AES_128_GCM_SHA256 in hello.cipher_suites:
        return SPLICE
    group = next(group for group in hello.supported_groups if group not in hello.key_shares)
    message = server_hello(
        hello,
        cipher_suite=CipherSuite.TLS_AES_128_GCM_SHA256,
        selected_version=TLS13,
        retry_group=group,
    )
    return Answer(handshake_records(message))


def test_server_hello_with_a_cipher_suite_not_offered(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a server that answers TLS_AES_128_GCM_SHA256 to TLS 1.3 hellos that leave it out
    # When the user scans it
    run, server = scan_scripted_tls(suite_not_offered, pki, tmp_path, backend=backend)
    # Then the cipher suite probe, whose hellos leave suites out, fails on that answer
    assert run.error("cipher_suites") == ("protocol", "tls")
    assert run.message("cipher_suites") == (
        "the server picked TLS_AES_128_GCM_SHA256, which the hello did not offer"
    )
    # And every other probe completed against the real server behind it
    assert {name for name, status in run.statuses().items() if status != "completed"} == {
        "cipher_suites"
    }
    assert run.returncode == 0
    assert server.spliced > 0


# -- a key share group nobody offered --------------------------------------------------------


def share_for_group_not_offered(hello: OfferedHello, _index: int) -> Answer | Splice:
    """A TLS 1.3 ServerHello whose key_share is for a group the hello did not list."""
    if not (hello.offers_tls13 and hello.has_key_share):
        return SPLICE
    share = (hello.group_not_offered(), os.urandom(SHARE_BYTES))
    message = server_hello(
        hello, cipher_suite=tls13_suite(hello), selected_version=TLS13, key_share=share
    )
    return Answer(handshake_records(message))


def test_server_hello_with_a_group_not_offered(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a server that answers every TLS 1.3 hello carrying a key share with a share for a
    # group that hello did not list (raw probe hellos, without shares, reach a real server)
    # When the user scans it
    run, _ = scan_scripted_tls(share_for_group_not_offered, pki, tmp_path, backend=backend)
    # Then no TLS session could be set up: exit 3, OpenSSL refused the handshake
    # And our own TLS 1.3 engine refused the share, naming the group
    assert_no_session_and_engine_refused(
        run, f"ILLEGAL_PARAMETER: a {ENGINE_MISSING_GROUP} share, for which we sent none"
    )
    # And the raw-hello probes still measured the real server
    assert run.result("versions")["supported"] == ["TLSv1.2", "TLSv1.3"]
    assert run.status("groups") == "completed"
    assert run.status("cipher_suites") == "completed"


# -- HelloRetryRequest twice -----------------------------------------------------------------


def retry_twice(hello: OfferedHello, index: int) -> Answer | Splice:
    """An HRR to a hello with a key share, and another HRR to the hello that answers it."""
    if not (hello.offers_tls13 and hello.has_key_share):
        return SPLICE
    group = next(
        group
        for group in hello.supported_groups
        if group in RETRY_GROUPS and group not in hello.key_shares
    )
    message = server_hello(
        hello, cipher_suite=tls13_suite(hello), selected_version=TLS13, retry_group=group
    )
    return Answer(handshake_records(message), another_hello=index == 0)


def test_hello_retry_request_twice(pki: TestPKI, backend: tuple[str, int], tmp_path: Path) -> None:
    # Given a server that answers a second HelloRetryRequest to the retried hello
    with ScriptedTlsServer(retry_twice, backend=backend) as server:
        # When the user scans it
        run = scan_checked(server.port, pki, tmp_path)
        retries = server.retries
    # Then clients really retried (and met the second HRR)
    assert retries > 0
    # And no TLS session was set up: exit 3, OpenSSL refused the second HRR
    # And our engine refused it as RFC 8446 §4.1.4 says: unexpected_message
    assert_no_session_and_engine_refused(run, "UNEXPECTED_MESSAGE: a second HelloRetryRequest")
    # And resumption reports TLS 1.3 as unknown while TLS 1.2 (no key share) still resumed
    resumption = run.result("resumption")
    assert resumption["tls13_psk"]["support"] == "unknown"
    assert resumption["tls13_psk"]["note"].startswith("full handshake failed: TLS: ")
    assert resumption["session_id"]["support"] == "supported"
    assert resumption["session_ticket"]["support"] == "supported"


# -- HelloRetryRequest naming a group nobody offered -------------------------------------------


def retry_for_group_not_offered(hello: OfferedHello, _index: int) -> Answer | Splice:
    """An HRR asking for a group the hello did not list (RFC 8446 §4.1.4 forbids it)."""
    if not hello.offers_tls13:
        return SPLICE
    message = server_hello(
        hello,
        cipher_suite=tls13_suite(hello),
        selected_version=TLS13,
        retry_group=hello.group_not_offered(),
    )
    return Answer(handshake_records(message))


def test_hello_retry_request_for_a_group_not_offered(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a server whose every TLS 1.3 answer is an HRR naming a group the hello left out
    # When the user scans it
    run, _ = scan_scripted_tls(retry_for_group_not_offered, pki, tmp_path, backend=backend)
    # Then no TLS session was set up (OpenSSL tries TLS 1.3 first): exit 3
    # And our engine refused the HRR, naming the group
    assert_no_session_and_engine_refused(
        run,
        f"ILLEGAL_PARAMETER: the HelloRetryRequest asks for {ENGINE_MISSING_GROUP}, "
        "which was not offered",
    )
    # And the groups probe counts no group as supported in TLS 1.3 from such answers
    groups = run.result("groups")
    assert {group["tls13"] for group in groups["groups"]} == {"unknown"}
    assert groups["tls13_preference"] == []
    # And the browser-like hello is not said to have got a group it never offered
    assert (groups["browser_hello_group"], groups["browser_hello_retry"]) == (None, None)
    # And TLS 1.2, spliced to the real server, was measured as usual
    assert run.result("versions")["versions"][3]["support"] == "supported"
    assert run.result("key_exchange")["tls12_supported"] is True


def retry_probe_hellos_for_group_not_offered(hello: OfferedHello, index: int) -> Answer | Splice:
    """The same HRR, but only to raw probe hellos (no key share): real clients get through."""
    if hello.has_key_share:
        return SPLICE
    return retry_for_group_not_offered(hello, index)


def test_hello_retry_request_for_a_group_not_offered_to_probe_hellos_only(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a server that sends the bad HRR only to hellos without a key share
    # When the user scans it
    run, _ = scan_scripted_tls(
        retry_probe_hellos_for_group_not_offered, pki, tmp_path, backend=backend
    )
    # Then the scan is complete and clean: a TLS session was set up
    assert run.returncode == 0
    assert set(run.statuses().values()) == {"completed"}
    # And the groups probe claims only what a real key share proved (x25519, by the browser
    # hello); every group the bad HRRs were about stays unknown
    tls13 = {group["group"]: group["tls13"] for group in run.result("groups")["groups"]}
    assert {name for name, verdict in tls13.items() if verdict != "unknown"} == {"x25519"}
    assert tls13["x25519"] == "supported"


# -- a good ServerHello with garbage after it ----------------------------------------------

# Not a record header: 0x95 is no content type.
GARBAGE = bytes([0x95]) * 64


def tls12_hello_then_garbage(hello: OfferedHello, _index: int) -> Answer | Splice:
    """TLS 1.2-only hellos get a proper ServerHello and, in the same write, garbage."""
    suite = first_offered(hello, TLS12_SUITES)
    if hello.offers_tls13 or suite is None:
        return SPLICE
    message = server_hello(hello, cipher_suite=suite, extra_extensions=tls12_acks(hello))
    return Answer(handshake_records(message) + GARBAGE)


def test_tls12_server_hello_followed_by_garbage(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a server that follows its TLS 1.2 ServerHello with bytes that are not TLS
    # When the user scans it
    run, _ = scan_scripted_tls(tls12_hello_then_garbage, pki, tmp_path, backend=backend)
    # Then the TLS 1.3 session is fine: exit 0
    assert run.returncode == 0
    # And the versions probe, which needs only the ServerHello, read TLS 1.2 from it
    assert run.result("versions")["supported"] == ["TLSv1.2", "TLSv1.3"]
    # And a probe that needs the rest of the TLS 1.2 flight fails on the garbage
    assert run.error("key_exchange") == ("protocol", "tls")
    assert "malformed TLS" in run.message("key_exchange")
