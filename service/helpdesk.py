"""What the helpdesk's agents do through the REST API: escalations, transcripts, figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from service.errors import NotFound
from service.store import EscalationStatus
from service.store import escalations as escalation_store
from service.store import sessions as session_store
from service.store import stats as stats_store
from service.store.escalations import EscalationPage, EscalationRecord
from service.store.sessions import ConversationRecord, MessageRecord
from service.store.stats import Stats


class Helpdesk:
    """Agent-facing operations; each call is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def escalations(
        self, *, status: EscalationStatus | None, limit: int, cursor: str | None
    ) -> EscalationPage:
        with self._sessions.begin() as session:
            return escalation_store.list_escalations(
                session=session, status=status, limit=limit, cursor=cursor
            )

    def escalation(self, escalation_id: str) -> EscalationRecord:
        with self._sessions.begin() as session:
            record = escalation_store.get_escalation(session=session, escalation_id=escalation_id)
        if record is None:
            raise NotFound(f"no escalation {escalation_id!r}")
        return record

    def claim(self, escalation_id: str, agent: str) -> EscalationRecord:
        with self._sessions.begin() as session:
            return escalation_store.claim_escalation(
                session=session, escalation_id=escalation_id, agent=agent
            )

    def resolve(self, escalation_id: str, note: str | None) -> EscalationRecord:
        with self._sessions.begin() as session:
            return escalation_store.resolve_escalation(
                session=session, escalation_id=escalation_id, note=note
            )

    def conversation(self, session_id: str) -> tuple[ConversationRecord, list[MessageRecord]]:
        with self._sessions.begin() as session:
            record = session_store.get_session(session=session, session_id=session_id)
            if record is None:
                raise NotFound(f"no conversation {session_id!r}")
            return record, session_store.transcript(session=session, session_id=session_id)

    def stats(self, since: datetime | None) -> Stats:
        with self._sessions.begin() as session:
            return stats_store.compute_stats(session=session, since=since)
