"""Input validation end to end (issue 9): every bad target, option or configuration file is one
error line on stderr, exit 2, no traceback, and not one connection.

"Not one connection" is proven, not assumed: each command is pointed at a listening loopback
server it would reach if the input were accepted (``--connect-to`` for a bad target, the good
target for a bad option). After the command has exited, the test connects a sentinel of its
own. The kernel's accept queue is first in, first out, so once the server has accepted the
sentinel it has accepted anything the command connected before exiting; the connections ahead
of the sentinel must be none. The same harness sees the connection of an accepted target
(``test_the_harness_sees_a_connection``), so it can fail.

Decisions made here (``httpsaudit.target.parse_target`` documents them too): a query is kept
in the request path and a fragment dropped; one trailing dot is accepted; IDN names are sent
as punycode; ASCII names may hold ``_``; a name ending in a number is refused.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pki import TestPKI
from tests.servers import IO_TIMEOUT_S, OpenSSLServer, RawServer
from tests.test_cli import REPOSITORY, SUBPROCESS_TIMEOUT_S

Peer = tuple[str, int]


class AcceptRecorder(RawServer):
    """``RawServer("silent")`` that notes every accepted peer in the accept thread itself, so
    ``peers`` is in the order of the kernel's accept queue."""

    def __init__(self) -> None:
        super().__init__("silent")
        self.peers: list[Peer] = []

    def spawn(self, target: Callable[..., None], *args: object) -> None:
        connection = args[0] if args else None
        if isinstance(connection, socket.socket):
            try:
                host, port = connection.getpeername()[:2]
            except OSError:  # already reset by the peer: still a connection made
                host, port = "?", 0
            self.peers.append((host, port))
        super().spawn(target, *args)

    def peers_before_sentinel(self) -> list[Peer]:
        """Every connection accepted before one the test makes now (see the module docstring)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=IO_TIMEOUT_S) as sentinel:
            host, port = sentinel.getsockname()[:2]
            mine = (host, port)
            give_up = time.monotonic() + IO_TIMEOUT_S
            while mine not in self.peers:
                assert time.monotonic() < give_up, "the server never accepted the sentinel"
                time.sleep(0.01)
        return self.peers[: self.peers.index(mine)]


@pytest.fixture
def server() -> Iterator[AcceptRecorder]:
    with AcceptRecorder() as recorder:
        yield recorder


def run(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m httpsaudit ARGS`` as a user runs it, optionally with standard input."""
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY), environment.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, "-m", "httpsaudit", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        env=environment,
        cwd=cwd,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    """Our one-line errors and click's usage error line."""
    return [
        line for line in stderr.splitlines() if line.startswith(("httpsaudit: error: ", "Error: "))
    ]


def assert_refused(
    completed: subprocess.CompletedProcess[str], server: AcceptRecorder, expected: str
) -> None:
    """Exit 2, exactly ``expected`` as the one error line, no report, and no connection."""
    assert "Traceback" not in completed.stderr
    assert completed.returncode == 2, completed.stderr
    assert error_lines(completed.stderr) == [expected]
    assert completed.stdout == ""
    assert server.peers_before_sentinel() == []


# -- targets ----------------------------------------------------------------------------------

LONG_LABEL = "a" * 64
LONG_NAME = ".".join(["b" * 60] * 5)  # 304 characters

