"""Helpdesk REST: escalations, transcripts and figures, behind an API key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from service.api.deps import require_api_key
from service.conversations import escalation_payload
from service.helpdesk import Helpdesk
from service.store import EscalationStatus

router = APIRouter(prefix="/v1", tags=["helpdesk"], dependencies=[Depends(require_api_key)])


async def get_helpdesk(request: Request) -> Helpdesk:
    helpdesk: Helpdesk = request.app.state.helpdesk
    return helpdesk


HelpdeskDep = Annotated[Helpdesk, Depends(get_helpdesk)]


class EscalationList(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class ClaimRequest(BaseModel):
    agent: str = Field(min_length=1, max_length=200)


class ResolveRequest(BaseModel):
    note: str | None = Field(default=None, max_length=10_000)


class TranscriptMessage(BaseModel):
    turn: int
    role: str
    text: str
    intent: str | None
    confidence: float | None
    created_at: datetime


class SessionTranscript(BaseModel):
    session_id: str
    channel: str
    status: str
    turns: int
    created_at: datetime
    updated_at: datetime
    messages: list[TranscriptMessage]


class StatsResponse(BaseModel):
    since: datetime | None
    conversations: int
    resolved_by_bot: int
    escalated: int
    deflection_rate: float | None
    feedback: int
    helpful_rate: float | None
    intents: dict[str, int]


@router.get("/escalations", response_model=EscalationList)
def list_escalations(
    helpdesk: HelpdeskDep,
    status: EscalationStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> EscalationList:
    """Escalations, newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    page = helpdesk.escalations(status=status, limit=limit, cursor=cursor)
    return EscalationList(
        items=[escalation_payload(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/escalations/{escalation_id}")
async def get_escalation(escalation_id: str, helpdesk: HelpdeskDep) -> dict[str, Any]:
    return escalation_payload(helpdesk.escalation(escalation_id))


@router.post("/escalations/{escalation_id}/claim")
def claim_escalation(
    escalation_id: str, request: ClaimRequest, helpdesk: HelpdeskDep
) -> dict[str, Any]:
    """Take an escalation; 409 when another agent holds it."""
    return escalation_payload(helpdesk.claim(escalation_id, request.agent))


@router.post("/escalations/{escalation_id}/resolve")
def resolve_escalation(
    escalation_id: str, request: ResolveRequest, helpdesk: HelpdeskDep
) -> dict[str, Any]:
    return escalation_payload(helpdesk.resolve(escalation_id, request.note))


@router.get("/sessions/{session_id}", response_model=SessionTranscript)
async def get_session(session_id: str, helpdesk: HelpdeskDep) -> SessionTranscript:
    """A conversation's transcript (passwords masked before they were stored)."""
    record, messages = helpdesk.conversation(session_id)
    return SessionTranscript(
        session_id=record.id,
        channel=str(record.channel),
        status=str(record.status),
        turns=record.turns,
        created_at=record.created_at,
        updated_at=record.updated_at,
        messages=[
            TranscriptMessage(
                turn=m.turn,
                role=str(m.role),
                text=m.text,
                intent=m.intent,
                confidence=m.confidence,
                created_at=m.created_at,
            )
            for m in messages
        ],
    )


@router.get("/stats", response_model=StatsResponse)
def stats(helpdesk: HelpdeskDep, since: datetime | None = None) -> StatsResponse:
    """Conversations, bot resolutions, escalations and rates, optionally since a time."""
    figures = helpdesk.stats(since)
    return StatsResponse(
        since=figures.since,
        conversations=figures.conversations,
        resolved_by_bot=figures.resolved_by_bot,
        escalated=figures.escalated,
        deflection_rate=figures.deflection_rate,
        feedback=figures.feedback,
        helpful_rate=figures.helpful_rate,
        intents=figures.intents,
    )
