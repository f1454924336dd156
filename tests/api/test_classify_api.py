"""/v1/classify through the real ASGI app."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service.main import ROUTERS, create_app
from service.settings import Settings

ENTITY_FIELDS = {"domain", "email", "client", "isp", "port", "smtp_code", "enhanced_code"}


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["intents"] == 16


def test_dependencies_run_on_the_event_loop(settings: Settings) -> None:
    # A plain-def dependency costs a worker-thread hop per request, and any
    # dependency_overrides entry makes FastAPI re-inspect every dependency per request.
    app = create_app(settings)
    assert app.dependency_overrides == {}

    def calls(dependant: Dependant) -> Iterator[Callable[..., object]]:
        for sub in dependant.dependencies:
            assert sub.call is not None
            yield sub.call
            yield from calls(sub)

    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    dependencies = {call for route in routes for call in calls(route.dependant)}
    assert dependencies
    assert [d for d in dependencies if not inspect.iscoroutinefunction(d)] == []


def test_classify_contract(client: TestClient) -> None:
    response = client.post(
        "/v1/classify",
        json={
            "text": "Outlook says 550 relay not permitted when I send. The 'My outgoing server "
            "requires authentication' box is unticked - should I tick it?"
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["intent"] == "relay.auth"
    assert body["action"] == "answer"
    assert 0.0 <= body["confidence"] <= 1.0
    assert ENTITY_FIELDS <= set(body["entities"])
    assert body["entities"]["client"] == "outlook"
    assert body["entities"]["smtp_code"] == "550"
    assert 0 < len(body["alternatives"]) <= 3
    assert all(a["confidence"] <= body["confidence"] for a in body["alternatives"])
    article = body["article"]
    assert article["intent"] == "relay.auth"
    assert article["title"] and article["summary"] and article["steps"]
    # Tailored: the Outlook variant of the steps, not the generic ones.
    assert any("Outlook" in step or "More Settings" in step for step in article["steps"])


def test_escalation_has_no_article(client: TestClient) -> None:
    body = client.post("/v1/classify", json={"text": "can I speak to a human please"}).json()
    assert body["intent"] == "handoff.human"
    assert body["action"] == "escalate"
    assert body["article"] is None


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"text": ""}, "invalid_input"),
        ({"text": "x" * 10_001}, "invalid_input"),
        ({"text": 42}, "invalid_input"),
        ({"text": None}, "invalid_input"),
        ({}, "invalid_input"),
        ([], "invalid_input"),
        ("just a string", "invalid_input"),
        ({"text": ["a", "list"]}, "invalid_input"),
    ],
)
def test_bad_input_is_a_clear_4xx(client: TestClient, payload: object, code: str) -> None:
    response = client.post("/v1/classify", json=payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"text": "unterminated', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"text=hello", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
def test_malformed_bodies(client: TestClient, content: bytes, content_type: str) -> None:
    response = client.post("/v1/classify", content=content, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert error["code"] in {"malformed_json", "invalid_input"}
    assert error["message"]


def test_unknown_route_and_method(client: TestClient) -> None:
    assert client.get("/v1/nope").json()["error"]["code"] == "not_found"
    response = client.get("/v1/classify")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_openapi_describes_classify(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/v1/classify"]["post"]
    assert "requestBody" in operation
    response_schema = schema["components"]["schemas"]["ClassifyResponse"]
    assert {"intent", "confidence", "action", "alternatives", "entities", "article"} <= set(
        response_schema["properties"]
    )
