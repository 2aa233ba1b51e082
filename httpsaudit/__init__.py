"""httpsaudit: measure what a new HTTPS connection costs, and say what to change.

The library API is small: parse a target, scan it (or many with ``scan_many``), read the typed
result.
"""

from __future__ import annotations

__version__ = "0.1.0"

from httpsaudit.errors import HttpsAuditError, UsageError
from httpsaudit.probes.base import ScanOptions
from httpsaudit.results import ProbeStatus, ScanResult
from httpsaudit.scan import FleetItem, scan, scan_many
from httpsaudit.target import Target, parse_target

__all__ = [
    "FleetItem",
    "HttpsAuditError",
    "ProbeStatus",
    "ScanOptions",
    "ScanResult",
    "Target",
    "UsageError",
    "__version__",
    "parse_target",
    "scan",
    "scan_many",
]
