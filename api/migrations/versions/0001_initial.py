"""The first schema: keys and their teams, audits, their records and findings, the access log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, index=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "key_teams",
        sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("team", sa.String(200), primary_key=True),
    )
    op.create_table(
        "audits",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("submitted_by", sa.Integer, sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("versions", sa.JSON, nullable=False),
        sa.UniqueConstraint("submitted_by", "idempotency_key"),
    )
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "audit_id", sa.String(36), sa.ForeignKey("audits.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("record_type", sa.String(20), nullable=False),
        sa.Column("plan_type", sa.String(20), nullable=True),
        sa.Column("team", sa.String(200), nullable=True, index=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("child_id", sa.String(200), nullable=True),
        sa.Column("la_code", sa.String(20), nullable=True),
        sa.Column("recorded_at", sa.String(10), nullable=True),
        sa.Column("plan_start_date", sa.String(10), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("score", sa.Integer, nullable=True),
        sa.Column("grade", sa.String(30), nullable=True),
        sa.UniqueConstraint("audit_id", "record_id"),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "audit_record_id",
            sa.Integer,
            sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("rule_id", sa.String(10), nullable=False, index=True),
        sa.Column("category", sa.String(40), nullable=False, index=True),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("suggestion", sa.Text, nullable=False),
        sa.Column("citation", sa.Text, nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("explanation", sa.Text, nullable=True),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("audit_id", sa.String(36), nullable=True, index=True),
        sa.Column("action", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in ("access_log", "findings", "audit_records", "audits", "key_teams", "api_keys"):
        op.drop_table(table)
