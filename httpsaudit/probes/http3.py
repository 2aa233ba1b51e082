"""How a browser would learn that it may use HTTP/3: the ``Alt-Svc`` header of the timed
connection's response (RFC 7838) and the DNS HTTPS record of the target name (RFC 9460).

No TCP connection of its own; at most one DNS query, asked of the scan's resolver. Every DNS
outcome (no such name, no record, no answer in time) is an answer, reported in ``dns_status``.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from httpsaudit.net.dns import resolve_https
from httpsaudit.probes.base import ProbeContext
from httpsaudit.results import ConnectionResult, Http3HintsResult, ProbeId, SvcbRecord
from httpsaudit.target import Target

H3 = "h3"
# RFC 7838 §3.1: an alternative without "ma" stays fresh for 24 hours.
DEFAULT_MAX_AGE_S = 86400
# A header with more alternatives than this is not one we need to read in full.
MAX_ALTERNATIVES = 64


@dataclass(frozen=True, slots=True)
class AltService:
    """One alternative of an Alt-Svc header: ``h3=":443"; ma=86400``."""

    protocol: str  # the ALPN id, percent-decoded (RFC 7838 §3)
    host: str  # empty: the same host as the origin
    port: int
    max_age_s: int


class Http3HintsProbe:
    """Alt-Svc and DNS HTTPS-record hints for HTTP/3; no connection, one DNS query."""

    probe_id = ProbeId.HTTP3_HINTS
    requires: tuple[ProbeId, ...] = (ProbeId.CONNECTION,)

    def run(self, context: ProbeContext) -> Http3HintsResult:
        connection = context.result_of(ProbeId.CONNECTION, ConnectionResult)
        alt_svc = connection.http.alt_svc if connection.http is not None else None
        alternatives = parse_alt_svc(alt_svc) if alt_svc is not None else ()
        status, records = _https_records(context)
        return Http3HintsResult(
            alt_svc=alt_svc,
            alt_svc_h3=any(alt.protocol == H3 and alt.max_age_s > 0 for alt in alternatives),
            https_records=records,
            https_record_h3=any(H3 in record.alpn for record in records),
            dns_status=status,
        )


# -- Alt-Svc (RFC 7838 §3) ---------------------------------------------------------------


def _split_unquoted(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quoted-strings (RFC 9110 §5.6.4, backslash escapes)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str | None:
    """A token as it is, a quoted-string without quotes and escapes; None if malformed."""
    value = value.strip()
    if not value.startswith('"'):
        return value if value and '"' not in value else None
    if len(value) < 2 or not value.endswith('"'):
        return None
    inner, result, escaped = value[1:-1], [], False
    for char in inner:
        if escaped or char != "\\":
            result.append(char)
            escaped = False
        else:
            escaped = True
    return None if escaped else "".join(result)


def _is_number(text: str) -> bool:
    """RFC 9110 DIGITs only: ``str.isdigit`` also accepts "²", which ``int`` refuses."""
    return text.isascii() and text.isdigit()


def _alternative(text: str) -> AltService | None:
    """``protocol-id = alt-authority *( ; parameter )``; None for anything malformed, which
    RFC 7838 §3 lets a client ignore."""
    head, *parameters = _split_unquoted(text, ";")
    protocol_id, equals, authority_text = head.strip().partition("=")
    authority = _unquote(authority_text)
    if not equals or not protocol_id or authority is None:
        return None
    host, colon, port_text = authority.rpartition(":")
    if not colon or not _is_number(port_text) or not 0 < int(port_text) < 65536:
        return None
    max_age_s = DEFAULT_MAX_AGE_S
    for parameter in parameters:
        name, _, value_text = parameter.strip().partition("=")
        value = _unquote(value_text)
        if name.strip().lower() == "ma" and value is not None and _is_number(value):
            max_age_s = int(value)
    return AltService(
        protocol=urllib.parse.unquote(protocol_id.strip()),
        host=host.strip("[]"),
        port=int(port_text),
        max_age_s=max_age_s,
    )


def parse_alt_svc(value: str) -> tuple[AltService, ...]:
    """The alternatives an Alt-Svc field value advertises; ``clear`` advertises none.

    Header lines joined with ", " parse as one list (RFC 9110 §5.3).
    """
    alternatives: list[AltService] = []
    for item in _split_unquoted(value, ",")[:MAX_ALTERNATIVES]:
        if item.strip() == "clear":  # RFC 7838 §3: invalidates every alternative
            continue
        alternative = _alternative(item)
        if alternative is not None:
            alternatives.append(alternative)
    return tuple(alternatives)


# -- DNS HTTPS records (RFC 9460) ----------------------------------------------------------


def _query_name(target: Target) -> str | None:
    """The name a browser would look up: the target's (also with --connect-to), never an IP
    literal, never a localhost name (RFC 6761 §6.3 keeps those out of DNS)."""
    name = target.host
    if target.is_ip or name == "localhost" or name.endswith(".localhost"):
        return None
    return name


def _https_records(context: ProbeContext) -> tuple[str, tuple[SvcbRecord, ...]]:
    """(dns_status, records) for the name a browser would look up."""
    name = _query_name(context.target)
    if name is None:
        return "not_queried", ()
    return resolve_https(name, context.phase_deadline(), server=context.options.resolver)
