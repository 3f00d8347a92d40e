"""model-endpoint rate limits shared by every server process

The per-user token bucket of the model endpoints lived in each process's memory, so ``assistant serve
--workers N`` allowed N times the limit. This revision adds ``rate_buckets``: one row per user, updated in a
short transaction per request (assistant.web.ratelimit.RateLimiter).

Revision ID: 0004_shared_rate_buckets
Revises: 0003_accounts_and_audit_chain
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_shared_rate_buckets"
down_revision = "0003_accounts_and_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
