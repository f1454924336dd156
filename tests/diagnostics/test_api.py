"""``POST /v1/diagnose`` through the real ASGI app (lifespan included) against the lab."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from support.lab import Lab

from service.main import create_app
from service.settings import Settings


@pytest.fixture
def lab_settings(settings: Settings, lab: Lab, lab_trust: object) -> Settings:
    values = lab.settings_values(diagnostics_enabled=True, diagnostics_rate_limit="4/minute")
    return settings.model_copy(update=values)


@pytest.fixture
def api(lab_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(lab_settings)) as client:
        yield client


def test_diagnosis_follows_the_contract(api: TestClient, lab: Lab) -> None:
    response = api.post("/v1/diagnose", json={"domain": lab.domains.external})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"domain", "checks", "causes", "elapsed_ms", "cached"}
    assert body["domain"] == lab.domains.external and body["cached"] is False
    assert [c["id"] for c in body["checks"]] == [
        "domain",
        "nameservers",
        "mx",
        "mail_host",
        "soa_serials",
        "propagation",
        "smtp_587",
        "smtp_465",
        "smtp_25",
        "relay_policy",
    ]
    for check in body["checks"]:
        assert set(check) == {"id", "status", "summary", "data", "elapsed_ms"}
        assert check["status"] in {"pass", "warn", "fail", "error", "skipped"}
    cause = body["causes"][0]
    assert set(cause) == {"intent", "confidence", "evidence"}
    assert cause["intent"] == "relay.external_dns" and cause["confidence"] >= 0.9

    again = api.post("/v1/diagnose", json={"domain": lab.domains.external.upper()})
    assert again.json()["cached"] is True


@pytest.mark.parametrize("domain", ["not a domain", "192.0.2.1", "localhost", "a..b.test"])
def test_invalid_domain_is_422(api: TestClient, domain: str) -> None:
    response = api.post("/v1/diagnose", json={"domain": domain})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_domain"


def test_missing_domain_is_422_invalid_input(api: TestClient) -> None:
    response = api.post("/v1/diagnose", json={})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_too_many_requests_is_429_with_retry_after(api: TestClient, lab: Lab) -> None:
    for _ in range(4):
        assert api.post("/v1/diagnose", json={"domain": lab.domains.missing}).status_code == 200
    response = api.post("/v1/diagnose", json={"domain": lab.domains.missing})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_silent_server_answers_within_the_budget(
    settings: Settings, lab: Lab, lab_trust: object
) -> None:
    budget = 1.0
    values = lab.settings_values(diagnostics_enabled=True, diagnostics_budget_s=budget)
    with TestClient(create_app(settings.model_copy(update=values))) as client:
        started = time.perf_counter()
        response = client.post("/v1/diagnose", json={"domain": lab.domains.silent_mail})
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed < budget * 1.1 + 0.05
    checks = {c["id"]: c for c in response.json()["checks"]}
    assert checks["smtp_587"]["status"] == "error"
    assert "did not answer" in checks["smtp_587"]["summary"]
    assert checks["smtp_25"]["status"] == "fail"  # a closed port is a definite no


def test_cli_prints_the_same_diagnosis(
    lab: Lab, lab_trust: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.cli import main
    from service.settings import get_settings

    for name, value in lab.settings_values().items():
        text = ",".join(value) if isinstance(value, list) else str(value)
        monkeypatch.setenv(f"RELAYDESK_{name.upper()}", text)
    get_settings.cache_clear()
    try:
        assert main(["diagnose", lab.domains.healthy, "--json"]) == 0
        body = json.loads(capsys.readouterr().out)
        assert body["domain"] == lab.domains.healthy and len(body["checks"]) == 10
        assert main(["diagnose", lab.domains.external]) == 0
        text = capsys.readouterr().out
        assert "relay.external_dns" in text and "fail" in text
        assert main(["diagnose", "not a domain"]) == 2
    finally:
        get_settings.cache_clear()
