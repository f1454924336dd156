"""What a conversation remembers between turns, and what one turn produces."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from service.diagnostics.models import Diagnosis
from service.dialogue.render import Reply


class Stage(StrEnum):
    """Where the conversation stands; also the ``state`` field of a chat response."""

    NEW = "new"
    AWAITING_CLIENT = "awaiting_client"
    AWAITING_DOMAIN = "awaiting_domain"
    AWAITING_OUTCOME = "awaiting_outcome"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class Question(StrEnum):
    """Questions the bot may ask; each at most once per conversation."""

    CLIENT = "client"
    DOMAIN = "domain"
    OUTCOME = "outcome"
    CLARIFY = "clarify"
    FEEDBACK = "feedback"


class EscalationReason(StrEnum):
    CUSTOMER_ASKED = "customer_asked"
    OUT_OF_SCOPE = "out_of_scope"
    LADDER_EXHAUSTED = "ladder_exhausted"
    LOW_CONFIDENCE = "low_confidence"
    FRUSTRATION = "frustration"


class Option(BaseModel):
    """A clarification choice: the customer's words and the intent they mean."""

    model_config = ConfigDict(frozen=True)

    title: str
    intent: str


class ConversationState(BaseModel):
    """Everything the engine needs from earlier turns; stored as JSON."""

    stage: Stage = Stage.NEW
    turn: int = 0
    topic: str | None = None
    ladder: list[str] = Field(default_factory=list)
    pending_rung: str | None = None
    tried: list[str] = Field(default_factory=list)
    client: str | None = None
    domain: str | None = None
    asked: list[Question] = Field(default_factory=list)
    last_question: Question | None = None
    low_confidence_streak: int = 0
    frustration: int = 0
    options: list[Option] = Field(default_factory=list)
    escalation_reason: EscalationReason | None = None
    reference: str | None = None
    diagnosis: Diagnosis | None = None
    intent: str | None = None
    confidence: float = 0.0


class Turn(BaseModel):
    """One turn's result: the new state, the reply, and whether to hand over."""

    model_config = ConfigDict(frozen=True)

    state: ConversationState
    intent: str
    confidence: float
    reply: Reply
    escalate: EscalationReason | None = None
    resolved: bool = False
