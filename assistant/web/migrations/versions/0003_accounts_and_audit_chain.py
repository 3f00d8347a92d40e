"""accounts that protect themselves, and an audit log that holds up

- ``users.must_change_password`` / ``password_changed_at``: a password an administrator chose must be
  replaced at first login.
- ``login_throttle``: failed logins per (account, client address) and per address, shared by every
  server process.
- ``audit_log.result`` (ok | denied | failed), ``target`` (document titles), ``scope`` (their access
  levels, which decide who may read the entry's text), and the keyed hash chain ``prev_hash`` /
  ``entry_hash`` with its head row ``audit_chain``. Entries written before this revision have no hash:
  the chain's anchor is set after them, and ``assistant audit verify`` reports them as not verifiable.

Revision ID: 0003_accounts_and_audit_chain
Revises: 0002_mask_personal_data
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_accounts_and_audit_chain"
down_revision = "0002_mask_personal_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime, nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure", sa.DateTime, nullable=False),
        sa.Column("blocked_until", sa.DateTime, nullable=True),
    )
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("result", sa.String(16), nullable=False, server_default="ok"))
        batch.add_column(sa.Column("target", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("scope", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("entry_hash", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("anchor_id", sa.Integer, nullable=False),
        sa.Column("anchor_hash", sa.String(64), nullable=False),
    )
    conn = op.get_bind()
    last = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM audit_log")).scalar() or 0
    conn.execute(sa.text("INSERT INTO audit_chain (id, last_id, last_hash, anchor_id, anchor_hash) "
                         "VALUES (1, :last, '', :last, '')"), {"last": last})


def downgrade() -> None:
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_log") as batch:
        for column in ("entry_hash", "prev_hash", "scope", "target", "result"):
            batch.drop_column(column)
    op.drop_table("login_throttle")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
