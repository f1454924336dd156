"""One chat turn end to end: load the session, understand, diagnose, respond, store.

The only place where the pure engine meets I/O. Database work runs in worker
threads (one hop to load, one to store); diagnostics are awaited in between::

    conversations = Conversations(sessions=..., classifier=..., kb=..., diagnostician=...)
    outcome = await conversations.chat(session_id=None, message="550 relay not permitted")
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from service.diagnostics import Diagnostician
from service.diagnostics.models import Diagnosis
from service.dialogue.engine import domain_to_check, respond, with_reference
from service.dialogue.state import ConversationState, Stage, Turn
from service.errors import DiagnosticError, InvalidDomain, NotFound
from service.escalating import ESCALATION_EVENT, escalation_payload, open_escalation
from service.kb import KnowledgeBase
from service.nlu.classifier import Classifier
from service.nlu.understanding import Understanding
from service.store import Channel, Role, SessionStatus
from service.store import feedback as feedback_store
from service.store import sessions as session_store
from service.store.escalations import EscalationRecord
from service.store.sessions import ConversationRecord

log = logging.getLogger(__name__)

__all__ = ["ESCALATION_EVENT", "ChatOutcome", "Conversations", "escalation_payload"]


@dataclass(frozen=True)
class ChatOutcome:
    session_id: str
    turn: Turn
    diagnosis: Diagnosis | None
    escalation: EscalationRecord | None


StoredHook = Callable[[Session, ChatOutcome], None]
"""Called with the open transaction and the turn's outcome, just before it commits."""


def _status(turn: Turn) -> SessionStatus:
    if turn.state.stage is Stage.ESCALATED:
        return SessionStatus.ESCALATED
    if turn.state.stage is Stage.RESOLVED:
        return SessionStatus.RESOLVED
    return SessionStatus.ACTIVE


class Conversations:
    """Runs chat turns against the store, the classifier and the diagnostics."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        classifier: Classifier,
        kb: KnowledgeBase,
        diagnostician: Diagnostician | None,
        escalation_webhook_url: str | None = None,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._classifier = classifier
        self._kb = kb
        self._diagnostician = diagnostician
        self._webhook_url = escalation_webhook_url
        self._on_enqueue = on_enqueue

    async def chat(
        self,
        *,
        session_id: str | None,
        message: str,
        domain: str | None = None,
        client: str | None = None,
        channel: Channel = Channel.CHAT,
        external_ref: str | None = None,
        on_stored: StoredHook | None = None,
    ) -> ChatOutcome:
        """One turn. ``external_ref`` binds the session to an outside conversation (a
        Chatwoot conversation); ``on_stored`` runs inside the storing transaction, so
        what it writes (outgoing messages) commits with the turn or not at all."""
        record = await run_in_threadpool(self._load, session_id, channel, external_ref)
        state = (
            ConversationState.model_validate(record.state) if record.state else ConversationState()
        )
        understanding = self._classifier.understand(message)
        diagnosis = await self._diagnose(domain_to_check(state, understanding, domain))
        turn = respond(state, understanding, diagnosis, kb=self._kb, client=client, domain=domain)
        outcome = await run_in_threadpool(
            self._store, record, message, understanding, turn, diagnosis, on_stored
        )
        wrote = on_stored is not None or (outcome.escalation is not None and self._webhook_url)
        if wrote and self._on_enqueue:
            self._on_enqueue()  # deliver what was queued now, not at the next poll
        return outcome

    def record_feedback(self, *, session_id: str, helpful: bool, comment: str | None) -> None:
        """Store the customer's verdict on a conversation."""
        with self._sessions.begin() as session:
            if session_store.get_session(session=session, session_id=session_id) is None:
                raise NotFound(f"no conversation {session_id!r}")
            feedback_store.add_feedback(
                session=session, session_id=session_id, helpful=helpful, comment=comment
            )

    async def _diagnose(self, domain: str | None) -> Diagnosis | None:
        if domain is None or self._diagnostician is None:
            return None
        try:
            return await self._diagnostician.run(domain)
        except (InvalidDomain, DiagnosticError) as exc:
            log.info("diagnostics skipped for %r: %s", domain, exc)
            return None

    def _load(
        self, session_id: str | None, channel: Channel, external_ref: str | None
    ) -> ConversationRecord:
        with self._sessions.begin() as session:
            if external_ref is not None:
                return session_store.ensure_session_by_ref(
                    session=session, channel=channel, external_ref=external_ref
                )
            if session_id:
                found = session_store.get_session(session=session, session_id=session_id)
                if found is not None:
                    return found
            return session_store.create_session(session=session, channel=channel)

    def _store(
        self,
        record: ConversationRecord,
        message: str,
        understanding: Understanding,
        turn: Turn,
        diagnosis: Diagnosis | None,
        on_stored: StoredHook | None,
    ) -> ChatOutcome:
        state = turn.state
        number = state.turn
        with self._sessions.begin() as session:
            session_store.add_message(
                session=session,
                session_id=record.id,
                turn=number,
                role=Role.CUSTOMER,
                text=message,
                intent=understanding.intent,
                confidence=understanding.confidence,
            )
            escalation = None
            reply = turn.reply
            if turn.escalate is not None:
                escalation = self._escalate(session, record, understanding, turn)
                state = state.model_copy(update={"reference": escalation.reference})
            if state.reference:
                reply = with_reference(reply, state.reference)
            session_store.add_message(
                session=session, session_id=record.id, turn=number, role=Role.BOT, text=reply.text
            )
            session_store.save_session(
                session=session,
                session_id=record.id,
                state=state.model_dump(mode="json"),
                status=_status(turn),
                turns=number,
                expected_version=record.version,
            )
            final = turn.model_copy(update={"state": state, "reply": reply})
            outcome = ChatOutcome(
                session_id=record.id, turn=final, diagnosis=diagnosis, escalation=escalation
            )
            if on_stored is not None:
                on_stored(session, outcome)
        return outcome

    def _escalate(
        self,
        session: Session,
        record: ConversationRecord,
        understanding: Understanding,
        turn: Turn,
    ) -> EscalationRecord:
        diagnosis = turn.state.diagnosis
        return open_escalation(
            session,
            session_id=record.id,
            channel=record.channel,
            reason=str(turn.escalate),
            intent=turn.state.topic or understanding.intent,
            confidence=understanding.confidence,
            entities=understanding.entities.model_dump(mode="json"),
            diagnostics=diagnosis.model_dump(mode="json") if diagnosis else None,
            steps_tried=list(turn.state.tried),
            webhook_url=self._webhook_url,
        )
