"""The project's outer shell: the Dockerfile, the README's two commands, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.serve import RELAYDESK as RELAYDESK_SCRIPT
from support.serve import free_port, serving

ROOT = Path(__file__).resolve().parent.parent
RELAYDESK = [RELAYDESK_SCRIPT]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "Dockerfile").read_text()
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert '"relaydesk", "serve", "--host", "0.0.0.0"' in text


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    block = readme[readme.index("```sh") + 1 : readme.index("```sh") + 3]
    assert block[0].startswith("make serve") and block[1].startswith("make test")
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serving({"RELAYDESK_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db"}, cwd=tmp_path) as url:
        yield url


def test_serve_answers_healthz_and_classify(served: str) -> None:
    with urllib.request.urlopen(f"{served}/healthz", timeout=5) as response:
        assert json.load(response) == {"status": "ok"}
    request = urllib.request.Request(
        f"{served}/v1/classify",
        data=json.dumps({"text": "relay access denied"}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)["intent"].startswith("relay.")


def test_serve_refuses_to_start_with_a_broken_knowledge_base(tmp_path: Path) -> None:
    intents = tmp_path / "intents"
    shutil.copytree(ROOT / "intents", intents)
    (intents / "relay.auth.yaml").write_text("id: relay.auth\ntitle: [\n")
    result = subprocess.run(
        [*RELAYDESK, "serve", "--port", str(free_port())],
        env={**os.environ, "RELAYDESK_INTENTS_DIR": str(intents)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "relay.auth.yaml" in result.stderr and "not valid YAML" in result.stderr


def test_check_kb_lists_intents() -> None:
    result = subprocess.run([*RELAYDESK, "check-kb"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "ok: 16 intents" in result.stdout


def test_eval_json_and_errors_file(tmp_path: Path) -> None:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {
                    "text": "how do I make a new mailbox for our accountant",
                    "intent": "mail.create_mailbox",
                },
                {"text": "please put me through to a real person", "intent": "handoff.human"},
                {"text": "thanks a lot!", "intent": "chat.greeting"},
            ]
        )
    )
    errors = tmp_path / "errors.json"
    result = subprocess.run(
        [*RELAYDESK, "eval", str(labelled), "--json", "--errors", str(errors)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["examples"] == 3
    assert report["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    for key in ("macro_f1", "per_intent", "confusion", "top_confusions", "wrong_answer_rate"):
        assert key in report
    assert report["latency_ms_p99"] >= report["latency_ms_p50"] > 0
    misses = json.loads(errors.read_text())
    assert [m["intent"] for m in misses] == ["chat.greeting"]
    assert misses[0]["intent_prediction"]["name"] == "chat.thanks"


def test_eval_reports_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no label"}\n')
    result = subprocess.run([*RELAYDESK, "eval", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "bad.jsonl:1" in result.stderr
