"""Initial schema: conversations, messages, escalations, feedback, tickets, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types (migrations never import the live models).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("state", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        ts("created_at"),
        ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.UniqueConstraint(
            "channel", "external_ref", name="uq_conversations_channel_external_ref"
        ),
    )
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_index("ix_conversations_status", "conversations", ["status"])
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])

    op.create_table(
        "messages",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        ts("created_at"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["conversations.id"],
            name="fk_messages_session_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.create_index("ix_messages_intent", "messages", ["intent"])
    op.create_index("ix_messages_session_turn", "messages", ["session_id", "turn"])

    op.create_table(
        "escalations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("intent", sa.String(100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities", JSON, nullable=False),
        sa.Column("transcript", JSON, nullable=False),
        sa.Column("diagnostics", JSON, nullable=True),
        sa.Column("steps_tried", JSON, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        ts("created_at"),
        ts("updated_at"),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        ts("claimed_at", nullable=True),
        ts("resolved_at", nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_escalations"),
        sa.UniqueConstraint("number", name="uq_escalations_number"),
    )
    op.create_index("ix_escalations_created_id", "escalations", ["created_at", "id"])
    op.create_index("ix_escalations_session_id", "escalations", ["session_id"])
    op.create_index(
        "ix_escalations_status_created_id", "escalations", ["status", "created_at", "id"]
    )

    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    op.bulk_insert(counters, [{"name": "escalation", "value": 0}])

    op.create_table(
        "feedback",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        ts("created_at"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["conversations.id"],
            name="fk_feedback_session_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])
    op.create_index("ix_feedback_session_id", "feedback", ["session_id"])

    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", JSON, nullable=True),
        ts("created_at"),
        ts("completed_at", nullable=True),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_tickets"),
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("key", sa.String(255), nullable=False),
        ts("created_at"),
        sa.PrimaryKeyConstraint("key", name="pk_webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_created_at", "webhook_deliveries", ["created_at"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        ts("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        ts("created_at"),
        ts("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in (
        "outbox",
        "webhook_deliveries",
        "tickets",
        "feedback",
        "counters",
        "escalations",
        "messages",
        "conversations",
    ):
        op.drop_table(table)
