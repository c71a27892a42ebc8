"""What the case-level checks read of each record, beside the batch's state of it: child, type,
plan type, dates, team, worker and a plan's actions (digests of their words, with the version of
the code that found them), with an index by child. The checks then read one narrow table in
child order, and a plan's text is read once. Rows already there take their fields from their
latest scored row; their plans' actions stay NULL, and the next run's checks read those plans'
text and keep their actions.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

COPIED = ("child_id", "record_type", "plan_type", "recorded_at", "plan_start_date", "team", "worker")


def upgrade() -> None:
    with op.batch_alter_table("record_state") as batch:
        batch.add_column(sa.Column("child_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("record_type", sa.String(20), nullable=True))
        batch.add_column(sa.Column("plan_type", sa.String(20), nullable=True))
        batch.add_column(sa.Column("recorded_at", sa.String(10), nullable=True))
        batch.add_column(sa.Column("plan_start_date", sa.String(10), nullable=True))
        batch.add_column(sa.Column("team", sa.String(200), nullable=True))
        batch.add_column(sa.Column("worker", sa.String(200), nullable=True))
        batch.add_column(sa.Column("plan_actions", sa.JSON, nullable=True))
        batch.add_column(sa.Column("actions_version", sa.String(16), nullable=True))
    # Portable SQL (SQLite and PostgreSQL): each field from the record's latest scored row.
    sets = ", ".join(
        f"{name} = (SELECT r.{name} FROM audit_records r WHERE r.id = record_state.audit_record_id)" for name in COPIED
    )
    op.execute(f"UPDATE record_state SET {sets} WHERE audit_record_id IS NOT NULL")
    op.create_index("ix_record_state_child", "record_state", ["la_code", "child_id"])


def downgrade() -> None:
    op.drop_index("ix_record_state_child", table_name="record_state")
    with op.batch_alter_table("record_state") as batch:
        for name in (*COPIED, "plan_actions", "actions_version"):
            batch.drop_column(name)
