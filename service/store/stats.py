"""Figures for ``GET /v1/stats``.

Definitions (all over sessions/feedback/messages created at or after ``since``):

- ``conversations``: sessions started;
- ``resolved_by_bot`` / ``escalated``: of those, sessions now ``resolved`` / ``escalated``;
- ``deflection_rate``: resolved / (resolved + escalated) — sessions still
  active are undecided and left out; None when nothing was decided;
- ``helpful_rate``: helpful answers / all feedback answers; None without feedback;
- ``intents``: customer messages per recognised intent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.enums import Role, SessionStatus
from service.store.tables import Conversation, Feedback, Message


@dataclass(frozen=True, slots=True)
class Stats:
    since: datetime | None
    conversations: int
    resolved_by_bot: int
    escalated: int
    deflection_rate: float | None
    feedback: int
    helpful_rate: float | None
    intents: dict[str, int]


def compute_stats(*, session: Session, since: datetime | None = None) -> Stats:
    """The figures, over everything or only what was created at or after ``since``."""
    sessions_query = select(Conversation.status, func.count()).group_by(Conversation.status)
    feedback_query = select(Feedback.helpful, func.count()).group_by(Feedback.helpful)
    intents_query = (
        select(Message.intent, func.count())
        .where(Message.role == Role.CUSTOMER, Message.intent.is_not(None))
        .group_by(Message.intent)
    )
    if since is not None:
        sessions_query = sessions_query.where(Conversation.created_at >= since)
        feedback_query = feedback_query.where(Feedback.created_at >= since)
        intents_query = intents_query.where(Message.created_at >= since)

    by_status = {str(status): count for status, count in session.execute(sessions_query)}
    by_helpful = {bool(helpful): count for helpful, count in session.execute(feedback_query)}
    intents = {str(intent): count for intent, count in session.execute(intents_query)}

    resolved = by_status.get(SessionStatus.RESOLVED, 0)
    escalated = by_status.get(SessionStatus.ESCALATED, 0)
    answers = sum(by_helpful.values())
    return Stats(
        since=since,
        conversations=sum(by_status.values()),
        resolved_by_bot=resolved,
        escalated=escalated,
        deflection_rate=resolved / (resolved + escalated) if resolved + escalated else None,
        feedback=answers,
        helpful_rate=by_helpful.get(True, 0) / answers if answers else None,
        intents=dict(sorted(intents.items(), key=lambda item: (-item[1], item[0]))),
    )
