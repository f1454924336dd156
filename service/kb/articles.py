"""An intent's answer as an article, tailored to the customer's mail client."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from service.kb.models import KnowledgeBase


class Article(BaseModel):
    """What a channel shows for an answered intent."""

    model_config = ConfigDict(frozen=True)

    intent: str
    title: str
    summary: str
    steps: list[str]
    client: str | None = None
    follow_up: str | None = None


def article_for(kb: KnowledgeBase, intent_id: str, client: str | None = None) -> Article:
    """The intent's article, with the client's own steps when the article has them."""
    intent = kb.get(intent_id)
    tailored = client if client and client in intent.answer.client_steps else None
    return Article(
        intent=intent.id,
        title=intent.title,
        summary=intent.answer.summary,
        steps=intent.answer.steps_for(client),
        client=tailored,
        follow_up=intent.answer.follow_up,
    )