BAD_TARGETS = [
    ("", "empty target"),
    ("   ", "empty target"),
    ("example.com:0", "invalid port 0 in 'example.com:0': expected 1-65535"),
    ("example.com:65536", "invalid port 65536 in 'example.com:65536': expected 1-65535"),
    (
        "example.com:https",
        "invalid port 'https' in 'example.com:https': expected a number 1-65535",
    ),
    ("example.com:-1", "invalid port '-1' in 'example.com:-1': expected a number 1-65535"),
    ("example.com:", "invalid port '' in 'example.com:': expected a number 1-65535"),
    # Arabic-Indic digits: str.isdigit() says yes and int() reads them as 443.
    (
        "example.com:\u0664\u0664\u0663",
        "invalid port '\u0664\u0664\u0663' in 'example.com:\u0664\u0664\u0663': "
        "expected a number 1-65535",
    ),
    ("[::1", "unclosed '[' in '[::1'"),
    ("::1]:443", "unbalanced ']' in '::1]:443'"),
    ("[::1]443", "unexpected '443' after ']' in '[::1]443'"),
    ("[not-an-ip]:443", "'not-an-ip' in brackets is not an IPv6 address in '[not-an-ip]:443'"),
    ("https://[::1/", "unclosed '[' in 'https://[::1/'"),  # urlsplit raised ValueError here
    (
        f"{LONG_LABEL}.example",
        f"invalid host name '{LONG_LABEL}.example': Label too long "
        f"(64 > 63 characters): '{LONG_LABEL}'",
    ),
    (LONG_NAME, f"host name too long (304 > 253): '{LONG_NAME}'"),
    ("xn--.example", "invalid host name 'xn--.example': bad label 'xn--'"),
    ("xn--zz.example", "invalid host name 'xn--zz.example': 'xn--zz': Invalid A-label"),
    (
        "xn--ls8h.example",  # decodes to U+1F4A9, which IDNA 2008 disallows
        "invalid host name 'xn--ls8h.example': 'xn--ls8h': "
        "Codepoint U+1F4A9 at position 1 of '\U0001f4a9' not allowed",
    ),
    (
        "\u2603.example",
        "invalid host name '\u2603.example': "
        "Codepoint U+2603 at position 1 of '\u2603' not allowed",
    ),
    ("exa!mple.com", "invalid host name 'exa!mple.com': bad label 'exa!mple'"),
    ("example.com..", "invalid host name 'example.com..': empty label"),
    ("1.2.3", "invalid host name '1.2.3': ends in a number, but is not an IP address"),
    ("256.1.1.1", "invalid host name '256.1.1.1': ends in a number, but is not an IP address"),
    (
        "https://user:pw@example.com/",
        "credentials in the URL are not supported: 'https://user:pw@example.com/'",
    ),
    ("user@example.com", "credentials in the target are not supported: 'user@example.com'"),
    ("http://example.com/", "unsupported scheme 'http' in 'http://example.com/': use https://"),
    ("ftp://example.com/", "unsupported scheme 'ftp' in 'ftp://example.com/': use https://"),
    (
        "https://example.com/a b",
        "target 'https://example.com/a b' contains whitespace (URL-encode spaces in paths)",
    ),
    (
        "exa\x01mple.com",
        "target 'exa\\x01mple.com' contains a control character (U+0001 at position 3)",
    ),
    (
        "https://example.com/\x7f",
        "target 'https://example.com/\\x7f' contains a control character (U+007F at position 20)",
    ),
    ("https:///path", "no host in target 'https:///path'"),
    ("x" * 8193, "target longer than 8192 characters"),
]


@pytest.mark.parametrize(
    ("target", "message"), BAD_TARGETS, ids=[repr(text[:30]) for text, _ in BAD_TARGETS]
)
def test_bad_target_exits_2_and_sends_nothing(
    server: AcceptRecorder, target: str, message: str
) -> None:
    # Given a bad target that --connect-to would send to a listening server
    # When it is scanned
    completed = run("scan", target, "--connect-to", f"127.0.0.1:{server.port}")
    # Then exit 2 with one line, and the server saw nothing
    assert_refused(completed, server, f"Error: {message}")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("example.com:0", "invalid port 0 in 'example.com:0': expected 1-65535"),
        ("ftp://example.com/", "unsupported scheme 'ftp' in 'ftp://example.com/': use https://"),
    ],
)
def test_a_bad_target_in_a_fleet_stops_the_good_ones_too(
    server: AcceptRecorder, target: str, message: str
) -> None:
    # Given a good target first and a bad one second
    completed = run("scan", f"127.0.0.1:{server.port}", target)
    # Then the whole list is checked before anything is sent
    assert_refused(completed, server, f"Error: {message}")


