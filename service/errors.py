"""The one exception tree of RelayDesk.

Every error the service raises on purpose is a ``RelayDeskError``; the HTTP edge
(``service.api.errors``) maps the tree to ``{"error": {"code", "message"}}``
responses in one place, looking handlers up along the exception's MRO::

    RelayDeskError                      500 internal_error (never raised bare)
    ├── InvalidInput                    422 invalid_input
    │   └── InvalidDomain               422 invalid_domain
    ├── NotAuthenticated                401 not_authenticated
    ├── Forbidden                       403 forbidden
    ├── NotFound                        404 not_found
    ├── Conflict                        409 conflict
    ├── PayloadTooLarge                 413 payload_too_large
    ├── RateLimited                     429 rate_limited (Retry-After)
    ├── KnowledgeBaseError              start-up only: a bad intents/ file
    └── DiagnosticError                 inside diagnostics; becomes a check status
        ├── DiagnosticTimeout
        ├── AddressRefused
        └── ProbeFailed
"""

from __future__ import annotations


class RelayDeskError(Exception):
    """Base of every error RelayDesk raises deliberately."""

    code = "internal_error"
    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(RelayDeskError):
    code = "invalid_input"
    status_code = 422


class InvalidDomain(InvalidInput):
    code = "invalid_domain"


class NotAuthenticated(RelayDeskError):
    code = "not_authenticated"
    status_code = 401


class Forbidden(RelayDeskError):
    code = "forbidden"
    status_code = 403


class NotFound(RelayDeskError):
    code = "not_found"
    status_code = 404


class Conflict(RelayDeskError):
    code = "conflict"
    status_code = 409


class PayloadTooLarge(RelayDeskError):
    code = "payload_too_large"
    status_code = 413


class RateLimited(RelayDeskError):
    code = "rate_limited"
    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class KnowledgeBaseError(RelayDeskError):
    """An intents/ file is missing, unreadable or invalid; names the file and field."""

    code = "knowledge_base_error"

    def __init__(self, message: str, *, path: str, field: str | None = None) -> None:
        where = f"{path}: {field}" if field else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.field = field


class DiagnosticError(RelayDeskError):
    """A probe could not give an answer; checks turn it into status ``error``."""

    code = "diagnostic_error"


class DiagnosticTimeout(DiagnosticError):
    code = "diagnostic_timeout"


class AddressRefused(DiagnosticError):
    """The address guard refused to let a probe connect to an address."""

    code = "address_refused"


class ProbeFailed(DiagnosticError):
    code = "probe_failed"
