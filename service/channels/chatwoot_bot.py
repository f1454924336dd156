"""The Chatwoot agent bot: accept a webhook at once, answer it in the background, durably.

``accept`` runs in the webhook's request: it de-duplicates the delivery and stores a
``chatwoot.turn`` job in the outbox in one transaction, then returns. The outbox
worker runs the job (``run_turn``): one chat turn through ``Conversations.chat``,
whose storing transaction also queues the replies — so a job accepted before a
crash is answered after the restart, and a job is answered once::

    bot = ChatwootBot(sessions=..., conversations=..., kb=..., base_url=...)
    worker.register(CHATWOOT_TURN, bot.run_turn)
    ack = bot.accept(event, delivery_id="9f1c...")      # in the request, < 1 s
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from service.channels import chatwoot
from service.conversations import ChatOutcome, Conversations
from service.kb import KnowledgeBase
from service.store import Channel
from service.store import outbox as outbox_store
from service.store.deliveries import mark_delivery_seen
from service.store.outbox import OutboxRecord

log = logging.getLogger(__name__)

CHATWOOT_TURN = "chatwoot.turn"
"""Outbox kind of an inbound job; run in-process, never POSTed."""
JOB_TARGET = "relaydesk:chatwoot.turn"
MESSAGE_KIND = "chatwoot.message"
NOTE_KIND = "chatwoot.note"
TOGGLE_KIND = "chatwoot.toggle_status"
KIND_PREFIX = "chatwoot."


class AckStatus(StrEnum):
    ACCEPTED = "accepted"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


class WebhookAck(BaseModel):
    """What the webhook answers Chatwoot with (always 200 for a valid, signed event)."""

    status: AckStatus
    reason: str | None = None


class _AlreadyAnswered(Exception):
    """The job's turn was stored before (a redelivered job): nothing more to do."""


class ChatwootBot:
    """Accepts Chatwoot webhooks and answers them through the durable outbox."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        conversations: Conversations,
        kb: KnowledgeBase,
        base_url: str,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._conversations = conversations
        self._kb = kb
        self._base_url = base_url
        self._on_enqueue = on_enqueue

    def accept(self, event: chatwoot.ChatwootEvent, delivery_id: str | None) -> WebhookAck:
        """Decide, de-duplicate and queue; blocking (run it in a thread)."""
        decision = chatwoot.decide(event)
        if isinstance(decision, chatwoot.Ignored):
            return WebhookAck(status=AckStatus.IGNORED, reason=str(decision))
        with self._sessions.begin() as session:
            fresh = [
                mark_delivery_seen(session=session, key=key)
                for key in chatwoot.dedupe_keys(decision, delivery_id)
            ]
            if not all(fresh):
                return WebhookAck(status=AckStatus.DUPLICATE)
            outbox_store.enqueue(
                session=session,
                kind=CHATWOOT_TURN,
                target_url=JOB_TARGET,
                body=json.dumps(asdict(decision)),
            )
        if self._on_enqueue:
            self._on_enqueue()
        return WebhookAck(status=AckStatus.ACCEPTED)

    async def run_turn(self, job: OutboxRecord) -> None:
        """Answer one accepted message (the outbox worker's handler for ``CHATWOOT_TURN``)."""
        turn = chatwoot.Turn(**json.loads(job.body))

        def queue_replies(session: Session, outcome: ChatOutcome) -> None:
            if not mark_delivery_seen(session=session, key=f"chatwoot:job:{job.id}"):
                raise _AlreadyAnswered(job.id)
            self._queue(session, turn, outcome)

        try:
            await self._conversations.chat(
                session_id=None,
                message=turn.text,
                channel=Channel.CHATWOOT,
                external_ref=turn.external_ref,
                on_stored=queue_replies,
            )
        except _AlreadyAnswered:
            log.info("chatwoot job %s was answered before; skipping", job.id)

    def _queue(self, session: Session, turn: chatwoot.Turn, outcome: ChatOutcome) -> None:
        """The reply; on hand-off then the private note, then opening the conversation."""
        url = chatwoot.messages_url(self._base_url, turn.account_id, turn.conversation_id)
        reply = outbox_store.enqueue(
            session=session,
            kind=MESSAGE_KIND,
            target_url=url,
            body=json.dumps(chatwoot.reply_message(outcome.turn.reply)),
        )
        if outcome.escalation is None:
            return
        note = outbox_store.enqueue(
            session=session,
            kind=NOTE_KIND,
            target_url=url,
            body=json.dumps(chatwoot.handoff_note(outcome.escalation, self._kb)),
            after=reply.id,
        )
        outbox_store.enqueue(
            session=session,
            kind=TOGGLE_KIND,
            target_url=chatwoot.toggle_status_url(
                self._base_url, turn.account_id, turn.conversation_id
            ),
            body=json.dumps(chatwoot.OPEN_CONVERSATION),
            after=note.id,
        )


def chatwoot_api_headers(token: str | None) -> dict[str, dict[str, str]]:
    """Per-kind headers for the outbox worker: Chatwoot's ``api_access_token``, added at
    send time so the token is never stored."""
    return {KIND_PREFIX: {"api_access_token": token}} if token else {}
