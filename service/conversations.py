"""One chat turn end to end: load the session, understand, diagnose, respond, store.

The only place where the pure engine meets I/O. A turn that needs no
diagnostics runs in one worker-thread hop (load, understand, respond, store);
one that does leaves the thread to await them and comes back to store::

    conversations = Conversations(sessions=..., classifier=..., kb=..., diagnostician=...)
    outcome = await conversations.chat(session_id=None, message="550 relay not permitted")
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

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


@dataclass(frozen=True, slots=True)
class _TurnRequest:
    session_id: str | None
    message: str
    domain: str | None
    client: str | None
    channel: Channel
    external_ref: str | None


@dataclass(frozen=True, slots=True)
class _Begun:
    """A turn loaded and understood, waiting for the diagnostics of ``check``."""

    request: _TurnRequest
    record: ConversationRecord
    state: ConversationState
    understanding: Understanding
    check: str | None


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
        request = _TurnRequest(session_id, message, domain, client, channel, external_ref)
        begun = await run_in_threadpool(self._begin, request, on_stored)
        if isinstance(begun, ChatOutcome):
            outcome = begun
        else:
            diagnosis = await self._diagnose(begun.check)
            outcome = await run_in_threadpool(self._finish, begun, diagnosis, on_stored)
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

    def _begin(self, request: _TurnRequest, on_stored: StoredHook | None) -> _Begun | ChatOutcome:
        """Load and understand; finish the turn here too when no diagnostics are due."""
        record = self._load(request.session_id, request.channel, request.external_ref)
        state = (
            ConversationState.model_validate(record.state) if record.state else ConversationState()
        )
        understanding = self._classifier.understand(request.message)
        check = None
        if self._diagnostician is not None:
            check = domain_to_check(state, understanding, request.domain)
        begun = _Begun(request, record, state, understanding, check)
        return begun if check is not None else self._finish(begun, None, on_stored)

    def _load(
        self, session_id: str | None, channel: Channel, external_ref: str | None
    ) -> ConversationRecord:
        if external_ref is not None:
            with self._sessions.begin() as session:
                return session_store.ensure_session_by_ref(
                    session=session, channel=channel, external_ref=external_ref
                )
        if session_id:
            with self._sessions.begin() as session:
                found = session_store.get_session(session=session, session_id=session_id)
            if found is not None:
                return found
        return session_store.new_session(channel=channel)

    def _finish(
        self, begun: _Begun, diagnosis: Diagnosis | None, on_stored: StoredHook | None
    ) -> ChatOutcome:
        request = begun.request
        turn = respond(
            begun.state,
            begun.understanding,
            diagnosis,
            kb=self._kb,
            client=request.client,
            domain=request.domain,
        )
        return self._store(
            begun.record, request.message, begun.understanding, turn, diagnosis, on_stored
        )

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
        customer = session_store.message_record(
            session_id=record.id,
            turn=number,
            role=Role.CUSTOMER,
            text=message,
            intent=understanding.intent,
            confidence=understanding.confidence,
        )
        unsaved = [customer]
        with self._sessions.begin() as session:
            escalation = None
            reply = turn.reply
            version = record.version
            if turn.escalate is not None:
                # The escalation refers to the session's row and snapshots the
                # transcript, this message included: both go in first.
                if version == 0:
                    session_store.insert_session(session=session, record=record)
                    version = 1
                session_store.add_messages(session=session, records=unsaved)
                unsaved = []
                escalation = self._escalate(session, record, understanding, turn)
                state = state.model_copy(update={"reference": escalation.reference})
            if state.reference:
                reply = with_reference(reply, state.reference)
            stored_state = state.model_dump(mode="json")
            if version == 0:  # a new conversation: its row goes in with its first turn
                first = replace(record, state=stored_state, status=_status(turn), turns=number)
                session_store.insert_session(session=session, record=first)
            else:
                session_store.save_session(
                    session=session,
                    session_id=record.id,
                    state=stored_state,
                    status=_status(turn),
                    turns=number,
                    expected_version=version,
                )
            bot = session_store.message_record(
                session_id=record.id, turn=number, role=Role.BOT, text=reply.text
            )
            session_store.add_messages(session=session, records=[*unsaved, bot])
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
