"""Real ``relaydesk serve`` processes: shared PostgreSQL, restarts, purging."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from support.databases import SESSION_TAG, PostgresServer
from support.serve import RELAYDESK, serving

KEY = "ops-key"


def call(url: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={"content-type": "application/json", "authorization": f"Bearer {KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def env_for(database_url: str) -> dict[str, str]:
    return {
        "RELAYDESK_DATABASE_URL": database_url,
        "RELAYDESK_DIAGNOSTICS_ENABLED": "false",
        "RELAYDESK_API_KEYS": KEY,
    }


@pytest.mark.postgres
def test_two_processes_share_one_postgresql(postgres_server: PostgresServer) -> None:
    schema = f"rd_test_{SESSION_TAG}_processes"
    postgres_server.execute(f'CREATE SCHEMA "{schema}"')
    try:
        _two_processes(env_for(postgres_server.schema_url(schema)))
    finally:
        postgres_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _two_processes(env: dict[str, str]) -> None:
    with serving(env) as first, serving(env) as second:
        started = call(first, "/v1/chat", {"message": "550 relay not permitted"})
        assert started["state"] == "awaiting_client"
        session = started["session_id"]
        continued = call(second, "/v1/chat", {"session_id": session, "message": "Thunderbird"})
        assert continued["session_id"] == session and continued["turn"] == 2
        assert continued["reply"]["article"]["intent"] == "relay.auth"
        escalated = call(first, "/v1/chat", {"session_id": session, "message": "get me a human"})
        reference = escalated["escalation"]["reference"]
        seen = call(second, f"/v1/escalations/{escalated['escalation']['id']}")
        assert seen["reference"] == reference
        transcript = call(second, f"/v1/sessions/{session}")
        assert [m["turn"] for m in transcript["messages"]] == [1, 1, 2, 2, 3, 3]


def test_restart_keeps_everything_and_purge_removes_old_transcripts(tmp_path: Path) -> None:
    database = tmp_path / "relaydesk.db"
    env = env_for(f"sqlite:///{database}")
    with serving(env) as url:
        session = call(url, "/v1/chat", {"message": "relay access denied"})["session_id"]
        escalation = call(url, "/v1/chat", {"message": "operator"})["escalation"]
    with serving(env) as url:
        assert call(url, f"/v1/sessions/{session}")["turns"] == 1
        assert call(url, f"/v1/escalations/{escalation['id']}")["status"] == "open"

    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE conversations SET updated_at = '2020-01-01 00:00:00.000000' WHERE id = ?",
            (session,),
        )
    result = subprocess.run(
        [RELAYDESK, "purge", "--older-than", "30"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "removed 1 conversation" in result.stdout
    with serving(env) as url:
        with pytest.raises(urllib.error.HTTPError) as gone:
            call(url, f"/v1/sessions/{session}")
        assert gone.value.code == 404
        gone.value.close()
        assert call(url, f"/v1/escalations/{escalation['id']}")["transcript"]


def test_purge_rejects_bad_days() -> None:
    result = subprocess.run(
        [RELAYDESK, "purge", "--older-than", "0"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "at least 1" in result.stderr
