"""Conversation sessions and their transcripts.

Every function takes the caller's SQLAlchemy ``session`` and leaves the commit
to the caller (``with sessions.begin() as session: ...``). ``save_session`` is
optimistic: it only writes when the row is still at ``expected_version``::

    convo = get_session(session=s, session_id=sid)
    ...  # run the dialogue engine on convo.state
    save_session(session=s, session_id=sid, state=new_state, status=SessionStatus.ACTIVE,
                 turns=convo.turns + 1, expected_version=convo.version)   # may raise Conflict
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from service.errors import Conflict, NotFound
from service.redact import mask_secrets
from service.store.db import insert_ignoring_conflict, new_id, rowcount, utcnow
from service.store.enums import Channel, Role, SessionStatus
from service.store.tables import Conversation, Message


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    channel: Channel
    external_ref: str | None
    state: dict[str, Any]
    status: SessionStatus
    turns: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MessageRecord:
    session_id: str
    turn: int
    role: Role
    text: str
    intent: str | None
    confidence: float | None
    created_at: datetime


_CONVERSATIONS = cast(Table, Conversation.__table__)
_INSERT_CONVERSATION = insert(_CONVERSATIONS)
_SELECT_BY_ID = select(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("id"))
_INSERT_MESSAGE = insert(cast(Table, Message.__table__))
_SAVE = (
    update(_CONVERSATIONS)
    .where(
        _CONVERSATIONS.c.id == bindparam("session_id"),
        _CONVERSATIONS.c.version == bindparam("expected_version"),
    )
    .values(version=_CONVERSATIONS.c.version + 1)
    .returning(_CONVERSATIONS.c.channel, _CONVERSATIONS.c.external_ref, _CONVERSATIONS.c.created_at)
)


def _conversation(row: Conversation | Row[Any]) -> ConversationRecord:
    """A record from an ORM object or a Core row of the conversations table."""
    return ConversationRecord(
        id=row.id,
        channel=Channel(row.channel),
        external_ref=row.external_ref,
        state=row.state,
        status=SessionStatus(row.status),
        turns=row.turns,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def new_session(
    *, channel: Channel, external_ref: str | None = None, now: datetime | None = None
) -> ConversationRecord:
    """A session that exists only in memory until ``create_session`` stores it.

    Its version is 0: a chat turn that starts a conversation writes the row
    once, with the turn, instead of creating it first and updating it after.
    """
    now = now or utcnow()
    return ConversationRecord(
        id=new_id(),
        channel=channel,
        external_ref=external_ref,
        state={},
        status=SessionStatus.ACTIVE,
        turns=0,
        version=0,
        created_at=now,
        updated_at=now,
    )


def insert_session(
    *, session: Session, record: ConversationRecord, now: datetime | None = None
) -> ConversationRecord:
    """Store a session made by ``new_session`` (with whatever state it has by now) at
    version 1."""
    stored = replace(record, version=1, updated_at=now or utcnow())
    session.connection().execute(_INSERT_CONVERSATION, _values(stored))
    return stored


def create_session(
    *,
    session: Session,
    channel: Channel,
    external_ref: str | None = None,
    state: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> ConversationRecord:
    """Store a new active session at version 1 with no turns."""
    record = new_session(channel=channel, external_ref=external_ref, now=now)
    return insert_session(session=session, record=replace(record, state=state or {}), now=now)


def _values(record: ConversationRecord) -> dict[str, Any]:
    """A record as the conversations table's column values."""
    return {
        "id": record.id,
        "channel": str(record.channel),
        "external_ref": record.external_ref,
        "state": record.state,
        "status": str(record.status),
        "turns": record.turns,
        "version": record.version,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def get_session(*, session: Session, session_id: str) -> ConversationRecord | None:
    """The session, or None when it does not exist (or was purged)."""
    # Core, not ORM: a chat turn reads its session every time, and the ORM's identity
    # map and object loading cost more than the query.
    row = session.connection().execute(_SELECT_BY_ID, {"id": session_id}).first()
    return _conversation(row) if row else None


def get_session_by_ref(
    *, session: Session, channel: Channel, external_ref: str
) -> ConversationRecord | None:
    """The session bound to an outside conversation (a Chatwoot id, a ticket id)."""
    query = select(Conversation).where(
        Conversation.channel == channel, Conversation.external_ref == external_ref
    )
    row = session.execute(query.execution_options(populate_existing=True)).scalar()
    return _conversation(row) if row else None


def ensure_session_by_ref(
    *, session: Session, channel: Channel, external_ref: str, now: datetime | None = None
) -> ConversationRecord:
    """The session bound to ``external_ref``, created if missing; race-safe.

    Two concurrent webhooks for one new Chatwoot conversation get one session.
    """
    fresh = new_session(channel=channel, external_ref=external_ref, now=now)
    insert_ignoring_conflict(session, Conversation, _values(replace(fresh, version=1)))
    found = get_session_by_ref(session=session, channel=channel, external_ref=external_ref)
    if found is None:  # purged between our insert and read
        raise Conflict(f"session for {channel}:{external_ref} vanished; retry")
    return found


def save_session(
    *,
    session: Session,
    session_id: str,
    state: dict[str, Any],
    status: SessionStatus,
    turns: int,
    expected_version: int,
    now: datetime | None = None,
) -> ConversationRecord:
    """Write the engine's new state if nobody wrote since ``expected_version``.

    Raises ``Conflict`` when another process saved first, ``NotFound`` when
    the session is gone.
    """
    now = now or utcnow()
    row = (
        session.connection()
        .execute(
            _SAVE,
            {
                "session_id": session_id,
                "expected_version": expected_version,
                "state": state,
                "status": status,
                "turns": turns,
                "updated_at": now,
            },
        )
        .first()
    )
    if row is None:
        current = get_session(session=session, session_id=session_id)
        if current is None:
            raise NotFound(f"session {session_id} not found")
        raise Conflict(
            f"session {session_id} is at version {current.version}, not {expected_version}"
        )
    return ConversationRecord(
        id=session_id,
        channel=Channel(row.channel),
        external_ref=row.external_ref,
        state=state,
        status=status,
        turns=turns,
        version=expected_version + 1,
        created_at=row.created_at,
        updated_at=now,
    )


def message_record(
    *,
    session_id: str,
    turn: int,
    role: Role,
    text: str,
    intent: str | None = None,
    confidence: float | None = None,
    now: datetime | None = None,
) -> MessageRecord:
    """A transcript line ready to store, ``text`` masked with ``mask_secrets``."""
    return MessageRecord(
        session_id=session_id,
        turn=turn,
        role=role,
        text=mask_secrets(text),
        intent=intent,
        confidence=confidence,
        created_at=now or utcnow(),
    )


def add_messages(*, session: Session, records: Sequence[MessageRecord]) -> None:
    """Append transcript lines (built by ``message_record``) in one statement."""
    # Core, not ORM: the unit of work costs more than the write itself here.
    session.connection().execute(
        _INSERT_MESSAGE,
        [
            {
                "session_id": record.session_id,
                "turn": record.turn,
                "role": record.role,
                "text": record.text,
                "intent": record.intent,
                "confidence": record.confidence,
                "created_at": record.created_at,
            }
            for record in records
        ],
    )


def add_message(
    *,
    session: Session,
    session_id: str,
    turn: int,
    role: Role,
    text: str,
    intent: str | None = None,
    confidence: float | None = None,
    now: datetime | None = None,
) -> MessageRecord:
    """Append one transcript line; ``text`` is masked with ``mask_secrets`` first."""
    record = message_record(
        session_id=session_id,
        turn=turn,
        role=role,
        text=text,
        intent=intent,
        confidence=confidence,
        now=now,
    )
    add_messages(session=session, records=[record])
    return record


def _message(row: Message) -> MessageRecord:
    return MessageRecord(
        session_id=row.session_id,
        turn=row.turn,
        role=Role(row.role),
        text=row.text,
        intent=row.intent,
        confidence=row.confidence,
        created_at=row.created_at,
    )


def transcript(*, session: Session, session_id: str) -> list[MessageRecord]:
    """The session's messages in the order they were added."""
    rows = session.execute(
        select(Message).where(Message.session_id == session_id).order_by(Message.id)
    ).scalars()
    return [_message(row) for row in rows]


def purge_older_than(*, session: Session, days: int, now: datetime | None = None) -> int:
    """Delete sessions last updated more than ``days`` ago, with their messages
    and feedback; return how many sessions went. Escalations keep their snapshot."""
    if days < 0:
        raise ValueError("days must not be negative")
    cutoff = (now or utcnow()) - timedelta(days=days)
    # Messages and feedback go with their session: ON DELETE CASCADE, which
    # make_engine switches on for SQLite too (PRAGMA foreign_keys).
    result = session.execute(delete(Conversation).where(Conversation.updated_at < cutoff))
    return rowcount(result)


def count_sessions(*, session: Session) -> int:
    """How many sessions are stored."""
    return session.execute(select(func.count()).select_from(Conversation)).scalar_one()
