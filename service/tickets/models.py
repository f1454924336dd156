"""The ticket auto-reply contract: ``POST /v1/tickets/auto-reply`` in and out."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from service.diagnostics.models import Diagnosis


class TicketAction(StrEnum):
    REPLY = "reply"
    ESCALATE = "escalate"


class Requester(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(default=None, max_length=200)


class TicketRequest(BaseModel):
    """One new ticket from the helpdesk."""

    ticket_id: str = Field(min_length=1, max_length=200)
    subject: str = Field(max_length=2_000)
    body: str = Field(max_length=900_000)
    requester: Requester
    domain: str | None = Field(default=None, max_length=253)


class EmailReply(BaseModel):
    """A finished email: plain text wrapped at 72 columns and a safe HTML part."""

    model_config = ConfigDict(frozen=True)

    subject: str
    text: str
    html: str


class TicketEscalation(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    reference: str
    status: str


class TicketResponse(BaseModel):
    """The stored result of a ticket; every delivery of the ticket gets this."""

    ticket_id: str
    action: TicketAction
    intent: str
    confidence: float
    reply: EmailReply | None
    diagnostics: Diagnosis | None
    escalation: TicketEscalation | None
