"""Live DNS and SMTP diagnostics that name the cause of a 550 relay error.

    from service.diagnostics import Diagnostician, DiagnosticsConfig
    diagnosis = await Diagnostician(DiagnosticsConfig.build(...)).run("example.com")

Adapters (``dns``, ``smtp``) do the I/O with explicit timeouts, ``guard`` decides what may
be contacted, ``findings`` turns results into causes without any I/O.
"""

from service.diagnostics.config import DiagnosticsConfig
from service.diagnostics.models import (
    Cause,
    CauseIntent,
    CheckId,
    CheckResult,
    CheckStatus,
    Diagnosis,
)
from service.diagnostics.runner import Diagnostician

__all__ = [
    "Cause",
    "CauseIntent",
    "CheckId",
    "CheckResult",
    "CheckStatus",
    "Diagnosis",
    "Diagnostician",
    "DiagnosticsConfig",
]
