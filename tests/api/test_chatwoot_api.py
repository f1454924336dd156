"""The Chatwoot agent bot through the real app. A recording HTTP server on 127.0.0.1
stands in for Chatwoot's API (answers shaped like its ``messages/create`` and
``toggle_status`` views); webhooks are shaped like ``Message#webhook_data``."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from support.lab import SILENT_NS, Lab
from support.paths import INTENTS
from support.recorder import Recorded, Recorder, recording_server

from service.channels.chatwoot import ChatwootEvent
from service.channels.chatwoot_bot import ChatwootBot
from service.dialogue.engine import CLIENT_REPLIES, OUTCOME_REPLIES, respond
from service.dialogue.state import ConversationState
from service.kb import KnowledgeBase
from service.main import create_app
from service.nlu.classifier import Classifier
from service.settings import Settings
from service.store import make_engine, make_session_factory, migrate

TOKEN = "bot-access-token"
SECRET = "chatwoot-s3cret"
URL = "/v1/channels/chatwoot"
ACCOUNT, INBOX, CONVERSATION = 1, 3, 42
MESSAGES = f"/api/v1/accounts/{ACCOUNT}/conversations/{CONVERSATION}/messages"
TOGGLE = f"/api/v1/accounts/{ACCOUNT}/conversations/{CONVERSATION}/toggle_status"
_ids = itertools.count(5000)
OUTGOING = "not_an_incoming_message"


def chatwoot_api(request: Recorded) -> dict[str, Any]:
    """Answers shaped like Chatwoot's API reference for the two calls the bot makes."""
    if request.path.endswith("/toggle_status"):
        return {
            "meta": {},
            "payload": {
                "success": True,
                "conversation_id": CONVERSATION,
                "current_status": request.json()["status"],
                "snoozed_until": None,
            },
        }
    sent = request.json()
    return {
        "id": next(_ids),
        "content": sent["content"],
        "inbox_id": INBOX,
        "conversation_id": CONVERSATION,
        "message_type": 1,
        "content_type": sent.get("content_type", "text"),
        "content_attributes": sent.get("content_attributes", {}),
        "created_at": int(time.time()),
        "private": sent.get("private", False),
        "sender": {"id": 2, "name": "RelayDesk", "avatar_url": "", "type": "agent_bot"},
    }


CONTACT = {
    "id": 7,
    "name": "Jo Baker",
    "avatar": "",
    "type": "contact",
    "account": {"id": ACCOUNT, "name": "Hove Hosting"},
}
AGENT_BOT = {"id": 2, "name": "RelayDesk", "avatar_url": "", "type": "agent_bot"}
AGENT = {"id": 9, "name": "Sam", "email": "sam@hosting.example", "type": "user"}


def conversation(status: str = "pending") -> dict[str, Any]:
    """``Conversation#webhook_data`` (``Conversations::EventDataPresenter#push_data``)."""
    return {
        "additional_attributes": {"browser": {"browser_name": "Firefox"}, "referer": ""},
        "can_reply": True,
        "channel": "Channel::WebWidget",
        "contact_inbox": {"id": 11, "contact_id": 7, "inbox_id": INBOX, "source_id": "c0ffee"},
        "id": CONVERSATION,
        "inbox_id": INBOX,
        "messages": [],
        "labels": [],
        "meta": {"sender": CONTACT, "assignee": None, "team": None, "hmac_verified": False},
        "status": status,
        "custom_attributes": {},
        "snoozed_until": None,
        "unread_count": 1,
        "agent_last_seen_at": 0,
        "contact_last_seen_at": 0,
        "timestamp": 1764583200,
    }


def message(
    content: str | None,
    *,
    event: str = "message_created",
    message_id: int | None = None,
    message_type: str = "incoming",
    content_type: str = "text",
    content_attributes: dict[str, Any] | None = None,
    private: bool = False,
    status: str = "pending",
    sender: dict[str, Any] = CONTACT,
) -> dict[str, Any]:
    """``Message#webhook_data`` merged with the event name, as the agent bot gets it."""
    return {
        "event": event,
        "id": message_id if message_id is not None else next(_ids),
        "content": content,
        "created_at": "2025-12-01T10:00:00.000Z",
        "message_type": message_type,
        "content_type": content_type,
        "private": private,
        "content_attributes": content_attributes or {},
        "source_id": None,
        "sender": sender,
        "inbox": {"id": INBOX, "name": "Website chat"},
        "conversation": conversation(status),
        "account": {"id": ACCOUNT, "name": "Hove Hosting"},
    }


