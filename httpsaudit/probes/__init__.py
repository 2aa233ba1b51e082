"""The probe registry: every capability, in dependency order (an explicit table, no magic)."""

from __future__ import annotations

from httpsaudit.probes.certificate import CertificateProbe
from httpsaudit.probes.connection import ConnectionProbe
from httpsaudit.results import ProbeId

PROBES = {
    ProbeId.CONNECTION: ConnectionProbe(),
    ProbeId.CERTIFICATE: CertificateProbe(),
}

__all__ = ["PROBES", "CertificateProbe", "ConnectionProbe"]
