"""Ticket auto-replies, exactly once: claim, understand, diagnose, answer, store.

The only place the ticket channel does I/O. The first delivery of a ticket wins
the claim (``service.store.tickets``) and does the work; everything it writes —
the session, the escalation and its notice, the stored response — commits in
one transaction. Every other delivery, concurrent or after a restart, gets the
stored response::

    desk = TicketDesk(sessions=..., classifier=..., kb=..., diagnostician=None)
    response = await desk.auto_reply(TicketRequest(ticket_id="T-1001", ...))
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from service.diagnostics import Diagnostician
from service.diagnostics.models import Diagnosis
from service.dialogue.rules import customer_domain
from service.dialogue.state import ConversationState, Stage
from service.errors import Conflict, DiagnosticError, InvalidDomain
from service.escalating import open_escalation
from service.kb import KnowledgeBase
from service.nlu.classifier import Classifier
from service.nlu.entities import extract_entities
from service.nlu.understanding import Entities, ReplyKind, Understanding
from service.store import Channel, Role, SessionStatus
from service.store import sessions as session_store
from service.store import tickets as ticket_store
from service.tickets.cleaning import CleanEmail, clean_email
from service.tickets.compose import TicketPlan, compose_email, plan_ticket
from service.tickets.models import (
    TicketAction,
    TicketEscalation,
    TicketRequest,
    TicketResponse,
)

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(seconds=60)
"""A claim this old without a result belongs to a winner that died; take it over."""
MAX_CLAIMS = 3


def ticket_domain(request: TicketRequest, email: CleanEmail) -> str | None:
    """The domain to check: given, else named in the customer's own words (not in a
    bounce, where domains are the recipient's), else the requester's unless free mail."""
    if request.domain:
        return customer_domain(Entities(), request.domain)
    named = extract_entities(email.prose)
    return customer_domain(named, None) or customer_domain(
        Entities(email=request.requester.email), None
    )


def _relay_related(understanding: Understanding) -> bool:
    return understanding.intent.startswith("relay.") or (
        understanding.entities.reply_kind is ReplyKind.RELAY
    )


class TicketDesk:
    """Answers tickets; one per app."""

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

    async def auto_reply(self, request: TicketRequest) -> TicketResponse:
        """The ticket's response, computed once. ``Conflict`` when the ticket id was
        seen with different content, or is still being answered after a long wait."""
        print_ = ticket_store.fingerprint(request.model_dump(mode="json"))
        for _ in range(MAX_CLAIMS):
            claim = await run_in_threadpool(self._claim, request.ticket_id, print_)
            if claim.won:
                return await self._answer_claimed(request)
            record = claim.record
            if record.response is None:
                found = await run_in_threadpool(
                    ticket_store.wait_for_ticket,
                    sessions=self._sessions,
                    ticket_id=request.ticket_id,
                )
                if found is None or found.response is None:
                    continue  # the winner failed and let go: claim again
                record = found
            assert record.response is not None
            return TicketResponse.model_validate(record.response)
        raise Conflict(f"ticket {request.ticket_id} could not be answered; retry later")

    def _claim(self, ticket_id: str, print_: str) -> ticket_store.TicketClaim:
        with self._sessions.begin() as session:
            return ticket_store.claim_ticket(
                session=session, ticket_id=ticket_id, fingerprint=print_, stale_after=STALE_CLAIM
            )

    async def _answer_claimed(self, request: TicketRequest) -> TicketResponse:
        try:
            response = await self._answer(request)
        except BaseException:
            await run_in_threadpool(self._release, request.ticket_id)
            raise
        if response.escalation is not None and self._webhook_url and self._on_enqueue:
            self._on_enqueue()
        return response

    def _release(self, ticket_id: str) -> None:
        with self._sessions.begin() as session:
            ticket_store.release_ticket(session=session, ticket_id=ticket_id)

    async def _answer(self, request: TicketRequest) -> TicketResponse:
        email = clean_email(request.body, request.subject)
        message = f"{request.subject}\n\n{email.text}".strip()
        understanding = self._classifier.understand(message)
        domain = ticket_domain(request, email)
        diagnosis = await self._diagnose(domain) if _relay_related(understanding) else None
        plan = plan_ticket(
            understanding, diagnosis, kb=self._kb, threshold=self._classifier.threshold
        )
        return await run_in_threadpool(
            self._store, request, message, understanding, plan, diagnosis, domain
        )

    async def _diagnose(self, domain: str | None) -> Diagnosis | None:
        if domain is None or self._diagnostician is None:
            return None
        try:
            return await self._diagnostician.run(domain)
        except (InvalidDomain, DiagnosticError) as exc:
            log.info("ticket diagnostics skipped for %r: %s", domain, exc)
            return None

    def _store(
        self,
        request: TicketRequest,
        message: str,
        understanding: Understanding,
        plan: TicketPlan,
        diagnosis: Diagnosis | None,
        domain: str | None,
    ) -> TicketResponse:
        reply = None
        if plan.action is TicketAction.REPLY:
            reply = compose_email(
                plan,
                name=request.requester.name,
                subject=request.subject,
                ticket_id=request.ticket_id,
            )
        with self._sessions.begin() as session:
            record = session_store.ensure_session_by_ref(
                session=session, channel=Channel.TICKET, external_ref=request.ticket_id
            )
            session_store.add_message(
                session=session,
                session_id=record.id,
                turn=1,
                role=Role.CUSTOMER,
                text=message,
                intent=understanding.intent,
                confidence=understanding.confidence,
            )
            escalation = None
            if reply is not None:
                session_store.add_message(
                    session=session, session_id=record.id, turn=1, role=Role.BOT, text=reply.text
                )
            else:
                escalation = open_escalation(
                    session,
                    session_id=record.id,
                    channel=Channel.TICKET,
                    reason=str(plan.reason),
                    intent=understanding.intent,
                    confidence=understanding.confidence,
                    entities={
                        **understanding.entities.model_dump(mode="json"),
                        "ticket_id": request.ticket_id,
                        "subject": request.subject,
                        "requester": request.requester.model_dump(mode="json"),
                        "domain_checked": domain if diagnosis else None,
                    },
                    diagnostics=diagnosis.model_dump(mode="json") if diagnosis else None,
                    steps_tried=[],
                    webhook_url=self._webhook_url,
                )
            state = ConversationState(
                stage=Stage.ESCALATED if escalation else Stage.ANSWERED,
                turn=1,
                topic=plan.intent,
                domain=domain,
                diagnosis=diagnosis,
                intent=plan.intent,
                confidence=plan.confidence,
                escalation_reason=plan.reason,
                reference=escalation.reference if escalation else None,
            )
            session_store.save_session(
                session=session,
                session_id=record.id,
                state=state.model_dump(mode="json"),
                status=SessionStatus.ESCALATED if escalation else SessionStatus.ACTIVE,
                turns=1,
                expected_version=record.version,
            )
            response = TicketResponse(
                ticket_id=request.ticket_id,
                action=plan.action,
                intent=plan.intent,
                confidence=plan.confidence,
                reply=reply,
                diagnostics=diagnosis,
                escalation=TicketEscalation(
                    id=escalation.id, reference=escalation.reference, status=str(escalation.status)
                )
                if escalation
                else None,
            )
            ticket_store.store_ticket_result(
                session=session,
                ticket_id=request.ticket_id,
                response=response.model_dump(mode="json"),
            )
        return response
