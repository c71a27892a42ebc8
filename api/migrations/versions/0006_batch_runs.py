"""The nightly batch (issue 6): its runs, their checkpoints and quarantined rows, each record's
content hash (what makes a rerun incremental) and the history of its scored versions, one lease
row that lets one batch at a time write, and a label on an audit (a run's audit per council).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("audits") as batch:
        batch.add_column(sa.Column("label", sa.String(200), nullable=True))
    op.create_table(
        "batch_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("profile", sa.String(200), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("chunk_rows", sa.Integer, nullable=False),
        sa.Column("versions", sa.JSON, nullable=False),
        sa.Column("file_index", sa.Integer, nullable=False),
        sa.Column("rows_done", sa.Integer, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("resumed", sa.Integer, nullable=False),
        sa.Column("error", sa.String(300), nullable=True),
    )
    op.create_table(
        "batch_run_audits",
        sa.Column("run_id", sa.String(36), sa.ForeignKey("batch_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("la_code", sa.String(20), primary_key=True),
        sa.Column("audit_id", sa.String(36), sa.ForeignKey("audits.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_table(
        "batch_quarantine",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id", sa.String(36), sa.ForeignKey("batch_runs.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("file", sa.String(500), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("record_id", sa.String(200), nullable=True),
        sa.Column("field", sa.String(100), nullable=True),
        sa.Column("reason", sa.String(300), nullable=False),
    )
    op.create_table(
        "record_state",
        sa.Column("la_code", sa.String(20), primary_key=True),
        sa.Column("record_id", sa.String(200), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("versions_digest", sa.String(64), nullable=False),
        sa.Column("audit_record_id", sa.Integer, sa.ForeignKey("audit_records.id", ondelete="SET NULL"), nullable=True),
        sa.Column("scored_run", sa.String(36), nullable=False),
        sa.Column("last_seen_run", sa.String(36), nullable=False),
    )
    op.create_table(
        "record_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("la_code", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("batch_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("change", sa.String(10), nullable=False),
        sa.Column(
            "audit_record_id",
            sa.Integer,
            sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_record_history_record", "la_code", "record_id"),
    )
    op.create_table(
        "case_findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id", sa.String(36), sa.ForeignKey("batch_runs.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("la_code", sa.String(20), nullable=False),
        sa.Column("child_id", sa.String(200), nullable=False),
        sa.Column("rule_id", sa.String(10), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("suggestion", sa.Text, nullable=False),
        sa.Column("citation", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("as_of", sa.String(10), nullable=False),
    )
    lease = op.create_table(
        "batch_lease",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("holder", sa.String(300), nullable=True),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.bulk_insert(lease, [{"id": 1, "holder": None, "run_id": None, "heartbeat_at": None}])


def downgrade() -> None:
    for name in (
        "batch_lease",
        "case_findings",
        "record_history",
        "record_state",
        "batch_quarantine",
        "batch_run_audits",
        "batch_runs",
    ):
        op.drop_table(name)
    with op.batch_alter_table("audits") as batch:
        batch.drop_column("label")
