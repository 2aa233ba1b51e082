"""What to scan: the name we speak to (SNI, Host) apart from the address we connect to.

Parsing is strict because nothing may be sent on the network for a target we misread.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import idna

from httpsaudit.errors import UsageError

DEFAULT_PORT = 443
# RFC 1035 §2.3.4: labels up to 63 octets, names up to 253 in text form.
MAX_LABEL_LENGTH = 63
MAX_NAME_LENGTH = 253
_LABEL_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$")


@dataclass(frozen=True, slots=True)
class ConnectAddress:
    """Where to open TCP connections instead of resolving the target name."""

    host: str
    port: int | None = None

    @property
    def is_ip(self) -> bool:
        return _ip_or_none(self.host) is not None

    @property
    def display(self) -> str:
        """``HOST``, ``HOST:PORT`` or ``[V6]:PORT``, as the user would type it back."""
        if self.port is None:
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed scan target; ``host`` is punycode or a bare IP literal."""

    original: str
    host: str
    port: int
    path: str = "/"
    sni_override: str | None = None
    connect_to: tuple[ConnectAddress, ...] = field(default=())

    @property
    def is_ip(self) -> bool:
        return _ip_or_none(self.host) is not None

    @property
    def sni(self) -> str | None:
        """Browsers and curl send no SNI for an IP literal (RFC 6066 §3 forbids it)."""
        if self.sni_override is not None:
            return self.sni_override
        return None if self.is_ip else self.host

    @property
    def name_to_verify(self) -> str:
        return self.sni_override or self.host

    @property
    def host_header(self) -> str:
        """The HTTP Host header: brackets around IPv6, port only when not 443."""
        host = self.sni_override or self.host
        if _ip_or_none(host) is not None and ":" in host:
            host = f"[{host}]"
        return host if self.port == DEFAULT_PORT else f"{host}:{self.port}"

    @property
    def display(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_port(text: str, original: str) -> int:
    if not text.isdigit():
        raise UsageError(f"invalid port {text!r} in {original!r}: expected a number 1-65535")
    port = int(text)
    if not 1 <= port <= 65535:
        raise UsageError(f"invalid port {port} in {original!r}: expected 1-65535")
    return port


def normalize_hostname(name: str, original: str) -> str:
    """Return the ASCII (punycode) form of a host name, or raise UsageError."""
    if _ip_or_none(name) is not None:
        return str(ipaddress.ip_address(name))
    stripped = name.rstrip(".")
    if not stripped:
        raise UsageError(f"empty host name in {original!r}")
    try:
        ascii_name = idna.encode(stripped, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise UsageError(f"invalid host name {name!r}: {exc}") from exc
    if len(ascii_name) > MAX_NAME_LENGTH:
        raise UsageError(f"host name too long ({len(ascii_name)} > {MAX_NAME_LENGTH}): {name!r}")
    for label in ascii_name.split("."):
        if len(label) > MAX_LABEL_LENGTH:
            raise UsageError(f"host name label longer than {MAX_LABEL_LENGTH}: {label!r}")
        if not _LABEL_RE.match(label):
            raise UsageError(f"invalid host name {name!r}: bad label {label!r}")
    return ascii_name.lower()


def _split_host_port(text: str, original: str) -> tuple[str, int | None]:
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise UsageError(f"unclosed '[' in {original!r}")
        literal, rest = text[1:end], text[end + 1 :]
        address = _ip_or_none(literal)
        if address is None or address.version != 6:
            raise UsageError(f"{literal!r} in brackets is not an IPv6 address in {original!r}")
        if not rest:
            return literal, None
        if not rest.startswith(":"):
            raise UsageError(f"unexpected {rest!r} after ']' in {original!r}")
        return literal, _parse_port(rest[1:], original)
    if "]" in text:
        raise UsageError(f"unbalanced ']' in {original!r}")
    if text.count(":") > 1:
        # A bare IPv6 literal has no port; anything else with many colons is a typo.
        if _ip_or_none(text) is None:
            raise UsageError(f"{original!r}: put IPv6 addresses in brackets, e.g. [::1]:443")
        return text, None
    host, sep, port_text = text.partition(":")
    return host, (_parse_port(port_text, original) if sep else None)


def parse_address(text: str) -> ConnectAddress:
    """Parse a ``--connect-to`` value: ``HOST``, ``HOST:PORT``, ``[V6]:PORT``."""
    cleaned = text.strip()
    if not cleaned:
        raise UsageError("empty --connect-to address")
    host, port = _split_host_port(cleaned, text)
    return ConnectAddress(host=normalize_hostname(host, text), port=port)


def parse_target(
    text: str,
    *,
    sni: str | None = None,
    connect_to: tuple[ConnectAddress, ...] = (),
) -> Target:
    """Parse ``host``, ``host:port``, ``https://host[:port]/path``, IP literals and IDN names."""
    original = text
    cleaned = text.strip()
    if not cleaned:
        raise UsageError("empty target")
    if any(character.isspace() for character in cleaned):
        raise UsageError(f"target {original!r} contains whitespace (URL-encode spaces in paths)")
    path = "/"
    if "://" in cleaned:
        parts = urlsplit(cleaned)
        if parts.scheme.lower() != "https":
            raise UsageError(f"unsupported scheme {parts.scheme!r} in {original!r}: use https://")
        if "@" in parts.netloc:
            raise UsageError(f"credentials in the URL are not supported: {original!r}")
        authority = parts.netloc
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
    else:
        authority, slash, rest = cleaned.partition("/")
        if slash:
            path = "/" + rest
        if "@" in authority:
            raise UsageError(f"credentials in the target are not supported: {original!r}")
    if not authority:
        raise UsageError(f"no host in target {original!r}")
    host, port = _split_host_port(authority, original)
    sni_name = normalize_hostname(sni, sni) if sni is not None else None
    if sni_name is not None and _ip_or_none(sni_name) is not None:
        raise UsageError(f"--sni must be a host name, not an IP address: {sni!r}")
    return Target(
        original=original,
        host=normalize_hostname(host, original),
        port=port if port is not None else DEFAULT_PORT,
        path=path,
        sni_override=sni_name,
        connect_to=connect_to,
    )
