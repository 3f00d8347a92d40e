"""The audit log: every read or change of documents, answers, users and settings — allowed or denied.

Each entry records who, what, which documents (their titles and access levels at the time), the result
(``ok``, ``denied``, ``failed``) and when; typed text is masked (assistant.tasks.pii) before it is stored.

**Tamper evidence.** Entries form a chain: ``entry_hash = HMAC(key, prev_hash ‖ the entry's fields)``,
where the key is derived from the app's secret key (a file outside the database). Deleting an entry breaks
the next entry's ``prev_hash``; editing one breaks its own hash; someone who can write the database but not
read the key file cannot re-forge the chain. Writers first update the single ``audit_chain`` row, which
takes the database's write lock (SQLite) or the row lock (PostgreSQL), so entries chain strictly in id
order even with several server processes. Limitation: removing the newest entries *and* rewinding the head
row to an older entry is not detectable from the database alone — compare with an exported copy.

**Who may read an entry.** An entry's ``scope`` lists the access levels of the documents it names
(``공개``, ``내부``, ``부서:감사관실``). Administrators manage accounts but are not cleared for everything: an
entry whose scope they may not read is shown with its text and titles withheld (who, action, result and
time stay visible).

**Retention.** ``audit_retention_days`` (0 = keep forever) removes entries older than that; the chain's
anchor moves to the last removed entry, so verification still covers everything kept.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from assistant.retrieve.filters import ACCESS_LEVELS
from assistant.web.db import AuditChain, AuditEntry, mask_stored, utcnow

#: what an entry shows in place of text its reader may not see
WITHHELD = "(열람 권한 밖 문서 관련 — 내용 가림)"
RESULTS = {"ok": "허용", "denied": "거부", "failed": "실패"}
ACTIONS = {
    "login": "로그인", "login_failed": "로그인 실패", "login_blocked": "로그인 차단", "logout": "로그아웃",
    "password_change": "비밀번호 변경", "search": "검색", "ask": "질의응답", "summarize": "요약",
    "draft_reply": "민원 답변 초안", "draft_report": "보고서 초안",
    "export_draft_reply": "답변서 파일 내려받기", "export_draft_report": "보고서 파일 내려받기",
    "upload": "문서 올리기", "download": "원문 내려받기", "embed": "임베딩 계산 (API)",
    "delete_document": "문서 삭제", "access_level": "열람 등급 변경", "batch_summary": "일괄 요약",
    "job_result": "작업 결과 내려받기", "conversation": "대화 열람", "feedback": "평가",
    "user_add": "사용자 추가", "user_change": "사용자 변경", "token_add": "API 토큰 발급",
    "token_revoke": "API 토큰 폐기", "admin": "관리 화면 접근", "audit_view": "감사 기록 열람",
    "audit_export": "감사 기록 내보내기", "audit_prune": "감사 기록 보존기간 정리", "feedback_view": "평가 열람",
}


@dataclass(frozen=True)
class DocMeta:
    title: str
    access_level: str
    department: str

    @property
    def scope(self) -> str:
        return f"부서:{self.department}" if self.access_level == "부서" else self.access_level


def chain_key(secret: bytes) -> bytes:
    """The audit chain's own key, derived from the app secret (never the session-signing key itself)."""
    return hmac.new(secret, b"assistant audit chain v1", hashlib.sha256).digest()


def _stamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def entry_digest(key: bytes, e: AuditEntry) -> str:
    fields = [e.id, _stamp(e.created_at), e.user_id, e.username, e.action, e.result, e.target, list(e.scope or []),
              e.query, list(e.doc_ids or []), e.detail, e.prev_hash]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _lock_chain(db: Session) -> None:
    """Take the chain head for this transaction (an UPDATE that changes nothing): from here to commit no
    other writer can append or prune — the SQLite write lock, or PostgreSQL's row lock."""
    db.execute(update(AuditChain).where(AuditChain.id == 1).values(last_id=AuditChain.last_id))


def record(db: Session, key: bytes, *, user_id: int | None, username: str, action: str, query: str = "",
           doc_ids: Sequence[str] = (), detail: str = "", result: str = "ok",
           docs: dict[str, DocMeta] | None = None) -> AuditEntry:
    """Append one entry to the chain (in the caller's transaction)."""
    docs = docs or {}
    ids = list(dict.fromkeys(doc_ids))
    titles = [docs[d].title if d in docs else d for d in ids]
    scope = sorted({docs[d].scope for d in ids if d in docs} | ({"(알 수 없음)"} if set(ids) - set(docs) else set()))
    _lock_chain(db)
    row = db.execute(select(AuditChain.last_id, AuditChain.last_hash, AuditChain.anchor_id)
                     .where(AuditChain.id == 1)).one_or_none()
    if row is None:
        db.add(AuditChain(id=1, last_id=0, last_hash="", anchor_id=0, anchor_hash=""))
        db.flush()
        last_id, head, anchor_id = 0, "", 0
    else:
        last_id, head, anchor_id = row
    # ids come from the chain, not the table: SQLite would reuse the id of a deleted newest entry
    next_id = max(last_id, anchor_id, db.scalar(select(func.max(AuditEntry.id))) or 0) + 1
    # text is hashed exactly as it is stored (the masked columns mask again on write, which changes nothing)
    entry = AuditEntry(id=next_id, user_id=user_id, username=(username or "")[:64], action=action[:32], result=result,
                       query=mask_stored(query)[:2000], doc_ids=ids, detail=mask_stored(detail)[:2000],
                       target=mask_stored(" · ".join(titles))[:2000], scope=scope, prev_hash=head,
                       created_at=utcnow())
    db.add(entry)
    db.flush()
    entry.entry_hash = entry_digest(key, entry)
    db.execute(update(AuditChain).where(AuditChain.id == 1).values(last_id=entry.id, last_hash=entry.entry_hash))
    return entry


