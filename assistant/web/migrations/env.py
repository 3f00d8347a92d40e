"""Alembic environment for the web app's database.

Run programmatically by ``assistant.web.db.upgrade`` on every start (it passes an open connection), or by
hand: ``alembic -c assistant/web/migrations/alembic.ini upgrade head`` with ``ASSISTANT_DATABASE_URL`` set.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from assistant.web.db import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from assistant.config import load_settings
    from assistant.web.db import database_url

    return database_url(load_settings())


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
