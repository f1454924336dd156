"""The database: tables, migrations and keyword-only repository functions.

Start-up runs ``migrate(url)``, then builds ``make_engine(url)`` and
``make_session_factory(engine)``; callers own transactions
(``with sessions.begin() as session: ...``) and pass ``session=`` to the
functions in ``sessions``, ``escalations``, ``feedback``, ``stats``,
``tickets``, ``deliveries`` and ``outbox``. Records returned are frozen
dataclasses, safe to use after the session closes.
"""

from service.store.db import make_engine, make_session_factory, migrate, utcnow
from service.store.enums import Channel, EscalationStatus, OutboxStatus, Role, SessionStatus

__all__ = [
    "Channel",
    "EscalationStatus",
    "OutboxStatus",
    "Role",
    "SessionStatus",
    "make_engine",
    "make_session_factory",
    "migrate",
    "utcnow",
]
