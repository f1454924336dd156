"""The knowledge base: intents/ loaded into typed models, validated once at start-up."""

from service.kb.loader import load_knowledge_base
from service.kb.models import Answer, Intent, KnowledgeBase, MailClient

__all__ = ["Answer", "Intent", "KnowledgeBase", "MailClient", "load_knowledge_base"]
