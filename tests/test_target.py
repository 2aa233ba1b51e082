"""Target parsing: what the user typed becomes exactly the name we send and the place we go."""

from __future__ import annotations

import pytest

from httpsaudit.errors import UsageError
from httpsaudit.target import ConnectAddress, parse_address, parse_target


@pytest.mark.parametrize(
    ("text", "host", "port", "path", "sni", "host_header"),
    [
        ("example.com", "example.com", 443, "/", "example.com", "example.com"),
        ("Example.COM:8443", "example.com", 8443, "/", "example.com", "example.com:8443"),
        ("example.com/health", "example.com", 443, "/health", "example.com", "example.com"),
        (
            "https://example.com:8443/health?full=1",
            "example.com",
            8443,
            "/health?full=1",
            "example.com",
            "example.com:8443",
        ),
        (
            "https://bücher.example/",
            "xn--bcher-kva.example",
            443,
            "/",
            "xn--bcher-kva.example",
            "xn--bcher-kva.example",
        ),
        ("192.0.2.7", "192.0.2.7", 443, "/", None, "192.0.2.7"),
        ("192.0.2.7:8443", "192.0.2.7", 8443, "/", None, "192.0.2.7:8443"),
        ("[2001:db8::1]:8443", "2001:db8::1", 8443, "/", None, "[2001:db8::1]:8443"),
        ("https://[::1]/x", "::1", 443, "/x", None, "[::1]"),
        ("::1", "::1", 443, "/", None, "[::1]"),
        ("example.com.", "example.com", 443, "/", "example.com", "example.com"),
    ],
)
def test_valid_targets(
    text: str, host: str, port: int, path: str, sni: str | None, host_header: str
) -> None:
    target = parse_target(text)
    assert (target.host, target.port, target.path) == (host, port, path)
    assert target.sni == sni
    assert target.host_header == host_header
    assert target.original == text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty target"),
        ("   ", "empty target"),
        ("example.com:0", "1-65535"),
        ("example.com:65536", "1-65535"),
        ("example.com:https", "expected a number"),
        ("example.com:", "expected a number"),
        ("[::1", "unclosed"),
        ("::1]:443", "unbalanced"),
        ("[example.com]:443", "not an IPv6 address"),
        ("[::1]x", "unexpected"),
        ("2001:db8::zz:443", "brackets"),
        ("http://example.com", "use https://"),
        ("ftp://example.com", "use https://"),
        ("https://user:pw@example.com/", "credentials"),
        ("user@example.com", "credentials"),
        ("example.com/a path", "whitespace"),
        ("a" * 64 + ".com", "Label too long"),
        ("a." * 127 + "com", "too long"),
        ("exa_mple..com", "invalid host name"),
        ("https:///path", "no host"),
    ],
)
def test_invalid_targets_raise_usage_error(text: str, words: str) -> None:
    with pytest.raises(UsageError, match=words.replace("(", r"\(")):
        parse_target(text)


def test_sni_override_changes_name_but_not_address() -> None:
    # Given an IP target with an explicit SNI (scanning one backend)
    target = parse_target("192.0.2.7:8443", sni="www.example.com")
    # Then we send the name but connect to the address
    assert target.host == "192.0.2.7"
    assert target.sni == "www.example.com"
    assert target.name_to_verify == "www.example.com"
    assert target.host_header == "www.example.com:8443"


def test_sni_must_be_a_name() -> None:
    with pytest.raises(UsageError, match="--sni"):
        parse_target("example.com", sni="192.0.2.1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", ConnectAddress("192.0.2.1", None)),
        ("192.0.2.1:8443", ConnectAddress("192.0.2.1", 8443)),
        ("[2001:db8::1]:443", ConnectAddress("2001:db8::1", 443)),
        ("backend-1.internal", ConnectAddress("backend-1.internal", None)),
    ],
)
def test_connect_to_addresses(text: str, expected: ConnectAddress) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "[::1", "host:99999"])
def test_bad_connect_to(text: str) -> None:
    with pytest.raises(UsageError):
        parse_address(text)