def test_a_bad_line_in_a_targets_file_names_file_and_line(
    server: AcceptRecorder, tmp_path: Path
) -> None:
    # Given a target list whose fourth line holds a NUL (argv cannot carry one; a file can)
    targets = tmp_path / "targets.txt"
    targets.write_text(f"# fleet\n127.0.0.1:{server.port}\n\nexa\x00mple.com\n", "utf-8")
    completed = run("scan", "--targets", str(targets))
    # Then FILE:LINE and the reason, and nothing sent to the good first target
    assert_refused(
        completed,
        server,
        f"Error: {targets}:4: target 'exa\\x00mple.com' contains a control character "
        "(U+0000 at position 3)",
    )


def test_a_bad_line_on_stdin_names_stdin_and_line(server: AcceptRecorder) -> None:
    # Given targets on standard input, the second one with a scheme we do not speak
    completed = run("scan", "-", stdin=f"127.0.0.1:{server.port}\nhttp://example.com\n")
    # Then <stdin>:2 and the reason
    assert_refused(
        completed,
        server,
        "Error: <stdin>:2: unsupported scheme 'http' in 'http://example.com': use https://",
    )


def test_an_endless_line_in_a_targets_file_is_refused(server: AcceptRecorder) -> None:
    # Given a "target list" that never ends a line (reading it whole would exhaust memory)
    completed = run("scan", "--targets", "/dev/zero", "--connect-to", f"127.0.0.1:{server.port}")
    # Then reading stops at the longest line we accept
    assert_refused(completed, server, "Error: /dev/zero:1: longer than 9216 characters")


# -- options ----------------------------------------------------------------------------------

BAD_OPTIONS = [
    (["--timeout", "0"], "Error: Invalid value for '--timeout': must be greater than 0"),
    (["--timeout", "-1"], "Error: Invalid value for '--timeout': must be greater than 0"),
    (["--timeout", "nan"], "Error: Invalid value for '--timeout': nan is not a number of seconds"),
    (["--timeout", "inf"], "Error: Invalid value for '--timeout': inf is not a number of seconds"),
    (
        ["--timeout", "1e400"],
        "Error: Invalid value for '--timeout': inf is not a number of seconds",
    ),
    (
        ["--timeout", "1e300"],
        "Error: Invalid value for '--timeout': at most 86400 seconds (a day)",
    ),
    (
        ["--samples", "0"],
        "Error: Invalid value for '--samples': 0 is not in the range 1<=x<=100.",
    ),
    (
        ["--samples", "-1"],
        "Error: Invalid value for '--samples': -1 is not in the range 1<=x<=100.",
    ),
    (
        ["--max-connections", "0"],
        "Error: Invalid value for '--max-connections': 0 is not in the range 1<=x<=64.",
    ),
    (
        ["--concurrency", "0"],
        "Error: Invalid value for '--concurrency': 0 is not in the range 1<=x<=256.",
    ),
    (
        ["--resumption-attempts", "0"],
        "Error: Invalid value for '--resumption-attempts': 0 is not in the range 1<=x<=50.",
    ),
    (
        ["--select", "XYZ001"],
        "Error: Invalid value for '--select': unknown rule 'XYZ001' (httpsaudit rules lists them)",
    ),
    (
        ["--ignore", "TLS001,nope"],
        "Error: Invalid value for '--ignore': unknown rule 'nope' (httpsaudit rules lists them)",
    ),
    (
        ["--select", ","],  # would otherwise select every rule
        "Error: Invalid value for '--select': no rule given (httpsaudit rules lists them)",
    ),
    (
        ["--report", "xml:out.xml"],
        "Error: Invalid value for '--report': 'xml:out.xml': "
        "expected {text|json|jsonl|sarif|junit|markdown}:PATH",
    ),
    (
        ["--report", "sarif:"],
        "Error: Invalid value for '--report': 'sarif:': "
        "expected {text|json|jsonl|sarif|junit|markdown}:PATH",
    ),
    (
        ["--resolver", "dns.example"],
        "Error: --resolver needs an IP address, got 'dns.example'",
    ),
    (
        ["--resolver", "127.0.0.1:0"],
        "Error: --resolver: invalid port 0 in '127.0.0.1:0': expected 1-65535",
    ),
    (
        ["--resolver", "127.0.0.1:99999"],
        "Error: --resolver: invalid port 99999 in '127.0.0.1:99999': expected 1-65535",
    ),
    (["--resolver", "[::1"], "Error: --resolver: unclosed '[' in '[::1'"),
    (
        ["--resolver", "[127.0.0.1]:53"],
        "Error: --resolver: '127.0.0.1' in brackets is not an IPv6 address in '[127.0.0.1]:53'",
    ),
    (["--connect-to", ""], "Error: --connect-to: empty address"),
    (
        ["--connect-to", "127.0.0.1:0"],
        "Error: --connect-to: invalid port 0 in '127.0.0.1:0': expected 1-65535",
    ),
    (["--connect-to", "[::1"], "Error: --connect-to: unclosed '[' in '[::1'"),
    (
        ["--connect-to", "https://127.0.0.1"],
        "Error: --connect-to: 'https://127.0.0.1' is not HOST, HOST:PORT or [IPv6]:PORT",
    ),
    (
        ["--sni", "bad name"],
        "Error: --sni: invalid host name 'bad name': bad label 'bad name'",
    ),
    (["--sni", "bad!name"], "Error: --sni: invalid host name 'bad!name': bad label 'bad!name'"),
    (["--sni", ""], "Error: --sni: empty host name in ''"),
    (["--sni", "x:443"], "Error: --sni: invalid host name 'x:443': bad label 'x:443'"),
    (
        ["--sni", "192.0.2.1"],
        "Error: --sni must be a host name, not an IP address: '192.0.2.1'",
    ),
]


