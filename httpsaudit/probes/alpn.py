"""Which application protocols the server selects (RFC 7301): ``h2`` and ``http/1.1`` each
offered alone, and what a browser's ``h2, http/1.1`` offer gets.

Full handshakes with the reference client, not raw hellos: in TLS 1.3 the server's ALPN choice
travels in the encrypted EncryptedExtensions (RFC 8446 §4.3.1), so only a finished handshake
can read it from a TLS 1.3-only server. A protocol the server picks from the browser offer is
proven supported and not asked again; the timed connection already made that offer, so the
usual cost is one connection (two when the server ignores ALPN, as ``s_server`` does).
"""

from __future__ import annotations

from dataclasses import dataclass

from httpsaudit.errors import AlertReceived, ConnectionLost, HttpsAuditError, TlsError
from httpsaudit.probes.base import ProbeContext, ProbeFailed
from httpsaudit.results import AlpnResult, ConnectionResult, ProbeId, Support
from httpsaudit.tls.codes import AlertDescription

H2 = "h2"
HTTP11 = "http/1.1"
# What Chrome, Firefox and Safari offer over TCP, most preferred first.
BROWSER_OFFER = (H2, HTTP11)


@dataclass(frozen=True, slots=True)
class _Answer:
    """How one handshake offering some protocols ended."""

    selected: str | None  # the protocol the server picked; None when it picked none
    alert: int | None = None  # the alert that ended the handshake instead
    failed: bool = False  # the handshake broke without an alert (closed, rejected locally)


class AlpnProbe:
    """ALPN support for HTTP/2 and HTTP/1.1; 0 to 3 full handshakes, usually 1."""

    probe_id = ProbeId.ALPN
    requires: tuple[ProbeId, ...] = (ProbeId.CONNECTION,)

    def run(self, context: ProbeContext) -> AlpnResult:
        verdicts = {H2: Support.NOT_TESTED, HTTP11: Support.NOT_TESTED}
        browser_pick: str | None = None
        try:
            browser_pick = _browser_pick(context)
            for protocol in verdicts:
                if browser_pick == protocol:
                    verdicts[protocol] = Support.SUPPORTED
                else:
                    verdicts[protocol] = _verdict(protocol, _offer(context, (protocol,)))
        except HttpsAuditError as exc:
            raise ProbeFailed(exc, _result(verdicts, browser_pick)) from exc
        return _result(verdicts, browser_pick)


def _result(verdicts: dict[str, Support], browser_pick: str | None) -> AlpnResult:
    return AlpnResult(
        h2=verdicts[H2], http11=verdicts[HTTP11], selected_for_browser_offer=browser_pick
    )


def _browser_pick(context: ProbeContext) -> str | None:
    """The timed connection made the browser offer already, unless the client was set up with
    another one; then one handshake asks again."""
    connection = context.result_of(ProbeId.CONNECTION, ConnectionResult)
    if connection.tls is not None and context.client.config.alpn == BROWSER_OFFER:
        return connection.tls.alpn
    return _offer(context, BROWSER_OFFER).selected


def _offer(context: ProbeContext, protocols: tuple[str, ...]) -> _Answer:
    """One full handshake offering exactly ``protocols``; a refusal is an answer."""
    with context.tcp() as transport:
        tls = context.client.wrap(transport, sni=context.target.sni, alpn=protocols)
        try:
            record = tls.handshake(context.phase_deadline())
        except AlertReceived as exc:
            return _Answer(selected=None, alert=exc.description)
        except (TlsError, ConnectionLost):
            return _Answer(selected=None, failed=True)
        finally:
            tls.close(context.deadline.child(1.0))
    return _Answer(selected=record.alpn)


def _verdict(protocol: str, answer: _Answer) -> Support:
    """RFC 7301 §3.2: with no protocol in common the server either sends the fatal alert
    no_application_protocol or leaves ALPN out of its answer; both mean "not supported"."""
    if answer.alert == AlertDescription.NO_APPLICATION_PROTOCOL:
        return Support.NOT_SUPPORTED
    if answer.alert is not None or answer.failed:
        # Any other refusal may have a cause unrelated to ALPN.
        return Support.UNKNOWN
    if answer.selected == protocol:
        return Support.SUPPORTED
    if answer.selected is None:
        return Support.NOT_SUPPORTED
    return Support.UNKNOWN  # a protocol we did not offer: OpenSSL rejects that, but be sure
