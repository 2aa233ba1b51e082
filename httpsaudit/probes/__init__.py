"""The probe registry: every capability, in dependency order (an explicit table, no magic)."""

from __future__ import annotations

from httpsaudit.probes.alpn import AlpnProbe
from httpsaudit.probes.base import Probe
from httpsaudit.probes.certificate import CertificateProbe
from httpsaudit.probes.ciphers import CipherSuitesProbe
from httpsaudit.probes.client_simulation import ClientSimulationProbe
from httpsaudit.probes.connection import ConnectionProbe
from httpsaudit.probes.delivery import CertificateDeliveryProbe
from httpsaudit.probes.downgrade import DowngradeProbe
from httpsaudit.probes.early_data import EarlyDataProbe
from httpsaudit.probes.false_start import FalseStartProbe
from httpsaudit.probes.groups import GroupsProbe
from httpsaudit.probes.http3 import Http3HintsProbe
from httpsaudit.probes.key_exchange import KeyExchangeProbe
from httpsaudit.probes.ocsp import OcspProbe
from httpsaudit.probes.resumption import ResumptionProbe
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import ProbeId

# Dependency order; scan.py starts each probe once the probes in its ``requires`` are done.
PROBES: dict[ProbeId, Probe[object]] = {
    ProbeId.CONNECTION: ConnectionProbe(),
    ProbeId.CERTIFICATE: CertificateProbe(),
    ProbeId.VERSIONS: VersionsProbe(),
    ProbeId.DOWNGRADE: DowngradeProbe(),
    ProbeId.CIPHER_SUITES: CipherSuitesProbe(),
    ProbeId.GROUPS: GroupsProbe(),
    ProbeId.KEY_EXCHANGE: KeyExchangeProbe(),
    ProbeId.FALSE_START: FalseStartProbe(),
    ProbeId.ALPN: AlpnProbe(),
    ProbeId.HTTP3_HINTS: Http3HintsProbe(),
    ProbeId.CLIENT_SIMULATION: ClientSimulationProbe(),
    ProbeId.RESUMPTION: ResumptionProbe(),
    ProbeId.EARLY_DATA: EarlyDataProbe(),
    ProbeId.OCSP: OcspProbe(),
    ProbeId.CERTIFICATE_DELIVERY: CertificateDeliveryProbe(),
}

__all__ = ["PROBES"]
