"""The web app's database: SQLAlchemy models, the engine, and schema upgrades through Alembic.

SQLite by default (one file in the data folder); any SQLAlchemy URL works, so PostgreSQL is a setting.
The schema is owned by the Alembic migrations in ``assistant/web/migrations/``; :func:`upgrade` runs them on start and
a test checks that the models and the migrations agree.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC (SQLite keeps no zone: add it back on load)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class MaskedText(TypeDecorator):
    """Text that is stored only with personal data masked (assistant.tasks.pii): whatever path writes it —
    a chat message, a title, a feedback comment, an audit entry — nothing typed reaches the database raw."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return mask_stored(value)


class MaskedString(TypeDecorator):
    """A short masked text (a conversation title), cut to its column length after masking."""

    impl = String(200)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        masked = mask_stored(value)
        return masked[:200] if isinstance(masked, str) else masked


def mask_stored(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    from assistant.tasks.pii import mask_pii

    return mask_pii(value).text


class JSONText(TypeDecorator):
    """JSON kept as text, so SQLite and PostgreSQL store it the same way."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    clearance: Mapped[str] = mapped_column(String(16), nullable=False, default="공개")
    department: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: set when an administrator chose the password (new account, reset): the user must replace it first
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginThrottle(Base):
    """Failed logins per key — (account, client address) or a client address across accounts — keyed by an
    HMAC so neither the typed names nor the addresses are stored. In the database, so every server process
    sees the same counts."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_failure: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RateBucket(Base):
    """A user's token bucket for the model endpoints (assistant.web.ratelimit.RateLimiter)."""

    __tablename__ = "rate_buckets"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class WebSession(Base):
    """A login. Only an HMAC of the cookie value is stored, so a copied database opens no session."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(MaskedString, nullable=False, default="새 대화")
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default="ask")
    index_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    doc_ids: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)  # user | assistant
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default="ask")
    content: Mapped[str] = mapped_column(MaskedText, nullable=False, default="")
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False, default=list)
    abstained: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    rating: Mapped[int] = mapped_column(Integer, nullable=False)  # +1 / -1
    comment: Mapped[str] = mapped_column(MaskedText, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Document(Base):
    """A file uploaded through the web app (documents indexed from the CLI have no row here)."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    index_name: Mapped[str] = mapped_column(String(100), nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_path: Mapped[str] = mapped_column(Text, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    access_level: Mapped[str] = mapped_column(String(16), nullable=False, default="내부")
    department: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")  # queued|ok|failed|skipped
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Job(Base):
    """Background work (ingesting uploads, batch summaries); survives a restart."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # ingest | summarize
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")  # queued|running|done|failed
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False, default=dict)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False, default=list)
    result_path: Mapped[str] = mapped_column(Text, nullable=False, default="")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class AuditEntry(Base):
    """Who did what to which document, when, and whether it was allowed. Text is PII-masked before it is
    stored; each entry is chained to the one before by a keyed hash (assistant.web.audit)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    query: Mapped[str] = mapped_column(MaskedText, nullable=False, default="")
    doc_ids: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    detail: Mapped[str] = mapped_column(MaskedText, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    result: Mapped[str] = mapped_column(String(16), nullable=False, default="ok")  # ok | denied | failed
    #: titles of the documents acted on, as they were at the time
    target: Mapped[str] = mapped_column(MaskedText, nullable=False, default="")
    #: access levels of those documents ("공개", "내부", "부서:감사관실"): who may read this entry's text
    scope: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class AuditChain(Base):
    """The head of the audit hash chain (one row). Updating it first serialises writers, so entries chain
    in id order; ``anchor_*`` is where verification starts (entries before the chain, or pruned by the
    retention setting)."""

    __tablename__ = "audit_chain"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    anchor_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    anchor_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")


def prepare_data_dir(data_dir: Path) -> Path:
    """Create the data folder with a ``.gitignore`` of ``*``: database, uploads and key never reach git."""
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("# AI 행정비서 data folder: database, uploads, job files, secret key\n*\n", encoding="utf-8")
    return folder


def database_url(settings: Any) -> str:
    if settings.database_url:
        return settings.database_url
    path = prepare_data_dir(settings.data_dir).resolve() / "assistant.db"
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL and foreign keys so the worker thread and requests get along."""
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; runs on every start)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(engine: Engine, **info: Any) -> sessionmaker:
    """Sessions of the app; ``info`` reaches every session (the audit chain key, the document lookup)."""
    return sessionmaker(engine, expire_on_commit=False, info=info)
