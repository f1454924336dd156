"""Scripted conversations through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from support.paths import INTENTS
from support.recorder import recording_server

from service.main import create_app
from service.settings import Settings

KEY = "agent-key-1"
AUTH = {"Authorization": f"Bearer {KEY}"}


def app_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "intents_dir": INTENTS,
        "database_url": database_url,
        "diagnostics_enabled": False,
        "api_keys": [KEY],
        "chat_rate_limit": "1000/minute",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def api(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings(database_url))) as client:
        yield client


class Chat:
    """One customer's conversation."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.session_id: str | None = None

    def say(self, message: str, **extra: Any) -> dict[str, Any]:
        response = self.client.post(
            "/v1/chat", json={"session_id": self.session_id, "message": message, **extra}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.session_id = body["session_id"]
        return body


def test_resolved_at_rung_one_with_feedback(api: TestClient) -> None:
    chat = Chat(api)
    first = chat.say("I keep getting 550 relay not permitted when I send")
    assert first["intent"] == "relay.unknown_cause"
    assert first["state"] == "awaiting_client"
    assert first["turn"] == 1
    assert any(q["title"] == "Outlook" for q in first["reply"]["quick_replies"])

    rung = chat.say("Outlook")
    assert rung["state"] == "awaiting_outcome"
    assert rung["reply"]["article"]["intent"] == "relay.auth"
    assert rung["reply"]["steps"] and "<ol>" in rung["reply"]["html"]
    assert [q["value"] for q in rung["reply"]["quick_replies"]] == [
        "yes",
        "still failing",
        "check my domain",
    ]

    done = chat.say("yes")
    assert done["state"] == "resolved"
    assert "Was this helpful?" in done["reply"]["text"]

    assert (
        api.post("/v1/feedback", json={"session_id": chat.session_id, "helpful": True}).status_code
        == 204
    )
    stats = api.get("/v1/stats", headers=AUTH).json()
    assert stats["resolved_by_bot"] == 1 and stats["helpful_rate"] == 1.0


def test_resolved_at_rung_two(api: TestClient) -> None:
    chat = Chat(api)
    chat.say("relaying denied from thunderbird")
    second = chat.say("still failing")
    assert second["reply"]["article"]["intent"] == "relay.port_blocked"
    assert chat.say("yes it works")["state"] == "resolved"


def test_ladder_exhausted_escalates_with_everything(api: TestClient) -> None:
    chat = Chat(api)
    chat.say("relay access denied", client="outlook", domain="bakery-hove.test")
    seen = []
    body: dict[str, Any] = {}
    for _ in range(6):
        body = chat.say("still failing")
        if body["escalation"]:
            break
        seen.append(body["reply"]["article"]["intent"])
    assert body["escalation"]["reference"].startswith("RD-")
    assert body["escalation"]["reference"] in body["reply"]["text"]
    assert len(seen) == len(set(seen))

    listed = api.get("/v1/escalations?status=open", headers=AUTH).json()
    assert [item["id"] for item in listed["items"]] == [body["escalation"]["id"]]
    escalation = api.get(f"/v1/escalations/{body['escalation']['id']}", headers=AUTH).json()
    assert escalation["reason"] == "ladder_exhausted"
    assert escalation["steps_tried"][:2] == ["relay.auth", "relay.port_blocked"]
    assert any(m["text"] == "relay access denied" for m in escalation["transcript"])
    assert escalation["channel"] == "chat"

    claimed = api.post(
        f"/v1/escalations/{escalation['id']}/claim", json={"agent": "sam"}, headers=AUTH
    )
    assert claimed.json()["status"] == "claimed"
    other = api.post(
        f"/v1/escalations/{escalation['id']}/claim", json={"agent": "alex"}, headers=AUTH
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"
    resolved = api.post(
        f"/v1/escalations/{escalation['id']}/resolve", json={"note": "fixed MX"}, headers=AUTH
    )
    assert resolved.json()["status"] == "resolved"

    # After hand-off the bot keeps the customer informed and creates nothing new.
    after = chat.say("hello? anyone?")
    assert after["state"] == "escalated" and after["escalation"] is None
    assert body["escalation"]["reference"] in after["reply"]["text"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Can I talk to a real person please", "customer_asked"),
        ("Please cancel my hosting at the end of next month", "out_of_scope"),
    ],
)
def test_escalates_at_turn_one(api: TestClient, message: str, reason: str) -> None:
    body = Chat(api).say(message)
    assert body["state"] == "escalated"
    assert body["escalation"]["status"] == "open"
    record = api.get(f"/v1/escalations/{body['escalation']['id']}", headers=AUTH).json()
    assert record["reason"] == reason


def test_client_is_asked_once(api: TestClient) -> None:
    chat = Chat(api)
    assert chat.say("550 relay not permitted")["state"] == "awaiting_client"
    rung = chat.say("no idea, whatever came with the computer")
    assert rung["state"] == "awaiting_outcome"
    later = chat.say("still failing")
    assert later["state"] != "awaiting_client"


def test_size_question_gets_the_arithmetic(api: TestClient) -> None:
    body = Chat(api).say("what's the biggest attachment I can send? I have a 25MB drawing")
    assert body["intent"] == "mail.size_limit"
    assert "34 MB" in body["reply"]["text"]


def test_passwords_are_masked_before_storing(api: TestClient) -> None:
    chat = Chat(api)
    chat.say("relay not permitted, my password is Tr0ub4dor&3")
    transcript = api.get(f"/v1/sessions/{chat.session_id}", headers=AUTH).json()
    texts = " ".join(m["text"] for m in transcript["messages"])
    assert "Tr0ub4dor" not in texts and "********" in texts


def test_reply_html_is_escaped(api: TestClient) -> None:
    body = Chat(api).say("<img src=x onerror=alert(1)> hi")
    assert "<img" not in body["reply"]["html"]


def test_unknown_session_starts_anew(api: TestClient) -> None:
    body = api.post("/v1/chat", json={"session_id": "nope", "message": "hello"}).json()
    assert body["session_id"] != "nope" and body["turn"] == 1


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"message": ""}, 422),
        ({"message": "hi", "client": "lotus-notes"}, 422),
        ({"message": 5}, 422),
        ({"session_id": ["x"], "message": "hi"}, 422),
    ],
)
def test_bad_chat_input(api: TestClient, payload: dict[str, Any], status: int) -> None:
    response = api.post("/v1/chat", json=payload)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_feedback_for_unknown_session_is_404(api: TestClient) -> None:
    response = api.post("/v1/feedback", json={"session_id": "nope", "helpful": False})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_helpdesk_needs_a_key(api: TestClient) -> None:
    assert api.get("/v1/escalations").status_code == 401
    wrong = api.get("/v1/escalations", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
    assert api.get("/v1/stats", headers={"Authorization": "Basic abc"}).status_code == 401
    assert api.get("/v1/escalations?cursor=garbage", headers=AUTH).status_code == 422
    assert api.get("/v1/escalations/none", headers=AUTH).status_code == 404


def test_escalation_pages_newest_first(api: TestClient) -> None:
    ids = [Chat(api).say("operator")["escalation"]["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/v1/escalations?{query}", headers=AUTH).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))


