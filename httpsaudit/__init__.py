"""httpsaudit: measure what a new HTTPS connection costs, and say what to change."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
