"""The chat channel: ``POST /v1/chat`` and ``POST /v1/feedback``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from service.api.deps import ChatLimiterDep, ClientAddressDep, ConversationsDep
from service.conversations import ChatOutcome
from service.dialogue.render import Reply
from service.kb import MailClient

router = APIRouter(prefix="/v1", tags=["chat"])


class ChatRequest(BaseModel):
    session_id: str | None = Field(default=None, max_length=64)
    message: str = Field(min_length=1, max_length=10_000)
    domain: str | None = Field(default=None, max_length=253)
    client: MailClient | None = None


class EscalationRef(BaseModel):
    id: str
    reference: str
    status: str


class ChatResponse(BaseModel):
    session_id: str
    turn: int
    intent: str
    confidence: float
    state: str
    reply: Reply
    diagnostics: dict[str, Any] | None
    escalation: EscalationRef | None


def chat_response(outcome: ChatOutcome) -> ChatResponse:
    turn, escalation = outcome.turn, outcome.escalation
    return ChatResponse(
        session_id=outcome.session_id,
        turn=turn.state.turn,
        intent=turn.intent,
        confidence=turn.confidence,
        state=str(turn.state.stage),
        reply=turn.reply,
        diagnostics=outcome.diagnosis.model_dump(mode="json") if outcome.diagnosis else None,
        escalation=EscalationRef(
            id=escalation.id, reference=escalation.reference, status=str(escalation.status)
        )
        if escalation
        else None,
    )


@router.post("/chat", response_model=ChatResponse)
async def chat(
    request: ChatRequest,
    conversations: ConversationsDep,
    limiter: ChatLimiterDep,
    address: ClientAddressDep,
) -> ChatResponse:
    """One customer message in, the bot's reply out. A null or unknown session starts anew."""
    limiter.hit(address)
    outcome = await conversations.chat(
        session_id=request.session_id,
        message=request.message,
        domain=request.domain,
        client=request.client,
    )
    return chat_response(outcome)


class FeedbackRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=64)
    helpful: bool
    comment: str | None = Field(default=None, max_length=2_000)


@router.post("/feedback", status_code=204, response_class=Response)
def feedback(request: FeedbackRequest, conversations: ConversationsDep) -> Response:
    """Was the conversation helpful?"""
    conversations.record_feedback(
        session_id=request.session_id, helpful=request.helpful, comment=request.comment
    )
    return Response(status_code=204)