@pytest.mark.parametrize(
    ("options", "expected"), BAD_OPTIONS, ids=[" ".join(options) for options, _ in BAD_OPTIONS]
)
def test_bad_option_exits_2_and_sends_nothing(
    server: AcceptRecorder, options: list[str], expected: str
) -> None:
    # Given a reachable target and one bad option
    completed = run("scan", f"127.0.0.1:{server.port}", *options)
    # Then exit 2, one line, nothing sent
    assert_refused(completed, server, expected)


def test_sni_with_several_targets(server: AcceptRecorder) -> None:
    completed = run("scan", f"127.0.0.1:{server.port}", "127.0.0.1:9", "--sni", "a.example")
    assert_refused(completed, server, "Error: --sni names one server: give it with a single TARGET")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--output", "{tmp}/missing/report.json"],
            "--output {tmp}/missing/report.json: no directory {tmp}/missing",
        ),
        (
            ["--report", "sarif:{tmp}/missing/a.sarif"],
            "--report {tmp}/missing/a.sarif: no directory {tmp}/missing",
        ),
        (["--report", "junit:{tmp}"], "--report {tmp}: is a directory"),
        (
            ["--output", "{tmp}/r.json", "--report", "json:{tmp}/r.json"],
            "--report {tmp}/r.json: --output writes to the same file",
        ),
    ],
)
def test_a_report_that_cannot_be_written_is_refused_before_the_scan(
    server: AcceptRecorder, tmp_path: Path, options: list[str], expected: str
) -> None:
    # Given a report path that cannot be written (before: found only after the whole scan)
    arguments = [option.format(tmp=tmp_path) for option in options]
    completed = run("scan", f"127.0.0.1:{server.port}", *arguments)
    # Then it is refused up front
    assert_refused(completed, server, f"Error: {expected.format(tmp=tmp_path)}")


# -- configuration files -------------------------------------------------------------------------


def test_ca_file_that_is_a_directory(server: AcceptRecorder, tmp_path: Path) -> None:
    completed = run("scan", f"127.0.0.1:{server.port}", "--ca-file", str(tmp_path))
    assert_refused(
        completed,
        server,
        f"Error: Invalid value for '--ca-file': File '{tmp_path}' is a directory.",
    )


