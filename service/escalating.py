"""The one way to open an escalation: the hand-off packet plus its outbound notice.

Every channel (chat, ticket, Chatwoot) calls ``open_escalation`` inside the
transaction that stores its turn, so the escalation, the transcript snapshot
and the notice in the outbox commit together or not at all::

    with sessions.begin() as session:
        record = open_escalation(session, session_id=sid, channel=Channel.TICKET,
                                 reason="low_confidence", intent="relay.auth", ...)
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from service.store import Channel
from service.store import escalations as escalation_store
from service.store import outbox as outbox_store
from service.store import sessions as session_store
from service.store.escalations import EscalationRecord

ESCALATION_EVENT = "escalation.created"


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


def open_escalation(
    session: Session,
    *,
    session_id: str,
    channel: Channel,
    reason: str,
    intent: str | None,
    confidence: float | None,
    entities: dict[str, Any],
    diagnostics: dict[str, Any] | None,
    steps_tried: list[str],
    webhook_url: str | None,
) -> EscalationRecord:
    """Create the escalation with the session's (masked) transcript; queue its notice
    when ``webhook_url`` is set. The caller commits."""
    history = session_store.transcript(session=session, session_id=session_id)
    escalation = escalation_store.create_escalation(
        session=session,
        session_id=session_id,
        channel=channel,
        reason=reason,
        intent=intent,
        confidence=confidence,
        entities=entities,
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
        diagnostics=diagnostics,
        steps_tried=steps_tried,
    )
    if webhook_url:
        outbox_store.enqueue(
            session=session,
            kind=ESCALATION_EVENT,
            target_url=webhook_url,
            body=json.dumps(
                {"event": ESCALATION_EVENT, "escalation": escalation_payload(escalation)}
            ),
        )
    return escalation
