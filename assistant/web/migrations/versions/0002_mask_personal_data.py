"""mask personal data already stored: messages, conversation titles, feedback comments, audit text

Databases written before text was masked on every write (assistant.web.db.MaskedText) may hold what
people typed — 주민등록번호, phone numbers, names — in chat messages, conversation titles, feedback and
the audit log. This revision rewrites those columns through the same masker and reports how many rows
it changed. Failed-login names that are not an account's are replaced by a placeholder (the keyed hash
new entries get needs the app's secret, which a migration does not read).

Revision ID: 0002_mask_personal_data
Revises: 0001_initial
Create Date: 2026-12-06
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002_mask_personal_data"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
COLUMNS = (("messages", ("content",)), ("conversations", ("title",)), ("feedback", ("comment",)),
           ("audit_log", ("query", "detail")))


def upgrade() -> None:
    from assistant.tasks.pii import mask_pii

    conn = op.get_bind()
    counts: dict[str, int] = {}
    for table, columns in COLUMNS:
        rows = conn.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}")).fetchall()
        changed = 0
        for row in rows:
            values = {c: row[i + 1] for i, c in enumerate(columns)}
            masked = {c: mask_pii(v).text if isinstance(v, str) and v else v for c, v in values.items()}
            if table == "conversations":
                masked["title"] = (masked["title"] or "")[:200]
            if masked != values:
                sets = ", ".join(f"{c} = :{c}" for c in columns)
                conn.execute(sa.text(f"UPDATE {table} SET {sets} WHERE id = :id"), {**masked, "id": row[0]})
                changed += 1
        counts[table] = changed
    accounts = {r[0] for r in conn.execute(sa.text("SELECT username FROM users"))}
    failed = conn.execute(sa.text("SELECT id, username FROM audit_log WHERE action = 'login_failed'")).fetchall()
    renamed = 0
    for row_id, name in failed:
        if name and name not in accounts and not name.startswith("(등록되지 않은 이름"):
            # one parameter per column: PostgreSQL refuses one parameter typed both varchar and text
            conn.execute(sa.text("UPDATE audit_log SET username = :u, detail = :d WHERE id = :id"),
                         {"u": "(등록되지 않은 이름)", "d": "(등록되지 않은 이름)", "id": row_id})
            renamed += 1
    counts["audit_log.login_failed"] = renamed
    log.warning("개인정보 가림 마이그레이션: %s", ", ".join(f"{t} {n}행" for t, n in counts.items()))


def downgrade() -> None:
    """Masking cannot be undone: the original values are gone by design."""
