"""One chat turn end to end: load the session, understand, diagnose, respond, store.

The only place where the pure engine meets I/O. Database work runs in worker
threads (one hop to load, one to store); diagnostics are awaited in between::

    conversations = Conversations(sessions=..., classifier=..., kb=..., diagnostician=...)
    outcome = await conversations.chat(session_id=None, message="550 relay not permitted")
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from service.diagnostics import Diagnostician
from service.diagnostics.models import Diagnosis
from service.dialogue.engine import domain_to_check, respond, with_reference
from service.dialogue.state import ConversationState, Stage, Turn
from service.errors import DiagnosticError, InvalidDomain, NotFound
from service.kb import KnowledgeBase
from service.nlu.classifier import Classifier
from service.nlu.understanding import Understanding
from service.store import Channel, Role, SessionStatus
from service.store import escalations as escalation_store
from service.store import feedback as feedback_store
from service.store import outbox as outbox_store
from service.store import sessions as session_store
from service.store.escalations import EscalationRecord
from service.store.sessions import ConversationRecord

log = logging.getLogger(__name__)

ESCALATION_EVENT = "escalation.created"


@dataclass(frozen=True)
class ChatOutcome:
    session_id: str
    turn: Turn
    diagnosis: Diagnosis | None
    escalation: EscalationRecord | None


def _status(turn: Turn) -> SessionStatus:
    if turn.state.stage is Stage.ESCALATED:
        return SessionStatus.ESCALATED
    if turn.state.stage is Stage.RESOLVED:
        return SessionStatus.RESOLVED
    return SessionStatus.ACTIVE


def escalation_payload(record: EscalationRecord) -> dict[str, Any]:
    """An escalation as the helpdesk REST API and the outbound notice show it."""
    return {
        "id": record.id,
        "reference": record.reference,
        "status": str(record.status),
        "reason": record.reason,
        "intent": record.intent,
        "confidence": record.confidence,
        "entities": record.entities,
        "transcript": record.transcript,
        "diagnostics": record.diagnostics,
        "steps_tried": record.steps_tried,
        "channel": str(record.channel),
        "session_id": record.session_id,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "claimed_by": record.claimed_by,
        "claimed_at": record.claimed_at.isoformat() if record.claimed_at else None,
        "resolved_at": record.resolved_at.isoformat() if record.resolved_at else None,
        "resolution_note": record.resolution_note,
    }


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
    ) -> ChatOutcome:
        record = await run_in_threadpool(self._load, session_id, channel)
        state = (
            ConversationState.model_validate(record.state) if record.state else ConversationState()
        )
        understanding = self._classifier.understand(message)
        diagnosis = await self._diagnose(domain_to_check(state, understanding, domain))
        turn = respond(state, understanding, diagnosis, kb=self._kb, client=client, domain=domain)
        outcome = await run_in_threadpool(
            self._store, record, message, understanding, turn, diagnosis
        )
        if outcome.escalation is not None and self._webhook_url and self._on_enqueue:
            self._on_enqueue()  # deliver the escalation notice now, not at the next poll
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

    def _load(self, session_id: str | None, channel: Channel) -> ConversationRecord:
        with self._sessions.begin() as session:
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
        return ChatOutcome(
            session_id=record.id, turn=final, diagnosis=diagnosis, escalation=escalation
        )

    def _escalate(
        self,
        session: Session,
        record: ConversationRecord,
        understanding: Understanding,
        turn: Turn,
    ) -> EscalationRecord:
        history = session_store.transcript(session=session, session_id=record.id)
        diagnosis = turn.state.diagnosis
        escalation = escalation_store.create_escalation(
            session=session,
            session_id=record.id,
            channel=record.channel,
            reason=str(turn.escalate),
            intent=turn.state.topic or understanding.intent,
            confidence=understanding.confidence,
            entities=understanding.entities.model_dump(mode="json"),
            transcript=[
                {
                    "turn": m.turn,
                    "role": str(m.role),
                    "text": m.text,
                    "intent": m.intent,
                    "at": m.created_at.isoformat(),
                }
                for m in history
            ],
            diagnostics=diagnosis.model_dump(mode="json") if diagnosis else None,
            steps_tried=list(turn.state.tried),
        )
        if self._webhook_url:
            outbox_store.enqueue(
                session=session,
                kind=ESCALATION_EVENT,
                target_url=self._webhook_url,
                body=json.dumps(
                    {"event": ESCALATION_EVENT, "escalation": escalation_payload(escalation)}
                ),
            )
        return escalation
