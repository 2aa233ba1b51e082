"""What to scan: the name we speak to (SNI, Host) apart from the address we connect to.

Parsing is strict because nothing may be sent on the network for a target we misread.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

import idna

from httpsaudit.errors import UsageError

DEFAULT_PORT = 443
# RFC 1035 §2.3.4: labels up to 63 octets, names up to 253 in text form.
MAX_LABEL_LENGTH = 63
MAX_NAME_LENGTH = 253
# Longer than any request line a server accepts (nginx's default large buffer is 8 KiB); a
# bound keeps a pasted blob from becoming a megabyte-long error line.
MAX_TARGET_LENGTH = 8192
# LDH labels, plus "_": DNS allows it, browsers and curl accept it (IDNA2008 does not).
_LABEL_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")
_PORT_RE = re.compile(r"^[0-9]{1,5}$")  # ASCII digits only: int() would also read "٤٤٣"
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# WHATWG URL hands a host whose last label is a number to its IPv4 parser ("1.2.3" is
# 1.2.0.3, "0x7f.1" is 127.0.0.1); we refuse such names rather than guess either way.
_NUMERIC_LABEL_RE = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")
# Everything printable in ASCII stays as typed (existing %XX escapes included); the rest of a
# path or query is percent-encoded as UTF-8, as browsers do.
_PATH_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))


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
    if not _PORT_RE.match(text):
        raise UsageError(f"invalid port {text!r} in {original!r}: expected a number 1-65535")
    port = int(text)
    if not 1 <= port <= 65535:
        raise UsageError(f"invalid port {port} in {original!r}: expected 1-65535")
    return port


def _refuse_control_characters(text: str, what: str) -> None:
    """C0, DEL and C1 controls (NUL included) end up in logs, SNI or request lines: refuse."""
    for position, character in enumerate(text):
        if unicodedata.category(character) == "Cc":
            raise UsageError(
                f"{what} {text!r} contains a control character "
                f"(U+{ord(character):04X} at position {position})"
            )


def normalize_hostname(name: str, original: str) -> str:
    """Return the ASCII (punycode) form of a host name, or raise UsageError.

    One trailing dot (a fully qualified name) is removed: SNI carries no dot (RFC 6066 §3).
    ASCII names are checked as DNS labels (letters, digits, hyphens, "_"); any other name goes
    through IDNA 2008 with UTS #46 mapping (``bücher.example`` -> ``xn--bcher-kva.example``),
    and every ``xn--`` label must decode. A name that maps to an IP literal is that IP.
    """
    _refuse_control_characters(name, "host name")
    if _ip_or_none(name) is not None:
        return str(ipaddress.ip_address(name))
    stripped = name[:-1] if name.endswith(".") else name
    if not stripped:
        raise UsageError(f"empty host name in {original!r}")
    if stripped.isascii():
        ascii_name = stripped.lower()
    else:
        try:
            ascii_name = idna.encode(stripped, uts46=True).decode("ascii").lower()
        except idna.IDNAError as exc:
            raise UsageError(f"invalid host name {name!r}: {exc}") from exc
        if _ip_or_none(ascii_name) is not None:  # e.g. full-width digits
            return str(ipaddress.ip_address(ascii_name))
    if len(ascii_name) > MAX_NAME_LENGTH:
        raise UsageError(f"host name too long ({len(ascii_name)} > {MAX_NAME_LENGTH}): {name!r}")
    labels = ascii_name.split(".")
    for label in labels:
        if not label:
            raise UsageError(f"invalid host name {name!r}: empty label")
        if len(label) > MAX_LABEL_LENGTH:
            raise UsageError(
                f"invalid host name {name!r}: Label too long "
                f"({len(label)} > {MAX_LABEL_LENGTH} characters): {label!r}"
            )
        if not _LABEL_RE.match(label):
            raise UsageError(f"invalid host name {name!r}: bad label {label!r}")
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except idna.IDNAError as exc:
                raise UsageError(f"invalid host name {name!r}: {label!r}: {exc}") from exc
    if _NUMERIC_LABEL_RE.match(labels[-1]):
        raise UsageError(f"invalid host name {name!r}: ends in a number, but is not an IP address")
    return ascii_name


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
    _refuse_control_characters(cleaned, "address")
    if _SCHEME_RE.match(cleaned) or any(character in cleaned for character in "/?#@"):
        raise UsageError(f"{text!r} is not HOST, HOST:PORT or [IPv6]:PORT")
    host, port = _split_host_port(cleaned, text)
    return ConnectAddress(host=normalize_hostname(host, text), port=port)


def _request_target(rest: str) -> str:
    """The path and query to request from what follows the authority; the fragment is
    dropped, because clients never send it (RFC 9110 §4.2.5)."""
    without_fragment = rest.partition("#")[0]
    if not without_fragment:
        return "/"
    if without_fragment.startswith("?"):
        without_fragment = "/" + without_fragment
    return quote(without_fragment, safe=_PATH_SAFE)


def parse_target(
    text: str,
    *,
    sni: str | None = None,
    connect_to: tuple[ConnectAddress, ...] = (),
) -> Target:
    """Parse ``host``, ``host:port``, ``https://host[:port]/path``, IP literals and IDN names.

    Decisions, each one what a browser or curl would do or else a refusal:
    - ``https://`` (any case) or no scheme; any other scheme is refused, and so is userinfo
      (deprecated by RFC 9110 §4.2.4, and a credential we would copy into reports).
    - ``example.com.`` (one trailing dot) is the same host as ``example.com``; ``a..b`` is not
      a name. IDN names are sent as punycode; ``xn--`` labels that do not decode are refused.
    - A query is kept as part of the request target; a fragment is dropped (never sent).
      Non-ASCII characters in the path or query are percent-encoded as UTF-8; whitespace and
      control characters anywhere are refused (they cannot be sent in a request line).
    - A name ending in a number (``1.2.3``, ``256.1.1.1``) is refused: not an IP, not a name.
    """
    original = text
    cleaned = text.strip()
    if not cleaned:
        raise UsageError("empty target")
    if len(cleaned) > MAX_TARGET_LENGTH:
        raise UsageError(f"target longer than {MAX_TARGET_LENGTH} characters")
    if any(character.isspace() for character in cleaned):
        raise UsageError(f"target {original!r} contains whitespace (URL-encode spaces in paths)")
    _refuse_control_characters(cleaned, "target")
    scheme = _SCHEME_RE.match(cleaned)
    if scheme is not None:
        if scheme.group(1).lower() != "https":
            raise UsageError(
                f"unsupported scheme {scheme.group(1)!r} in {original!r}: use https://"
            )
        cleaned = cleaned[scheme.end() :]
    end = next((index for index, char in enumerate(cleaned) if char in "/?#"), len(cleaned))
    authority, path = cleaned[:end], _request_target(cleaned[end:])
    if "@" in authority:
        where = "URL" if scheme is not None else "target"
        raise UsageError(f"credentials in the {where} are not supported: {original!r}")
    if not authority:
        raise UsageError(f"no host in target {original!r}")
    host, port = _split_host_port(authority, original)
    sni_name = _sni_name(sni) if sni is not None else None
    return Target(
        original=original,
        host=normalize_hostname(host, original),
        port=port if port is not None else DEFAULT_PORT,
        path=path,
        sni_override=sni_name,
        connect_to=connect_to,
    )


def _sni_name(text: str) -> str:
    """``--sni``: a host name (IDN allowed, punycoded), never an IP address (RFC 6066 §3)."""
    try:
        name = normalize_hostname(text.strip(), text)
    except UsageError as exc:
        raise UsageError(f"--sni: {exc.message}") from exc
    if _ip_or_none(name) is not None:
        raise UsageError(f"--sni must be a host name, not an IP address: {text!r}")
    return name