def test_ca_file_without_read_permission(
    server: AcceptRecorder, pki: TestPKI, tmp_path: Path
) -> None:
    # Given a good CA file that this user may not read
    ca_file = tmp_path / "root.pem"
    ca_file.write_bytes(pki.root_path.read_bytes())
    ca_file.chmod(0)
    if os.access(ca_file, os.R_OK):
        pytest.skip("running as root: permission bits do not stop reads")
    completed = run("scan", f"127.0.0.1:{server.port}", "--ca-file", str(ca_file))
    assert_refused(
        completed,
        server,
        f"Error: Invalid value for '--ca-file': File '{ca_file}' is not readable.",
    )


@pytest.mark.parametrize("fleet", [False, True], ids=["one target", "fleet"])
def test_ca_file_that_is_not_pem(server: AcceptRecorder, tmp_path: Path, fleet: bool) -> None:
    # Given a --ca-file that is not PEM (a fleet scan used to exit 5: one internal error per
    # target, since each scan loaded it on its own)
    ca_file = tmp_path / "bogus.pem"
    ca_file.write_text("not a certificate\n", "utf-8")
    targets = [f"127.0.0.1:{server.port}"] * (2 if fleet else 1)
    completed = run("scan", *targets, "--ca-file", str(ca_file))
    # Then one line, exit 2, before any connection
    assert_refused(
        completed,
        server,
        f"httpsaudit: error: cannot load --ca-file {ca_file}: no certificate or crl found",
    )


DEEP_TOML = "a = " + "[" * 100_000 + "\n"
BAD_POLICIES = [
    ("fail-on = \n", "not valid TOML: Invalid value (at line 1, column 11)"),
    (
        'colour = "red"\n',
        "colour: unknown key (known: fail-on, fail-under, select, ignore, lang, severity, targets)",
    ),
    ('fail-under = "high"\n', "fail-under: 'high' is not a score from 0 to 100"),
    ('select = "TLS001"\n', 'select: expected a list of rule ids, like ["TLS001"]'),
    ('select = ["XYZ001"]\n', "select: unknown rule 'XYZ001' (httpsaudit rules lists them)"),
    ('ignore = ["nope"]\n', "ignore: unknown rule 'nope' (httpsaudit rules lists them)"),
    (
        '[severity]\nXYZ001 = "high"\n',
        "severity.XYZ001: unknown rule 'XYZ001' (httpsaudit rules lists them)",
    ),
    (
        '[targets."example.com:0"]\nfail-on = "low"\n',
        'targets."example.com:0": not a host or host:port '
        "(invalid port 0 in 'example.com:0': expected 1-65535)",
    ),
    ('fail-on = "\xff"\n', "not valid TOML: not UTF-8 (invalid start byte at byte 11)"),
    (DEEP_TOML, "not valid TOML: nested too deeply"),
]


@pytest.mark.parametrize(
    ("content", "message"),
    BAD_POLICIES,
    ids=[content.splitlines()[0][:30] for content, _ in BAD_POLICIES],
)
def test_malformed_policy_file(
    server: AcceptRecorder, tmp_path: Path, content: str, message: str
) -> None:
    # Given a policy file with one mistake (written as Latin-1 so "\xff" is one bad byte)
    policy = tmp_path / "httpsaudit.toml"
    policy.write_bytes(content.encode("latin-1"))
    completed = run("scan", f"127.0.0.1:{server.port}", "--policy", str(policy))
    # Then one line naming the file and the key
    assert_refused(completed, server, f"httpsaudit: error: {policy}: {message}")


