"""One way to parse a DER certificate from a peer, whatever cryptography objects to.

cryptography refuses bad DER with ValueError, but a bad version field with InvalidVersion,
which is not a ValueError: a caller catching only one of them lets a hostile certificate
crash a scan. Everything here becomes DecodeError.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from httpsaudit.errors import DecodeError


def load_certificate(
    der: bytes, *, what: str = "certificate", offset: int | None = None
) -> x509.Certificate:
    """Parse ``der``; DecodeError (with ``offset`` when known) for anything unparseable."""
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm) as exc:
        raise DecodeError(f"the {what} does not parse: {exc}", offset=offset) from exc