def settings_for(database_url: str, chatwoot: Recorder, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "intents_dir": INTENTS,
        "database_url": database_url,
        "diagnostics_enabled": False,
        "chatwoot_base_url": chatwoot.url,
        "chatwoot_bot_token": TOKEN,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def chatwoot() -> Iterator[Recorder]:
    with recording_server() as recorder:
        recorder.respond = chatwoot_api
        yield recorder


@pytest.fixture
def api(database_url: str, chatwoot: Recorder) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(database_url, chatwoot))) as client:
        yield client


def post(
    api: TestClient, payload: dict[str, Any], delivery: str | None = None, **headers: str
) -> dict[str, Any]:
    extra = {"X-Chatwoot-Delivery": delivery or f"delivery-{next(_ids)}", **headers}
    response = api.post(URL, json=payload, headers=extra)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for(recorder: Recorder, count: int, timeout: float = 15.0) -> list[Recorded]:
    deadline = time.monotonic() + timeout
    while len(recorder.requests) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(recorder.requests) >= count, recorder.requests
    return list(recorder.requests)


def expected_reply(
    classifier: Classifier, kb: KnowledgeBase, *messages: str
) -> tuple[str, list[dict[str, str]]]:
    """The engine's reply to the last of ``messages``: the exact text and quick replies."""
    state = ConversationState()
    for text in messages:
        turn = respond(state, classifier.understand(text), None, kb=kb)
        state = turn.state
    items = [{"title": q.title, "value": q.value} for q in turn.reply.quick_replies]
    return turn.reply.text, items


def test_replies_with_input_select_then_follows_the_picked_option(
    api: TestClient, chatwoot: Recorder, classifier: Classifier, knowledge_base: KnowledgeBase
) -> None:
    assert post(api, message("550 relay not permitted"))["status"] == "accepted"
    (first,) = wait_for(chatwoot, 1)
    assert (first.method, first.path) == ("POST", MESSAGES)
    assert first.headers["api_access_token"] == TOKEN
    text, items = expected_reply(classifier, knowledge_base, "550 relay not permitted")
    assert first.json() == {
        "content": text,
        "message_type": "outgoing",
        "private": False,
        "content_type": "input_select",
        "content_attributes": {"items": items},
    }
    assert items == [{"title": q.title, "value": q.value} for q in CLIENT_REPLIES]

    # The widget writes the pick into the bot's own input_select message.
    picked = message(
        text,
        event="message_updated",
        message_type="outgoing",
        content_type="input_select",
        content_attributes={
            "items": items,
            "submitted_values": [{"title": "Outlook", "value": "Outlook"}],
        },
        sender=AGENT_BOT,
    )
    assert post(api, picked)["status"] == "accepted"
    second = wait_for(chatwoot, 2)[1].json()
    text, items = expected_reply(classifier, knowledge_base, "550 relay not permitted", "Outlook")
    assert second["content"] == text and "File > Account Settings" in text
    assert second["content_attributes"]["items"] == [
        {"title": q.title, "value": q.value} for q in OUTCOME_REPLIES
    ]


def test_hand_off_posts_reply_then_private_note_then_opens(
    api: TestClient, chatwoot: Recorder
) -> None:
    post(api, message("I want to talk to a human please"))
    reply, note, toggle = wait_for(chatwoot, 3)
    assert [r.path for r in (reply, note, toggle)] == [MESSAGES, MESSAGES, TOGGLE]
    reference = reply.json()["content"].split("Your reference is ")[1].split(".")[0]
    assert reference.startswith("RD-") and reply.json()["private"] is False
    packet = note.json()
    assert packet["private"] is True and packet["message_type"] == "outgoing"
    assert packet["content"].splitlines()[:4] == [
        f"RelayDesk hand-off {reference}",
        "Reason: customer_asked",
        packet["content"].splitlines()[2],
        "Steps tried: none",
    ]
    assert packet["content"].splitlines()[2].startswith("Intent: handoff.human (")
    assert "Diagnostics: none run" in packet["content"]
    assert toggle.json() == {"status": "open"}
    assert all(r.headers["api_access_token"] == TOKEN for r in (reply, note, toggle))

    # Chatwoot now reports the conversation open: the bot stays out of it.
    after = post(api, message("hello? are you there?", status="open"))
    assert after == {"status": "ignored", "reason": "conversation_not_pending"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (message("Which program?", message_type="outgoing", sender=AGENT_BOT), OUTGOING),
        (message("On BT", message_type="outgoing", private=True, sender=AGENT), OUTGOING),
        (message("internal note", private=True), "private_note"),
        (message("still failing", status="open"), "conversation_not_pending"),
        (message("still failing", status="resolved"), "conversation_not_pending"),
        (message("edited", event="message_updated"), "not_a_customer_message_event"),
        (message(None, message_type="activity"), OUTGOING),
        (conversation("open") | {"event": "conversation_opened"}, "no_conversation"),
        ({"event": "webwidget_triggered", "id": 11, "event_info": {}}, "no_conversation"),
    ],
)  # fmt: skip
def test_ignored_events_post_nothing(
    api: TestClient, chatwoot: Recorder, payload: dict[str, Any], reason: str
) -> None:
    assert post(api, payload) == {"status": "ignored", "reason": reason}
    time.sleep(0.3)
    assert chatwoot.requests == []


