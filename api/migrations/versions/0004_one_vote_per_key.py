"""One opinion per key and finding: a second post replaces the first (counts cannot be inflated).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # Keep each key's latest opinion of a finding, then forbid a second.
    feedback = sa.table(
        "feedback", sa.column("id", sa.Integer), sa.column("finding_id", sa.Integer), sa.column("key_id", sa.Integer)
    )
    latest = sa.select(sa.func.max(feedback.c.id)).group_by(feedback.c.finding_id, feedback.c.key_id)
    op.execute(sa.delete(feedback).where(feedback.c.id.not_in(latest)))
    with op.batch_alter_table("feedback") as batch:
        batch.create_unique_constraint("uq_feedback_finding_key", ["finding_id", "key_id"])


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_constraint("uq_feedback_finding_key", type_="unique")