def test_restart_keeps_sessions_and_escalations(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    with TestClient(create_app(app_settings(url))) as client:
        chat = Chat(client)
        chat.say("550 relay not permitted")
        escalation = Chat(client).say("agent please")["escalation"]
    with TestClient(create_app(app_settings(url))) as client:
        chat.client = client
        assert chat.say("Thunderbird")["reply"]["article"]["intent"] == "relay.auth"
        assert client.get(f"/v1/escalations/{escalation['id']}", headers=AUTH).status_code == 200


def test_concurrent_claims_one_winner(database_url: str) -> None:
    app = create_app(app_settings(database_url))

    async def scenario() -> list[int]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://rd") as client:
                made = await client.post("/v1/chat", json={"message": "speak to a human"})
                escalation_id = made.json()["escalation"]["id"]
                responses = await asyncio.gather(
                    *(
                        client.post(
                            f"/v1/escalations/{escalation_id}/claim",
                            json={"agent": f"agent-{n}"},
                            headers=AUTH,
                        )
                        for n in range(10)
                    )
                )
                return sorted(r.status_code for r in responses)

    assert asyncio.run(scenario()) == [200] + [409] * 9


def test_chat_is_rate_limited(tmp_path: Any) -> None:
    settings = app_settings(f"sqlite:///{tmp_path / 'rl.db'}", chat_rate_limit="3/minute")
    with TestClient(create_app(settings)) as client:
        codes = [client.post("/v1/chat", json={"message": "hi"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.post("/v1/chat", json={"message": "hi"})
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"


def test_escalation_notice_is_posted_signed(tmp_path: Any) -> None:
    with recording_server() as hook:
        hook.statuses = [503]  # the first attempt fails and is retried
        settings = app_settings(
            f"sqlite:///{tmp_path / 'hook.db'}",
            escalation_webhook_url=f"{hook.url}/escalations",
            escalation_webhook_secret="s3cret",
        )
        with TestClient(create_app(settings)) as client:
            body = Chat(client).say("I want a human")
            deadline = time.monotonic() + 15
            while len(hook.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
    assert len(hook.requests) >= 2
    delivered = hook.requests[-1]
    timestamp = delivered.headers["x-relaydesk-timestamp"]
    expected = hmac.new(b"s3cret", f"{timestamp}.".encode() + delivered.body, hashlib.sha256)
    assert delivered.headers["x-relaydesk-signature"] == f"sha256={expected.hexdigest()}"
    assert delivered.json()["escalation"]["reference"] == body["escalation"]["reference"]