def test_malformed_policy_found_by_discovery(server: AcceptRecorder, tmp_path: Path) -> None:
    # Given a pyproject.toml with a bad [tool.httpsaudit] in the working directory
    (tmp_path / "pyproject.toml").write_text("[tool.httpsaudit]\nfail-on = 3\n", "utf-8")
    completed = run("scan", f"127.0.0.1:{server.port}", cwd=tmp_path)
    assert_refused(
        completed,
        server,
        f"httpsaudit: error: {tmp_path}/pyproject.toml: tool.httpsaudit.fail-on: 3 is not a "
        "severity; use one of info, low, medium, high, critical, none",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", ": not JSON (Expecting value: line 1 column 1 (char 0))"),
        ('{"a": 1}', ": not an httpsaudit JSON report (no schema_version)"),
        ("[" * 100_000, ": not valid JSON: nested too deeply"),
    ],
    ids=["not JSON", "not a report", "nested too deeply"],
)
def test_malformed_baseline(
    server: AcceptRecorder, tmp_path: Path, content: str, message: str
) -> None:
    baseline = tmp_path / "old.json"
    baseline.write_text(content, "utf-8")
    completed = run("scan", f"127.0.0.1:{server.port}", "--baseline", str(baseline))
    assert_refused(completed, server, f"httpsaudit: error: {baseline}{message}")


# -- what must NOT be an error ----------------------------------------------------------------


def test_the_harness_sees_a_connection(server: AcceptRecorder) -> None:
    # Given the same server and a valid target (the control for every test above)
    completed = run("scan", f"127.0.0.1:{server.port}", "--timeout", "1")
    # Then its connections are seen: the silent server never answers, so exit 3
    assert completed.returncode == 3, completed.stderr
    assert {host for host, _port in server.peers_before_sentinel()} == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("target", "host", "path", "sni_bytes"),
    [
        # IDN: punycode on the wire (SNI: name type 0, 2-byte length, the name)
        (
            "b\u00fccher.example:{port}",
            "xn--bcher-kva.example",
            "/",
            b"\x00\x00\x15xn--bcher-kva.example",
        ),
        # One trailing dot: the same host, and no dot in SNI (RFC 6066 §3)
        ("example.com.:{port}", "example.com", "/", b"\x00\x00\x0bexample.com"),
        # DNS, browsers and curl allow "_" in names; IDNA 2008 alone would refuse it
        ("My_Host.example:{port}", "my_host.example", "/", b"\x00\x00\x0fmy_host.example"),
        # Query kept in the request path, fragment dropped (clients never send it)
        ("https://example.com:{port}/p?q=1#frag", "example.com", "/p?q=1", None),
        ("example.com:{port}?q=1", "example.com", "/?q=1", None),
        ("example.com:{port}#top", "example.com", "/", None),
        ("example.com:{port}/caf\u00e9", "example.com", "/caf%C3%A9", None),
    ],
)
def test_accepted_targets(target: str, host: str, path: str, sni_bytes: bytes | None) -> None:
    # Given a server that records each ClientHello and answers garbage
    with RawServer("garbage") as recorder:
        # When the target is scanned through it
        completed = run(
            "scan",
            target.format(port=recorder.port),
            "--connect-to",
            "127.0.0.1",
            "--format",
            "json",
            "--timeout",
            "5",
        )
        received = list(recorder.received)
    # Then it is scanned, not refused: garbage means no TLS session, so exit 3 with a report
    assert completed.returncode == 3, completed.stderr
    assert "Traceback" not in completed.stderr
    document = json.loads(completed.stdout)
    assert (document["target"]["host"], document["target"]["path"]) == (host, path)
    if sni_bytes is not None:
        assert received, "no ClientHello reached the server"
        assert sni_bytes in received[0]
        assert host.encode("ascii") + b"." not in received[0]


def test_a_non_ascii_path_is_sent_percent_encoded(pki: TestPKI) -> None:
    # Given a TLS server and a path with a non-ASCII character (the request line used to be
    # encoded as ASCII after the handshake: an internal error, exit 5)
    with OpenSSLServer(pki.ecdsa_p256) as tls_server:
        completed = run(
            "scan",
            f"https://localhost:{tls_server.port}/caf\u00e9?q=\u00fc#x",
            "--connect-to",
            "127.0.0.1",
            "--ca-file",
            str(pki.root_path),
            "--select",
            "TLS001",
            "--format",
            "json",
        )
    # Then the request went out percent-encoded and was answered
    assert completed.returncode == 0, completed.stderr
    http = json.loads(completed.stdout)["probes"]["connection"]["result"]["http"]
    assert (http["path"], http["status"]) == ("/caf%C3%A9?q=%C3%BC", 200)