def test_deliveries_and_messages_are_deduplicated(api: TestClient, chatwoot: Recorder) -> None:
    payload = message("relay access denied from thunderbird", message_id=777)
    assert post(api, payload, delivery="d-1")["status"] == "accepted"
    assert post(api, payload, delivery="d-1")["status"] == "duplicate"
    assert post(api, payload, delivery="d-2")["status"] == "duplicate"  # same message id
    wait_for(chatwoot, 1)
    time.sleep(0.5)
    assert len(chatwoot.requests) == 1


def test_failed_calls_are_retried(api: TestClient, chatwoot: Recorder) -> None:
    chatwoot.statuses = [502]
    post(api, message("hello"))
    failed, delivered = wait_for(chatwoot, 2, timeout=20)
    assert failed.body == delivered.body and delivered.path == MESSAGES


def test_accepted_job_survives_a_restart(
    tmp_path: Path, chatwoot: Recorder, knowledge_base: KnowledgeBase
) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    migrate(url)
    engine = make_engine(url)
    try:  # accepted by a process that died before answering
        bot = ChatwootBot(
            sessions=make_session_factory(engine),
            conversations=cast(Any, None),
            kb=knowledge_base,
            base_url=chatwoot.url,
        )
        event = ChatwootEvent.model_validate(message("550 relay not permitted"))
        assert bot.accept(event, "d-crash").status == "accepted"
    finally:
        engine.dispose()
    assert chatwoot.requests == []
    with TestClient(create_app(settings_for(url, chatwoot))):
        (reply,) = wait_for(chatwoot, 1)
    assert reply.json()["content_type"] == "input_select"


def _signed(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Chatwoot-Timestamp": timestamp,
        "X-Chatwoot-Signature": f"sha256={digest.hexdigest()}",
        "X-Chatwoot-Delivery": f"delivery-{next(_ids)}",
    }


def test_signature_is_verified_when_a_secret_is_set(tmp_path: Path, chatwoot: Recorder) -> None:
    settings = settings_for(
        f"sqlite:///{tmp_path / 'signed.db'}", chatwoot, chatwoot_webhook_secret=SECRET
    )
    raw = json.dumps(message("550 relay not permitted")).encode()
    with TestClient(create_app(settings)) as client:
        refused = [
            client.post(URL, content=raw, headers=headers)
            for headers in (
                {"Content-Type": "application/json"},
                _signed(raw, secret="guess"),
                _signed(raw, at=int(time.time()) - 3600),
                _signed(raw.replace(b"550", b"551")) | {},
            )
        ]
        refused[3] = client.post(URL, content=raw.replace(b"550", b"551"), headers=_signed(raw))
        good = client.post(URL, content=raw, headers=_signed(raw))
    assert [r.status_code for r in refused] == [401, 401, 401, 401]
    assert {r.json()["error"]["code"] for r in refused} == {"not_authenticated"}
    assert good.status_code == 200 and good.json()["status"] == "accepted"


def test_not_configured_is_404(tmp_path: Path) -> None:
    settings = Settings(intents_dir=INTENTS, database_url=f"sqlite:///{tmp_path / 'n.db'}")
    with TestClient(create_app(settings)) as client:
        response = client.post(URL, json=message("hi"))
    assert response.status_code == 404


def test_webhook_answers_at_once_while_diagnostics_hang(
    tmp_path: Path, chatwoot: Recorder, lab: Lab, lab_trust: Path
) -> None:
    settings = settings_for(
        f"sqlite:///{tmp_path / 'slow.db'}",
        chatwoot,
        **lab.settings_values(
            diagnostics_enabled=True,
            diagnostics_budget_s=3.0,
            dns_resolvers=[f"{SILENT_NS}:{lab.dns_port}"],  # reads queries, never answers
        ),
    )
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        ack = post(client, message(f"550 relay not permitted, my domain is {lab.domains.stalled}"))
        elapsed = time.perf_counter() - started
        (reply,) = wait_for(chatwoot, 1, timeout=20)
        answered = time.perf_counter() - started
    assert ack["status"] == "accepted"
    assert elapsed < 1.0, elapsed
    # The lookups timed out in the background (0.75 s per server), not in the webhook.
    assert answered > 0.75 and elapsed < answered / 3, (elapsed, answered)
    assert reply.json()["message_type"] == "outgoing"
