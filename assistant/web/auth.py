"""Accounts, login sessions, API tokens and CSRF.

- Passwords: argon2id (argon2-cffi). Verification of an unknown user still hashes once, so timing does not
  reveal which user names exist.
- Sessions: a random cookie value; the database keeps only HMAC-SHA256(secret key, value), so a copied
  database opens no session. Each session has its own CSRF token, required on every state-changing
  request that authenticates by cookie (forms send it as a field, the page's scripts as a header).
- API tokens: ``ahb_<random>`` sent as ``Authorization: Bearer``; stored the same way as sessions.
  Bearer requests carry no ambient credentials, so they need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.errors import AssistantError
from assistant.retrieve.filters import ACCESS_LEVELS, SearchFilter
from assistant.web.db import ApiToken, User, WebSession, utcnow

SESSION_COOKIE = "ahb_session"
LOGIN_CSRF_COOKIE = "ahb_login_csrf"
TOKEN_PREFIX = "ahb_"
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")


class AuthError(AssistantError):
    """Login failed or a request lacks valid credentials."""


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request, detached from the database session."""

    id: int
    username: str
    display_name: str
    is_admin: bool
    clearance: str
    department: str
    csrf_token: str = ""  # empty for bearer-token requests
    via: str = "session"  # session | token
    must_change_password: bool = False

    def search_filter(self, doc_ids: tuple[str, ...] = ()) -> SearchFilter:
        """The access filter every retrieval for this user goes through (administrators included)."""
        return SearchFilter(clearance=self.clearance, department=self.department or None, doc_ids=doc_ids)

    @classmethod
    def of(cls, user: User, csrf_token: str = "", via: str = "session") -> Principal:
        return cls(user.id, user.username, user.display_name or user.username, user.is_admin, user.clearance,
                   user.department, csrf_token, via, bool(user.must_change_password))


def load_secret_key(path: Path) -> bytes:
    """Read the signing key, creating it (mode 0600) on first start."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # write to a private temp file, then link it into place: exactly one process's key wins
        key = secrets.token_hex(32).encode("ascii")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise AssistantError(f"비밀 키 파일 {path}이(가) 손상되었습니다 (64자 미만). 파일을 지우면 새 키를 만듭니다 "
                             "(모든 로그인과 API 토큰이 무효가 됩니다).")
    return key


def token_digest(secret: bytes, token: str) -> str:
    return hmac.new(secret, token.encode("utf-8"), hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str, username: str = "") -> None:
    """The password rules (KISA 패스워드 선택 및 이용 안내서): 10자 이상, or 8자 이상 with three kinds of
    characters; not a common or guessable password; not the user name."""
    from assistant.web.passwords import password_problem

    problem = password_problem(password, username)
    if problem:
        raise AssistantError(problem)


def validate_user_fields(username: str, clearance: str, department: str) -> str:
    name = unicodedata.normalize("NFC", username).strip()
    if not name or len(name) > 64 or any(c.isspace() or c in "/\\<>\"'&" for c in name):
        raise AssistantError(f"사용자 이름 '{username}'을 쓸 수 없습니다: 1–64자, 공백과 / \\ < > \" ' & 제외.")
    if clearance not in ACCESS_LEVELS:
        raise AssistantError(f"열람 등급은 {', '.join(ACCESS_LEVELS)} 중 하나여야 합니다 (입력: {clearance}).")
    if clearance == "부서" and not department.strip():
        raise AssistantError("열람 등급이 '부서'인 사용자에게는 소속 부서를 지정해야 합니다.")
    return name


def create_user(db: Session, username: str, password: str, *, is_admin: bool = False, clearance: str = "공개",
                department: str = "", display_name: str = "", must_change_password: bool = False) -> User:
    """A new account. ``must_change_password``: the password was chosen by an administrator, so the user
    has to replace it before doing anything else."""
    name = validate_user_fields(username, clearance, department)
    check_password_strength(password, name)
    if db.scalar(select(User).where(User.username == name)) is not None:
        raise AssistantError(f"사용자 '{name}'이(가) 이미 있습니다.")
    user = User(username=name, display_name=display_name.strip() or name, password_hash=hash_password(password),
                is_admin=is_admin, clearance=clearance, department=department.strip(),
                must_change_password=must_change_password)
    db.add(user)
    db.flush()
    return user


def find_user(db: Session, username: str) -> User | None:
    """The account a typed user name names (NFC, trimmed), if any."""
    name = unicodedata.normalize("NFC", username).strip()
    return db.scalar(select(User).where(User.username == name)) if name else None


def authenticate(db: Session, username: str, password: str) -> User:
    user = find_user(db, username)
    try:
        if user is None or not user.active:
            _hasher.verify(_DUMMY_HASH, password + "x")
            raise AuthError("사용자 이름 또는 비밀번호가 올바르지 않습니다.")
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthError("사용자 이름 또는 비밀번호가 올바르지 않습니다.") from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(db: Session, user: User, password: str, *, chosen_by_user: bool) -> None:
    """Store a new password and end every login of the user (their API tokens stay: they are separate
    credentials the user manages in 내 계정). A password an administrator chose must be changed at first use."""
    check_password_strength(password, user.username)
    user.password_hash = hash_password(password)
    user.must_change_password = not chosen_by_user
    user.password_changed_at = utcnow()
    db.execute(delete(WebSession).where(WebSession.user_id == user.id))


def change_own_password(db: Session, user: User, current: str, new: str) -> None:
    """The user's own change: the current password is required, and the new one must differ from it."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AuthError("현재 비밀번호가 맞지 않습니다.") from None
    if new == current:
        raise AssistantError("새 비밀번호가 지금 비밀번호와 같습니다. 다른 비밀번호를 정하세요.")
    set_password(db, user, new, chosen_by_user=True)


def start_session(db: Session, secret: bytes, user: User, ttl_minutes: int) -> tuple[str, WebSession]:
    """A new session; returns the cookie value (shown to nobody else, stored only as an HMAC)."""
    token = secrets.token_urlsafe(32)
    row = WebSession(token_hash=token_digest(secret, token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                     expires_at=utcnow() + timedelta(minutes=ttl_minutes))
    db.add(row)
    db.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    db.flush()
    return token, row


def session_principal(db: Session, secret: bytes, token: str, ttl_minutes: int) -> Principal | None:
    """The user of a session cookie, or None when it is unknown or expired. Sliding expiry."""
    if not token:
        return None
    row = db.scalar(select(WebSession).where(WebSession.token_hash == token_digest(secret, token)))
    now = utcnow()
    if row is None or row.expires_at < now:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    # extend at most once a minute, so busy pages do not write on every request
    new_expiry = now + timedelta(minutes=ttl_minutes)
    if new_expiry - row.expires_at > timedelta(minutes=1):
        row.expires_at = new_expiry
    return Principal.of(user, row.csrf_token, "session")


def end_session(db: Session, secret: bytes, token: str) -> None:
    if token:
        db.execute(delete(WebSession).where(WebSession.token_hash == token_digest(secret, token)))


def create_api_token(db: Session, secret: bytes, user: User, name: str) -> tuple[str, ApiToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip()[:100] or "API 토큰", token_hash=token_digest(secret, token),
                   prefix=token[:10])
    db.add(row)
    db.flush()
    return token, row


def token_principal(db: Session, secret: bytes, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(secret, token)))
    if row is None:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return Principal.of(user, "", "token")


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given or "")


def generated_password() -> str:
    """A password that is easy to type once and hard to guess (about 80 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3))

