"""Answers to "Was this helpful?"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.redact import mask_secrets
from service.store.db import utcnow
from service.store.tables import Conversation, Feedback


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    session_id: str
    helpful: bool
    comment: str | None
    created_at: datetime


def add_feedback(
    *,
    session: Session,
    session_id: str,
    helpful: bool,
    comment: str | None = None,
    now: datetime | None = None,
) -> FeedbackRecord:
    """Record feedback on a session (comment masked); ``NotFound`` for an unknown session."""
    exists = session.execute(select(Conversation.id).where(Conversation.id == session_id)).first()
    if exists is None:
        raise NotFound(f"session {session_id} not found")
    row = Feedback(
        session_id=session_id,
        helpful=helpful,
        comment=mask_secrets(comment) if comment is not None else None,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return FeedbackRecord(row.session_id, row.helpful, row.comment, row.created_at)


def list_feedback(*, session: Session, session_id: str) -> list[FeedbackRecord]:
    """A session's feedback, oldest first."""
    rows = session.execute(
        select(Feedback).where(Feedback.session_id == session_id).order_by(Feedback.id)
    ).scalars()
    return [FeedbackRecord(r.session_id, r.helpful, r.comment, r.created_at) for r in rows]
