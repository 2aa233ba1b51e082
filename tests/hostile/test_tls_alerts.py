"""A server that answers every ClientHello with one alert record, scanned as a user does.

A refusing alert is an answer, not a crash: the timed connection fails with kind ``alert``
and the alert named, the raw-hello probes record it per hello, and exit code 3 says no TLS
session could be set up. An alert record of the wrong length is malformed TLS instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.tls_scripts import (
    Answer,
    OfferedHello,
    ScriptedTlsServer,
    alert_record,
    scan_checked,
)
from tests.pki import TestPKI

VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def alerting(payload: bytes) -> ScriptedTlsServer:
    def script(_hello: OfferedHello, _index: int) -> Answer:
        return Answer(alert_record(payload))

    return ScriptedTlsServer(script)


@pytest.mark.parametrize(
    ("level", "description", "words", "name"),
    [
        # The usual refusals (RFC 8446 §6.2).
        (2, 40, "fatal", "handshake_failure"),
        (2, 70, "fatal", "protocol_version"),
        (2, 80, "fatal", "internal_error"),
        (2, 112, "fatal", "unrecognized_name"),
        # A warning that is not close_notify: RFC 8446 §6 treats it as fatal all the same.
        (1, 100, "warning", "no_renegotiation"),
        (1, 90, "warning", "user_canceled"),
        # close_notify before any handshake: a polite way to hang up, still no session.
        (1, 0, "warning", "close_notify"),
        # Codes no registry assigns: kept as numbers, never a crash.
        (2, 255, "fatal", "0x00ff"),
        (2, 1, "fatal", "0x0001"),
        (7, 40, "0x0007", "handshake_failure"),
        (0, 0, "0x0000", "close_notify"),
    ],
)
def test_every_hello_answered_with_an_alert(
    pki: TestPKI, tmp_path: Path, level: int, description: int, words: str, name: str
) -> None:
    # Given a server that answers any ClientHello with this one alert and closes
    with alerting(bytes([level, description])) as server:
        # When the user scans it
        run = scan_checked(server.port, pki, tmp_path)
    # Then no TLS session was set up: exit 3, and the timed connection says which alert
    assert run.returncode == 3
    assert run.error("connection") == ("alert", "tls")
    assert run.message("connection") == (
        f"127.0.0.1:{server.port} refused the handshake with a {words} alert: {name}"
    )
    # And the versions probe read the same alert as every version's answer
    versions = run.result("versions")["versions"]
    assert [(v["version"], v["support"], v["answer"], v["alert"]) for v in versions] == [
        (version, "not_supported", "alert", name) for version in VERSIONS
    ]
    # And the probes built on a supported version say why they did not run
    assert run.status("cipher_suites") == "skipped"
    assert run.status("certificate") == "skipped"


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"", "alert level: need 1 bytes, only 0 left at offset 5"),
        (b"\x02", "alert description: need 1 bytes, only 0 left at offset 6"),
        (b"\x02\x28\x00", "alert: 1 unexpected trailing bytes at offset 7"),
    ],
)
def test_alert_record_of_the_wrong_length(
    pki: TestPKI, tmp_path: Path, payload: bytes, problem: str
) -> None:
    # Given a server that answers with an alert record of 0, 1 or 3 bytes (RFC 8446 §6: two)
    with alerting(payload) as server:
        # When the user scans it
        run = scan_checked(server.port, pki, tmp_path)
    # Then the timed connection fails on malformed TLS, pointing at the bad byte
    assert run.returncode == 3
    assert run.error("connection") == ("protocol", "tls")
    assert problem in run.message("connection")
    # And the other probes are skipped, with the reason, rather than repeating the same bytes
    assert run.probe("versions")["skip_reason"] == (
        "the timed connection failed (protocol): nothing to probe"
    )
    assert set(run.statuses().values()) == {"failed", "skipped"}
