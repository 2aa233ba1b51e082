"""One way to parse a DER certificate from a peer, whatever cryptography objects to.

cryptography refuses bad DER with ValueError, but a bad version field with InvalidVersion,
which is not a ValueError, and decodes names lazily (ValueError or TypeError on first read): a
caller catching only one of them lets a hostile certificate crash a scan. Everything here
becomes DecodeError. The public key stays lazy: an algorithm we do not know is not malformed.
"""

from __future__ import annotations

import warnings

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from httpsaudit.errors import DecodeError

# cryptography warns, instead of refusing, when a name attribute breaks its length limits (a
# three-letter countryName): we report certificates as they are, and a warning on stderr
# would break the one-line output. Only that message (attributed to whoever read the name).
warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)


def load_certificate(
    der: bytes, *, what: str = "certificate", offset: int | None = None
) -> x509.Certificate:
    """Parse ``der``; DecodeError (with ``offset`` when known) for anything unparseable."""
    try:
        certificate = x509.load_der_x509_certificate(der)
        # Names are decoded only when read, and a hostile one (bad UTF-8, a common name tagged
        # BIT STRING) raises ValueError or TypeError there: read them now, in one place.
        certificate.subject.rfc4514_string()
        certificate.issuer.rfc4514_string()
    except (ValueError, TypeError, x509.InvalidVersion, UnsupportedAlgorithm) as exc:
        raise DecodeError(f"the {what} does not parse: {exc}", offset=offset) from exc
    return certificate