@dataclass
class Verification:
    checked: int = 0
    legacy: int = 0          # entries older than the chain (no hash)
    anchor_id: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Session, key: bytes) -> Verification:
    """Recompute the chain; report every entry that was edited, and every gap where entries were removed."""
    head = db.get(AuditChain, 1)
    anchor_id, prev = (head.anchor_id, head.anchor_hash) if head else (0, "")
    report = Verification(anchor_id=anchor_id)
    report.legacy = len(db.scalars(select(AuditEntry.id).where(AuditEntry.id <= anchor_id)).all())
    last_id = anchor_id
    for e in db.scalars(select(AuditEntry).where(AuditEntry.id > anchor_id).order_by(AuditEntry.id)
                        .execution_options(yield_per=1000)):
        report.checked += 1
        if e.prev_hash != prev:
            report.problems.append(f"기록 #{e.id} 앞의 기록이 지워졌거나 바뀌었습니다 (#{last_id} 다음이 맞지 않음).")
        if not hmac.compare_digest(entry_digest(key, e), e.entry_hash or ""):
            report.problems.append(f"기록 #{e.id} ({e.created_at:%Y-%m-%d %H:%M}, {e.action})의 내용이 바뀌었습니다.")
        prev, last_id = e.entry_hash, e.id
    if head is not None and (head.last_id != last_id or head.last_hash != prev):
        report.problems.append(f"마지막 기록 #{head.last_id}이(가) 없습니다 (남은 마지막 기록: #{last_id}). "
                               "최근 기록이 지워졌습니다.")
    return report


def prune(db: Session, key: bytes, days: int, *, now: datetime | None = None) -> int:
    """Remove entries older than ``days`` (retention), moving the chain's anchor; records the pruning."""
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    _lock_chain(db)
    last = db.scalars(select(AuditEntry).where(AuditEntry.created_at < cutoff)
                      .order_by(AuditEntry.id.desc()).limit(1)).first()
    if last is None:
        return 0
    removed = db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.id <= last.id)) or 0
    db.execute(delete(AuditEntry).where(AuditEntry.id <= last.id))
    db.execute(update(AuditChain).where(AuditChain.id == 1).values(anchor_id=last.id, anchor_hash=last.entry_hash))
    record(db, key, user_id=None, username="(시스템)", action="audit_prune",
           detail=f"보존기간 {days}일이 지난 기록 {removed}개 삭제 (#{last.id}까지)")
    return removed


# ---------------------------------------------------------------------------------------------- reading

def may_read(scope: Iterable[str], clearance: str, department: str) -> bool:
    """Whether someone with this clearance and department may read an entry about documents of ``scope``."""
    rank = ACCESS_LEVELS.index(clearance) if clearance in ACCESS_LEVELS else -1
    for s in scope:
        if s.startswith("부서:"):
            if clearance != "부서" or s[3:] != department:
                return False
        elif s not in ACCESS_LEVELS or ACCESS_LEVELS.index(s) > rank:
            return False
    return True


def entry_json(e: AuditEntry, readable: bool) -> dict[str, Any]:
    return {"id": e.id, "at": e.created_at.isoformat(), "username": e.username, "action": e.action,
            "action_label": ACTIONS.get(e.action, e.action), "result": e.result,
            "result_label": RESULTS.get(e.result, e.result),
            "target": e.target if readable else (WITHHELD if e.doc_ids else ""),
            "query": e.query if readable else (WITHHELD if e.query else ""),
            "detail": e.detail if readable else (WITHHELD if e.detail else ""),
            "doc_ids": list(e.doc_ids or []) if readable else [], "documents": len(e.doc_ids or []),
            "withheld": not readable}


@dataclass(frozen=True)
class AuditQuery:
    username: str | None = None
    action: str | None = None
    result: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    limit: int = 200


def find(db: Session, q: AuditQuery) -> list[AuditEntry]:
    stmt = select(AuditEntry)
    if q.username:
        stmt = stmt.where(AuditEntry.username == q.username)
    if q.action:
        stmt = stmt.where(AuditEntry.action == q.action)
    if q.result:
        stmt = stmt.where(AuditEntry.result == q.result)
    if q.since:
        stmt = stmt.where(AuditEntry.created_at >= q.since)
    if q.until:
        stmt = stmt.where(AuditEntry.created_at < q.until)
    rows = db.scalars(stmt.order_by(AuditEntry.id.desc()).limit(q.limit if not q.text else 20_000)).all()
    if q.text:  # matched in Python: the text columns are masked, and titles may be withheld from the reader
        needle = q.text.strip()
        rows = [e for e in rows if needle in e.target or needle in e.query or needle in e.detail][:q.limit]
    return list(rows)


CSV_COLUMNS = ("번호", "일시(UTC)", "사용자", "작업", "결과", "대상 문서", "입력 내용", "세부 내용", "기록 해시")


def to_csv(entries: Iterable[AuditEntry], readable: Callable[[AuditEntry], bool]) -> str:
    """CSV (UTF-8 with BOM, so Excel/한셀 open it as Korean), one row per entry."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        j = entry_json(e, readable(e))
        writer.writerow([e.id, _stamp(e.created_at)[:19].replace("T", " "), _cell(e.username), j["action_label"],
                         j["result_label"], _cell(j["target"]), _cell(j["query"]), _cell(j["detail"]), e.entry_hash])
    return out.getvalue()


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a cell starting with = + - @ is read as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
