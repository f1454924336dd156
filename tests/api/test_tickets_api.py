"""``POST /v1/tickets/auto-reply`` through the real app: answers, hand-offs, exactly once,
signatures and limits; the exactly-once tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from support.emails import (
    EXCHANGE_BOUNCE,
    FORWARDED_WITH_THREAD,
    POSTFIX_BOUNCE,
    USER_UNKNOWN_BOUNCE,
)
from support.lab import Lab
from support.paths import INTENTS

from service.main import create_app
from service.settings import Settings
from service.store.db import make_engine
from service.store.tables import Conversation, Escalation, OutboxMessage, Ticket

KEY = "agent-key-1"
AUTH = {"Authorization": f"Bearer {KEY}"}
SECRET = "ticket-s3cret"
URL = "/v1/tickets/auto-reply"


def app_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "intents_dir": INTENTS,
        "database_url": database_url,
        "diagnostics_enabled": False,
        "api_keys": [KEY],
    }
    return Settings(**(values | overrides))


def ticket(ticket_id: str = "T-1001", body: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "subject": "Can't send email",
        "body": body,
        "requester": {"email": "jo@bakery-hove.co.uk", "name": "Jo"},
        "domain": None,
    } | extra


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings(f"sqlite:///{tmp_path / 't.db'}"))) as client:
        yield client


def send(api: TestClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = api.post(URL, json=payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.__tablename__: conn.execute(
                    select(func.count()).select_from(table)
                ).scalar_one()
                for table in (Ticket, Conversation, Escalation, OutboxMessage)
            }
    finally:
        engine.dispose()


# -- each intent family --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "intent", "phrases"),
    [
        (
            "Every email I send bounces with 550 relay not permitted. I use Thunderbird.",
            "relay.",
            ["A relay error means", "1. "],
        ),
        (
            "emails not sending, says relay denied. I use outlook",
            "relay.unknown_cause",
            ["Cause 1 of 4:", "Cause 4 of 4:", "File > Account Settings"],
        ),
        (
            "What's the biggest attachment I can send? I need to send a 25MB drawing",
            "mail.size_limit",
            ["about 34 MB"],
        ),
        ("What is the outgoing mail server name for Thunderbird?", "mail.smtp_server", ["1. "]),
        ("Thanks, that fixed it!", "chat.thanks", ["You're welcome"]),
    ],
)
def test_replies_by_intent_family(
    api: TestClient, body: str, intent: str, phrases: list[str]
) -> None:
    result = send(api, ticket(body=body))
    assert result["action"] == "reply" and result["escalation"] is None
    assert result["intent"].startswith(intent)
    reply = result["reply"]
    assert reply["subject"] == "Re: Can't send email"
    assert reply["text"].startswith("Hello Jo,\n\nThank you for your email")
    flat = " ".join(reply["text"].split())
    assert "Your ticket reference is T-1001." in flat and "reply to this email" in flat
    for phrase in phrases:
        assert phrase in reply["text"], phrase
    assert all(len(line) <= 72 for line in reply["text"].splitlines())
    assert reply["html"].startswith("<p>Hello Jo,</p>")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Can I talk to a real person please, I'd like a call back", "customer_asked"),
        ("Please cancel my hosting package at the end of next month", "out_of_scope"),
        ("the thing with the stuff is broken again", "low_confidence"),
    ],
)
def test_escalations_carry_everything(api: TestClient, body: str, reason: str) -> None:
    result = send(api, ticket(body=body))
    assert result["action"] == "escalate" and result["reply"] is None
    escalation = api.get(f"/v1/escalations/{result['escalation']['id']}", headers=AUTH).json()
    assert escalation["reason"] == reason and escalation["channel"] == "ticket"
    assert escalation["reference"] == result["escalation"]["reference"]
    assert escalation["entities"]["ticket_id"] == "T-1001"
    assert escalation["entities"]["requester"]["email"] == "jo@bakery-hove.co.uk"
    assert body in escalation["transcript"][0]["text"]


def test_forwarded_ticket_with_a_quoted_thread(api: TestClient) -> None:
    result = send(api, ticket(subject="Fwd: email not sending", body=FORWARDED_WITH_THREAD))
    assert result["action"] == "reply" and result["intent"].startswith("relay.")
    assert "Outlook" in result["reply"]["text"]  # Sam's client, from the forwarded text
    escalations = api.get("/v1/escalations", headers=AUTH).json()["items"]
    assert escalations == []


@pytest.mark.parametrize("body", [POSTFIX_BOUNCE, EXCHANGE_BOUNCE])
def test_pasted_relay_bounces(api: TestClient, body: str) -> None:
    result = send(api, ticket(subject="FW: Undelivered Mail Returned to Sender", body=body))
    assert result["action"] == "reply"
    assert result["intent"] == "relay.unknown_cause"
    assert "Cause 1 of 4:" in result["reply"]["text"]


def test_a_bounce_is_read_by_its_smtp_reply(api: TestClient) -> None:
    result = send(api, ticket(subject="Undeliverable: hello", body=USER_UNKNOWN_BOUNCE))
    assert not result["intent"].startswith("relay.")


def test_reply_html_is_safe(api: TestClient) -> None:
    payload = ticket(
        subject="<img src=x onerror=alert(1)>",
        body="550 relay not permitted",
        requester={"email": "jo@bakery-hove.co.uk", "name": "<script>alert(1)</script>"},
    )
    html = send(api, payload)["reply"]["html"]
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


# -- diagnostics against the loopback DNS lab ---------------------------------------------


@pytest.fixture
def lab_api(lab: Lab, lab_trust: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = app_settings(
        f"sqlite:///{tmp_path / 'lab.db'}", **lab.settings_values(diagnostics_enabled=True)
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_requester_domain_is_checked_against_loopback_dns(lab_api: TestClient, lab: Lab) -> None:
    payload = ticket(
        body="Every email I send comes back with 550 relay not permitted.",
        requester={"email": f"jo@{lab.domains.external}", "name": "Jo"},
    )
    result = send(lab_api, payload)
    assert result["diagnostics"]["domain"] == lab.domains.external
    assert result["diagnostics"]["causes"][0]["intent"] == "relay.external_dns"
    text = " ".join(result["reply"]["text"].split())
    assert f"When I checked {lab.domains.external}:" in text
    assert "Cause 1 of 4: Relay errors when the domain's DNS is hosted elsewhere" in text


def test_named_domain_beats_free_mail_requester_and_healthy_dns_is_said(
    lab_api: TestClient, lab: Lab
) -> None:
    payload = ticket(
        body=f"Relay access denied when sending from my domain {lab.domains.healthy}",
        requester={"email": "jo.baker@gmail.com", "name": "Jo"},
    )
    result = send(lab_api, payload)
    assert result["diagnostics"]["domain"] == lab.domains.healthy
    assert "so DNS is not the problem" in " ".join(result["reply"]["text"].split())


def test_free_mail_requester_without_a_domain_is_not_checked(lab_api: TestClient) -> None:
    payload = ticket(body="550 relay not permitted", requester={"email": "jo@gmail.com"})
    assert send(lab_api, payload)["diagnostics"] is None


# -- exactly once ----------------------------------------------------------------------------


def test_concurrent_deliveries_give_one_escalation_and_identical_responses(
    database_url: str,
) -> None:
    app = create_app(app_settings(database_url))
    payload = ticket("T-RACE", body="Can I speak to a human please")

    async def deliver() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://rd") as client:
                return await asyncio.gather(*(client.post(URL, json=payload) for _ in range(20)))

    responses = asyncio.run(deliver())
    assert {r.status_code for r in responses} == {200}
    bodies = {r.content for r in responses}
    assert len(bodies) == 1, bodies
    assert json.loads(bodies.pop())["action"] == "escalate"
    assert counts(database_url) == {
        "tickets": 1,
        "conversations": 1,
        "escalations": 1,
        "outbox": 0,
    }


def test_redelivery_after_restart_returns_the_stored_result(database_url: str) -> None:
    payload = ticket("T-42", body="Please put me through to an agent")
    with TestClient(create_app(app_settings(database_url))) as client:
        first = client.post(URL, json=payload)
    with TestClient(create_app(app_settings(database_url))) as client:
        again = client.post(URL, json=payload)
        changed = client.post(URL, json=payload | {"body": "something else"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "conflict"
    assert counts(database_url)["escalations"] == 1


# -- signatures, validation, limits ------------------------------------------------------------


def signed(body: bytes, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-RelayDesk-Timestamp": timestamp,
        "X-RelayDesk-Signature": f"sha256={digest.hexdigest()}",
    }


@pytest.fixture
def signed_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'signed.db'}"


@pytest.fixture
def signed_api(signed_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings(signed_url, webhook_secret=SECRET))) as client:
        yield client


def test_signed_ticket_is_answered(signed_api: TestClient) -> None:
    raw = json.dumps(ticket(body="550 relay not permitted")).encode()
    response = signed_api.post(URL, content=raw, headers=signed(raw))
    assert response.status_code == 200, response.text


def _bad_requests() -> list[tuple[str, bytes, dict[str, str], int, str]]:
    good = json.dumps(ticket(body="550 relay not permitted")).encode()
    missing = json.dumps({"ticket_id": "T-9", "subject": "x"}).encode()
    huge = json.dumps(ticket("T-BIG", body="relay denied " * 170_000)).encode()  # ~2 MB
    now = int(time.time())
    return [
        ("unsigned", good, {"Content-Type": "application/json"}, 401, "not_authenticated"),
        ("wrong secret", good, signed(good, secret="guess"), 401, "not_authenticated"),
        ("tampered", good.replace(b"550", b"551"), signed(good), 401, "not_authenticated"),
        ("stale", good, signed(good, at=now - 3600), 401, "not_authenticated"),
        ("future", good, signed(good, at=now + 3600), 401, "not_authenticated"),
        ("missing fields", missing, signed(missing), 422, "invalid_input"),
        ("not json", b"{nope", signed(b"{nope"), 422, "malformed_json"),
        ("2 MB", huge, signed(huge), 413, "payload_too_large"),
    ]


@pytest.mark.parametrize(
    ("case", "raw", "headers", "status", "code"),
    _bad_requests(),
    ids=[case[0] for case in _bad_requests()],
)
def test_bad_requests_are_refused_and_store_nothing(
    signed_api: TestClient,
    signed_url: str,
    case: str,
    raw: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = signed_api.post(URL, content=raw, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert counts(signed_url) == {"tickets": 0, "conversations": 0, "escalations": 0, "outbox": 0}


def test_missing_fields_are_422_without_a_secret(api: TestClient) -> None:
    response = api.post(URL, json={"ticket_id": "T-1", "body": "hi"})
    assert response.status_code == 422
    assert "subject" in response.json()["error"]["message"]
