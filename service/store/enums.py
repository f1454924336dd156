"""Closed vocabularies of the store, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    CHAT = "chat"
    TICKET = "ticket"
    CHATWOOT = "chatwoot"
    API = "api"


class SessionStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class Role(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"


class EscalationStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
