"""The knowledge base loads, and a bad file stops start-up naming the file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from service.errors import KnowledgeBaseError
from service.kb import KnowledgeBase, load_knowledge_base
from service.kb.models import INTENT_IDS, MailClient
from service.main import create_app
from service.settings import Settings

INTENTS = Path(__file__).resolve().parents[2] / "intents"
ARTICLE_CLIENTS = {"relay.auth", "relay.port_blocked", "mail.client_setup", "mail.smtp_server"}


def test_every_contract_intent_is_present(knowledge_base: KnowledgeBase) -> None:
    assert set(knowledge_base.intents) == set(INTENT_IDS)


def test_articles_are_complete(knowledge_base: KnowledgeBase) -> None:
    for intent in knowledge_base.intents.values():
        if intent.id.startswith(("relay.", "mail.")):
            assert len(intent.examples) >= 30, intent.id
            assert intent.answer.steps, intent.id
            assert intent.answer.follow_up, intent.id
        if intent.id in ARTICLE_CLIENTS:
            assert set(intent.answer.client_steps) == set(MailClient), intent.id


def test_steps_for_client_falls_back_to_general(knowledge_base: KnowledgeBase) -> None:
    answer = knowledge_base.get("relay.auth").answer
    assert answer.steps_for("thunderbird") == answer.client_steps[MailClient.THUNDERBIRD]
    assert answer.steps_for(None) == answer.steps
    assert answer.steps_for("lotus-notes") == answer.steps


@pytest.fixture
def intents_copy(tmp_path: Path) -> Path:
    target = tmp_path / "intents"
    shutil.copytree(INTENTS, target)
    return target


def _edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("file", "change", "field"),
    [
        ("relay.auth.yaml", {"title": 123}, "title"),
        ("relay.auth.yaml", {"examples": ["too few"]}, None),
        ("mail.size_limit.yaml", {"colour": "blue"}, "colour"),
        ("relay.auth.yaml", {"cues": [{"pattern": "(unclosed", "weight": 0.2}]}, "cues.0.pattern"),
        ("relay.auth.yaml", {"id": "relay.made_up"}, None),
    ],
)
def test_bad_file_names_file_and_field(
    intents_copy: Path, file: str, change: dict[str, object], field: str | None
) -> None:
    _edit(intents_copy / file, **change)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(intents_copy)
    assert file in str(caught.value)
    if field:
        assert field in str(caught.value)


def test_invalid_yaml_and_duplicate_example(intents_copy: Path) -> None:
    (intents_copy / "broken.yaml").write_text("id: [unclosed\n")
    with pytest.raises(KnowledgeBaseError, match="broken.yaml.*not valid YAML"):
        load_knowledge_base(intents_copy)
    (intents_copy / "broken.yaml").unlink()

    auth = yaml.safe_load((intents_copy / "relay.auth.yaml").read_text())
    port = intents_copy / "relay.port_blocked.yaml"
    data = yaml.safe_load(port.read_text())
    data["examples"].append(auth["examples"][0].upper())
    port.write_text(yaml.safe_dump(data))
    with pytest.raises(KnowledgeBaseError, match="also claimed by relay.auth"):
        load_knowledge_base(intents_copy)


def test_create_app_refuses_a_bad_knowledge_base(intents_copy: Path, tmp_path: Path) -> None:
    (intents_copy / "chat.thanks.yaml").unlink()
    with pytest.raises(KnowledgeBaseError, match="missing intents: chat.thanks"):
        create_app(Settings(intents_dir=intents_copy, database_url=f"sqlite:///{tmp_path}/x.db"))
