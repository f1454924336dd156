"""Conversations whose ladder is decided by live checks against the loopback DNS/SMTP lab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.lab import DOMAINS, Lab
from support.paths import INTENTS

from service.main import create_app
from service.settings import Settings


@pytest.fixture
def api(lab: Lab, lab_trust: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        **lab.settings_values(),
        intents_dir=INTENTS,
        database_url=f"sqlite:///{tmp_path / 'chat.db'}",
        diagnostics_enabled=True,
        chat_rate_limit="1000/minute",
    )
    with TestClient(create_app(settings)) as client:
        yield client


def say(api: TestClient, message: str, session_id: str | None = None, **extra: Any) -> Any:
    response = api.post("/v1/chat", json={"session_id": session_id, "message": message, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_diagnostics_cut_straight_to_external_dns(api: TestClient) -> None:
    body = say(api, f"550 relay not permitted when I send as jo@{DOMAINS.external}")
    assert body["diagnostics"]["domain"] == DOMAINS.external
    assert body["diagnostics"]["causes"][0]["intent"] == "relay.external_dns"
    assert body["reply"]["article"]["intent"] == "relay.external_dns"
    assert f"I checked {DOMAINS.external}" in body["reply"]["text"]


def test_healthy_domain_skips_the_dns_rungs(api: TestClient) -> None:
    first = say(api, "relaying denied from thunderbird", domain=DOMAINS.healthy)
    assert first["diagnostics"]["domain"] == DOMAINS.healthy
    assert first["reply"]["article"]["intent"] == "relay.auth"
    assert "DNS is not the problem" in first["reply"]["text"]
    session = first["session_id"]
    seen = [first["reply"]["article"]["intent"]]
    body = first
    for _ in range(4):
        body = say(api, "still failing", session)
        if body["escalation"]:
            break
        seen.append(body["reply"]["article"]["intent"])
    assert not {"relay.dns_propagation", "relay.external_dns"} & set(seen)
    assert body["escalation"] is not None


def test_asked_domain_then_checked(api: TestClient) -> None:
    first = say(api, "relay access denied", client="outlook")
    session = first["session_id"]
    say(api, "still failing", session)  # auth -> port 587
    asked = say(api, "still failing", session)
    assert asked["state"] == "awaiting_domain"
    answered = say(api, f"it's {DOMAINS.external}", session)
    assert answered["diagnostics"]["domain"] == DOMAINS.external
    assert answered["reply"]["article"]["intent"] == "relay.external_dns"


def test_free_mail_address_is_not_checked(api: TestClient) -> None:
    body = say(api, "relay not permitted, I'm jo.bloggs@gmail.com")
    assert body["diagnostics"] is None
