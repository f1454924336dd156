"""Load and validate ``intents/*.yaml``; any problem names the file and the field."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from service.errors import KnowledgeBaseError
from service.kb.models import INTENT_IDS, Intent, KnowledgeBase
from service.nlu.normalise import normalise


def _load_intent(path: Path) -> Intent:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"cannot read file ({exc})", path=str(path)) from exc
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"not valid YAML ({exc})", path=str(path)) from exc
    if not isinstance(raw, dict):
        raise KnowledgeBaseError("expected a mapping at the top level", path=str(path))
    try:
        intent = Intent.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise KnowledgeBaseError(first["msg"], path=str(path), field=field) from exc
    for index, cue in enumerate(intent.cues):
        try:
            re.compile(cue.pattern)
        except re.error as exc:
            raise KnowledgeBaseError(
                f"invalid regular expression ({exc})", path=str(path), field=f"cues.{index}.pattern"
            ) from exc
    return intent


def load_knowledge_base(directory: Path) -> KnowledgeBase:
    """Read every ``*.yaml`` in ``directory`` and check the set as a whole.

    >>> kb = load_knowledge_base(Path("intents"))
    >>> kb.get("relay.auth").id
    'relay.auth'
    """
    if not directory.is_dir():
        raise KnowledgeBaseError("intents directory not found", path=str(directory))
    intents: dict[str, Intent] = {}
    sources: dict[str, Path] = {}
    claimed: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        intent = _load_intent(path)
        if intent.id in intents:
            raise KnowledgeBaseError(
                f"intent {intent.id!r} is also defined in {sources[intent.id].name}",
                path=str(path),
                field="id",
            )
        for index, example in enumerate(intent.examples):
            key = normalise(example)
            owner = claimed.setdefault(key, intent.id)
            if owner != intent.id:
                raise KnowledgeBaseError(
                    f"training example {example!r} is also claimed by {owner}",
                    path=str(path),
                    field=f"examples.{index}",
                )
        intents[intent.id] = intent
        sources[intent.id] = path
    missing = [intent_id for intent_id in INTENT_IDS if intent_id not in intents]
    if missing:
        raise KnowledgeBaseError(f"missing intents: {', '.join(missing)}", path=str(directory))
    for intent in intents.values():
        for related in intent.answer.related:
            if related not in intents:
                raise KnowledgeBaseError(
                    f"unknown related intent {related!r}",
                    path=str(sources[intent.id]),
                    field="answer.related",
                )
    return KnowledgeBase(intents=intents)
