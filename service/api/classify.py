"""``POST /v1/classify``: what a message is about, how sure we are, what it contains."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import ClassifierDep, KnowledgeBaseDep
from service.kb.articles import Article, article_for
from service.nlu.understanding import Action, Entities, Scored

router = APIRouter(prefix="/v1", tags=["classify"])


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "550 relay not permitted"}]})

    text: str = Field(min_length=1, max_length=10_000, description="The customer's message.")


class ClassifyResponse(BaseModel):
    intent: str
    confidence: float = Field(ge=0.0, le=1.0)
    action: Action
    alternatives: list[Scored] = Field(description="The next best intents, at most 3.")
    entities: Entities
    article: Article | None = Field(description="The answer, only when action is answer.")


@router.post("/classify", response_model=ClassifyResponse)
async def classify(
    request: ClassifyRequest, classifier: ClassifierDep, kb: KnowledgeBaseDep
) -> ClassifyResponse:
    """Classify one customer message and, when confident, return its article."""
    # Inline, not in a worker thread: it is pure CPU (under 1 ms for most messages,
    # about 8 ms at the 10,000-character limit), which a thread would not run any
    # sooner under the GIL, and the hop itself costs about half a millisecond.
    understanding = classifier.understand(request.text)
    article = (
        article_for(kb, understanding.intent, understanding.entities.client)
        if understanding.action is Action.ANSWER
        else None
    )
    return ClassifyResponse(
        intent=understanding.intent,
        confidence=understanding.confidence,
        action=understanding.action,
        alternatives=understanding.alternatives,
        entities=understanding.entities,
        article=article,
    )
