"""Chatwoot's agent-bot contract, as plain data: which webhooks to act on, and the
API calls that answer them. Pure: no I/O.

Chatwoot POSTs ``Message#webhook_data`` merged with ``event`` to the bot
(``app/listeners/agent_bot_listener.rb``); the bot answers through the REST API::

    POST {base}/api/v1/accounts/{account}/conversations/{conversation}/messages
         {"content": "...", "message_type": "outgoing"}           # a reply
         {"content": "...", "message_type": "outgoing", "content_type": "input_select",
          "content_attributes": {"items": [{"title": "Yes, it works", "value": "yes"}]}}
         {"content": "...", "message_type": "outgoing", "private": true}   # a note
    POST {base}/api/v1/accounts/{account}/conversations/{conversation}/toggle_status
         {"status": "open"}                                        # hand-off

A conversation the bot handles is ``pending``; once opened it belongs to people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from service.dialogue.render import Reply
from service.kb import KnowledgeBase
from service.store.escalations import EscalationRecord

MESSAGE_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
"""``push_event_data`` sends the enum's integer, ``webhook_data`` its name."""


class EventName(StrEnum):
    MESSAGE_CREATED = "message_created"
    MESSAGE_UPDATED = "message_updated"


class Ignored(StrEnum):
    """Why a webhook needs no answer."""

    EVENT = "not_a_customer_message_event"
    NOT_INCOMING = "not_an_incoming_message"
    PRIVATE = "private_note"
    NOT_PENDING = "conversation_not_pending"
    EMPTY = "no_text"
    NO_CONVERSATION = "no_conversation"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ChatwootAccount(_Loose):
    id: int


class ChatwootConversation(_Loose):
    id: int  # the display id, unique within the account; what the API paths use
    status: str | None = None
    inbox_id: int | None = None


class ChatwootEvent(_Loose):
    """The fields of an agent-bot webhook that the bot reads."""

    event: str
    id: int | None = None
    content: str | None = None
    message_type: str | None = None
    content_type: str | None = None
    content_attributes: dict[str, Any] | None = None
    private: bool = False
    conversation: ChatwootConversation | None = None
    account: ChatwootAccount | None = None

    @field_validator("message_type", mode="before")
    @classmethod
    def _type_name(cls, value: Any) -> Any:
        return MESSAGE_TYPES.get(value, str(value)) if isinstance(value, int) else value


@dataclass(frozen=True)
class Turn:
    """A customer message to answer."""

    account_id: int
    conversation_id: int
    message_id: int
    event: str
    text: str

    @property
    def external_ref(self) -> str:
        """The RelayDesk session key: one Chatwoot conversation, one session."""
        return f"{self.account_id}:{self.conversation_id}"


def _submitted(event: ChatwootEvent) -> str | None:
    values = (event.content_attributes or {}).get("submitted_values")
    if not isinstance(values, list) or not values or not isinstance(values[0], dict):
        return None
    chosen = values[0].get("value") or values[0].get("title")
    return str(chosen) if chosen else None


def decide(event: ChatwootEvent) -> Turn | Ignored:
    """Act only on a customer's public message, or their pick from the bot's options,
    while the conversation is ``pending``; everything else (the bot's own replies,
    agents' private notes, anything after hand-off) is ignored.

    A picked option arrives as ``message_updated`` of the bot's own ``input_select``
    message (``outgoing``) carrying ``content_attributes.submitted_values``.
    """
    if event.conversation is None or event.account is None or event.id is None:
        return Ignored.NO_CONVERSATION
    if event.event == EventName.MESSAGE_CREATED:
        if event.message_type != "incoming":
            return Ignored.NOT_INCOMING
        text = (event.content or "").strip()
    elif event.event == EventName.MESSAGE_UPDATED:
        text = (_submitted(event) or "").strip()
        if not text:
            return Ignored.EVENT
        picked_from_bot = event.message_type == "outgoing" and event.content_type == "input_select"
        if event.message_type != "incoming" and not picked_from_bot:
            return Ignored.NOT_INCOMING
    else:
        return Ignored.EVENT
    if event.private:
        return Ignored.PRIVATE
    if event.conversation.status != "pending":
        return Ignored.NOT_PENDING
    if not text:
        return Ignored.EMPTY
    return Turn(event.account.id, event.conversation.id, event.id, event.event, text)


def dedupe_keys(turn: Turn, delivery_id: str | None) -> list[str]:
    """Keys under which a delivery counts as seen: Chatwoot's delivery id and the message."""
    keys = [f"chatwoot:message:{turn.account_id}:{turn.message_id}:{turn.event}"]
    if delivery_id:
        keys.insert(0, f"chatwoot:delivery:{delivery_id[:200]}")
    return keys


# -- the API calls ---------------------------------------------------------------------------


def conversation_url(base_url: str, account_id: int, conversation_id: int) -> str:
    return f"{base_url.rstrip('/')}/api/v1/accounts/{account_id}/conversations/{conversation_id}"


def messages_url(base_url: str, account_id: int, conversation_id: int) -> str:
    return conversation_url(base_url, account_id, conversation_id) + "/messages"


def toggle_status_url(base_url: str, account_id: int, conversation_id: int) -> str:
    return conversation_url(base_url, account_id, conversation_id) + "/toggle_status"


def reply_message(reply: Reply) -> dict[str, Any]:
    """The bot's reply; quick replies become an ``input_select`` message."""
    body: dict[str, Any] = {"content": reply.text, "message_type": "outgoing", "private": False}
    if reply.quick_replies:
        body["content_type"] = "input_select"
        body["content_attributes"] = {
            "items": [{"title": q.title, "value": q.value} for q in reply.quick_replies]
        }
    return body


def _diagnostics_lines(diagnostics: dict[str, Any] | None) -> list[str]:
    if not diagnostics:
        return ["Diagnostics: none run"]
    lines = [f"Diagnostics for {diagnostics.get('domain')}:"]
    for cause in diagnostics.get("causes", []):
        evidence = " ".join(cause.get("evidence", []))
        lines.append(f"- cause {cause.get('intent')} ({cause.get('confidence')}): {evidence}")
    for check in diagnostics.get("checks", []):
        if check.get("status") not in ("pass", "skipped"):
            lines.append(f"- {check.get('id')}: {check.get('status')}: {check.get('summary')}")
    if len(lines) == 1:
        lines.append("- every check passed")
    return lines


def handoff_note(escalation: EscalationRecord, kb: KnowledgeBase) -> dict[str, Any]:
    """A private note for the agent: the escalation packet in a few lines."""

    def title(intent: str) -> str:
        return kb.intents[intent].title if intent in kb.intents else intent

    tried = [f"{step} ({title(str(step))})" for step in escalation.steps_tried]
    confidence = f"{escalation.confidence:.2f}" if escalation.confidence is not None else "n/a"
    lines = [
        f"RelayDesk hand-off {escalation.reference}",
        f"Reason: {escalation.reason}",
        f"Intent: {escalation.intent} ({confidence})",
        f"Steps tried: {', '.join(tried) if tried else 'none'}",
        *_diagnostics_lines(escalation.diagnostics),
    ]
    return {"content": "\n".join(lines), "message_type": "outgoing", "private": True}


OPEN_CONVERSATION: dict[str, Any] = {"status": "open"}
