"""The data types the NLU produces: ``Entities`` and ``Understanding``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Action(StrEnum):
    """What the caller should do with an understanding."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"


class ReplyKind(StrEnum):
    """What an SMTP reply (or client error dialog) found in the text is about."""

    RELAY = "relay"  # relaying refused: the article's problem
    USER_UNKNOWN = "user_unknown"  # 550 5.1.1 and friends
    BLOCKED = "blocked"  # spam/blocklist/policy rejection (554 5.7.1 Spamhaus ...)
    AUTH_FAILED = "auth_failed"  # 535 wrong password
    SIZE = "size"  # 552 message too large
    TEMPORARY = "temporary"  # 4xx deferrals (other than the relay 454)
    CONNECTION = "connection"  # timeouts, refused connections: often a blocked port
    OTHER = "other"


class Entities(BaseModel):
    """What was found in the text; every field is ``None`` when absent."""

    model_config = ConfigDict(frozen=True)

    domain: str | None = None
    email: str | None = None
    client: str | None = None
    isp: str | None = None
    port: int | None = None
    smtp_code: str | None = None
    enhanced_code: str | None = None
    reply_text: str | None = None
    reply_kind: ReplyKind | None = None


class Scored(BaseModel):
    model_config = ConfigDict(frozen=True)

    intent: str
    confidence: float


class Understanding(BaseModel):
    """The NLU's reading of one message."""

    model_config = ConfigDict(frozen=True)

    text: str
    intent: str
    confidence: float
    action: Action
    alternatives: list[Scored]
    entities: Entities
