"""Documents (upload → ingest job, list, delete, access level, original file) and background jobs."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.errors import AssistantError
from assistant.retrieve.filters import ACCESS_LEVELS
from assistant.web.auth import Principal
from assistant.web.db import Document, Job, User
from assistant.web.deps import DB, AppState, api_user, audit, denied, rate_limited, state
from assistant.web.jobs import job_json, new_job
from assistant.web.services import NotVisible
from assistant.web.uploads import (
    Saved,
    UploadRejected,
    check_extension,
    document_extensions,
    extract_zip,
    save_stream,
)

router = APIRouter(tags=["문서·작업"])


class AccessIn(BaseModel):
    access_level: str = Field(..., description="공개 | 내부 | 부서")
    department: str = Field("", description="'부서' 등급일 때 담당 부서")


def _owners(db: Session) -> dict[str, tuple[int | None, str]]:
    rows = db.execute(select(Document.doc_id, Document.owner_id, User.display_name)
                      .join(User, User.id == Document.owner_id, isouter=True)
                      .where(Document.status == "ok")).all()
    return {r[0]: (r[1], r[2] or "") for r in rows}


def _can_manage(user: Principal, owner_id: int | None) -> bool:
    return user.is_admin or (owner_id is not None and owner_id == user.id)


@router.get("/api/documents", summary="열람할 수 있는 문서 목록")
def list_documents(request: Request, index: str | None = None, user: Principal = Depends(api_user),
                   db: Session = DB) -> dict[str, Any]:
    st = state(request)
    owners = _owners(db)
    docs = []
    for d in st.core.documents(user, index):
        owner_id, owner = owners.get(d["doc_id"], (None, ""))
        d.pop("source", None)
        docs.append({**d, "owner": owner or "관리자 일괄 등록", "can_manage": _can_manage(user, owner_id)})
    pending = db.scalars(select(Document).where(Document.owner_id == user.id, Document.status.in_(("queued", "failed")))
                         .order_by(Document.uploaded_at.desc()).limit(50)).all()
    return {"documents": docs, "indexes": st.core.indexes(), "default_index": st.settings.index_name,
            "uploads": [{"name": p.original_name, "status": p.status, "error": p.error, "job_id": p.job_id}
                        for p in pending]}


@router.post("/api/documents", summary="문서 올리기 (여러 파일; 색인은 백그라운드 작업)")
def upload_documents(request: Request, files: list[UploadFile] = File(..., description="문서 파일들"),
                     access_level: str = Form("내부"), department: str = Form(""), index: str = Form(""),
                     user: Principal = Depends(api_user), db: Session = DB) -> dict[str, Any]:
    st = state(request)
    index_name = _index_name(st, index)
    level, dept = _level(user, access_level, department)
    if len(files) > st.settings.upload_max_files:
        raise HTTPException(400, f"한 번에 {st.settings.upload_max_files}개까지 올릴 수 있습니다 "
                                 f"({len(files)}개 선택).")
    folder = st.data_dir / "uploads" / index_name
    saved, rejected = [], []
    for f in files:
        try:
            check_extension(f.filename or "", document_extensions())
            saved.append(save_stream(f.file, folder, f.filename or "", int(st.settings.upload_max_mb * 1024 * 1024)))
        except UploadRejected as exc:
            rejected.append({"name": f.filename, "reason": str(exc)})
    if not saved:
        raise HTTPException(400, {"message": "올릴 수 있는 파일이 없습니다.", "rejected": rejected})
    job = new_job(db, "ingest", user.id, {"files": [str(s.path) for s in saved], "index": index_name,
                                          "access_level": level, "department": dept}, total=len(saved))
    for s in saved:
        db.add(Document(doc_id="", index_name=index_name, owner_id=user.id, original_name=s.original_name,
                        stored_path=str(s.path), size=s.size, access_level=level, department=dept,
                        status="queued", job_id=job.id))
    audit(db, user, "upload", "", [], f"{len(saved)}개 파일 → 색인 '{index_name}' ({level})")
    db.commit()
    st.worker.notify()
    return {"job": job_json(job), "accepted": [s.original_name for s in saved], "rejected": rejected}


@router.delete("/api/documents/{doc_id}", summary="문서 삭제 (모든 색인에서 청크 제거)")
def delete_document(doc_id: str, request: Request, user: Principal = Depends(api_user),
                    db: Session = DB) -> dict[str, Any]:
    from assistant.ingest.pipeline import Ingestor

    st = state(request)
    _managed(st, db, user, doc_id, "delete_document")
    removed_from = []
    with st.core.write_lock:
        for name in st.core.indexes_holding(doc_id):
            Ingestor(st.settings, st.core.store(name), st.core.embedder).remove([doc_id], wait_merges=False)
            removed_from.append(name)
    for row in db.scalars(select(Document).where(Document.doc_id == doc_id)).all():
        Path(row.stored_path).unlink(missing_ok=True)
    db.execute(delete(Document).where(Document.doc_id == doc_id))
    audit(db, user, "delete_document", "", [doc_id], f"색인 {', '.join(removed_from)}에서 삭제")
    return {"deleted": doc_id, "indexes": removed_from}


@router.patch("/api/documents/{doc_id}", summary="문서 열람 등급 변경")
def change_access(doc_id: str, body: AccessIn, request: Request, user: Principal = Depends(api_user),
                  db: Session = DB) -> dict[str, Any]:
    from assistant.web.index_admin import set_access_level

    st = state(request)
    before = _managed(st, db, user, doc_id, "access_level")
    level, dept = _level(user, body.access_level, body.department)
    try:
        with st.core.write_lock:
            changed = [n for n in st.core.indexes_holding(doc_id)
                       if set_access_level(st.core.store(n), doc_id, level, dept)]
    except AssistantError as exc:
        raise HTTPException(400, str(exc)) from None
    for row in db.scalars(select(Document).where(Document.doc_id == doc_id)).all():
        row.access_level, row.department = level, dept
    old = f"{before['access_level']} {before.get('department') or ''}".strip()
    audit(db, user, "access_level", "", [doc_id], f"{old} → {level} {dept}".strip())
    return {"doc_id": doc_id, "access_level": level, "department": dept, "indexes": changed}


@router.get("/api/documents/{doc_id}/file", summary="원문 파일 내려받기 (열람 권한 확인)")
def document_file(doc_id: str, request: Request, index: str | None = None, user: Principal = Depends(api_user),
                  db: Session = DB) -> FileResponse:
    try:
        doc = state(request).core.find_document(user, doc_id, index)
    except NotVisible as exc:
        raise denied(db, user, "download", 404, str(exc), [doc_id]) from None
    path = Path(doc["source"])
    if not path.is_file():
        raise HTTPException(404, "원문 파일이 서버에 없습니다 (색인만 남아 있음).")
    audit(db, user, "download", "", [doc_id])
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


# ---------------------------------------------------------------------------------------------- jobs

@router.post("/api/batch", summary="일괄 요약 작업 제출 (여러 파일 또는 ZIP)")
def submit_batch(request: Request, files: list[UploadFile] = File(...), formats: str = Form("md"),
                 length: str = Form(""), user: Principal = Depends(rate_limited),
                 db: Session = DB) -> dict[str, Any]:
    st = state(request)
    fmts = [f for f in (x.strip().lower() for x in formats.split(",")) if f]
    bad = [f for f in fmts if f not in ("md", "docx", "hwpx")]
    if bad or not fmts:
        raise HTTPException(400, f"출력 형식은 md, docx, hwpx 중에서 고르세요 (입력: {formats}).")
    job_id = str(uuid.uuid4())
    inputs = st.data_dir / "jobs" / job_id / "input"
    max_bytes = int(st.settings.upload_max_mb * 1024 * 1024)
    allowed = document_extensions()
    saved: list[Saved] = []
    rejected: list[dict[str, Any]] = []
    for f in files:
        name = f.filename or ""
        try:
            if name.lower().endswith(".zip"):
                check_extension(name, [".zip"])
                archive = save_stream(f.file, inputs.parent / "zips", name, max_bytes * 4)
                got, skipped = extract_zip(archive.path, inputs, allowed, max_bytes,
                                           st.settings.upload_max_files - len(saved),
                                           int(st.settings.upload_max_request_mb * 1024 * 1024))
                saved += got
                rejected += [{"name": name, "reason": r} for r in skipped]
            else:
                check_extension(name, allowed)
                saved.append(save_stream(f.file, inputs, name, max_bytes))
        except UploadRejected as exc:
            rejected.append({"name": name, "reason": str(exc)})
        if len(saved) > st.settings.upload_max_files:
            raise HTTPException(400, f"일괄 요약은 한 번에 {st.settings.upload_max_files}개 파일까지입니다.")
    if not saved:
        shutil.rmtree(inputs.parent, ignore_errors=True)
        raise HTTPException(400, {"message": "요약할 수 있는 파일이 없습니다.", "rejected": rejected})
    job = new_job(db, "summarize", user.id, {"files": [str(s.path) for s in saved], "formats": fmts,
                                             "length": length.strip(), "names": [s.original_name for s in saved]},
                  total=len(saved), job_id=job_id)
    audit(db, user, "batch_summary", "", [], f"{len(saved)}개 파일, 형식 {','.join(fmts)}")
    db.commit()
    st.worker.notify()
    return {"job": job_json(job), "accepted": [s.original_name for s in saved], "rejected": rejected}


@router.get("/api/jobs", summary="내 작업 목록")
def list_jobs(kind: str | None = None, user: Principal = Depends(api_user),
              db: Session = DB) -> dict[str, Any]:
    q = select(Job).where(Job.user_id == user.id)
    if kind:
        q = q.where(Job.kind == kind)
    jobs = db.scalars(q.order_by(Job.created_at.desc()).limit(50)).all()
    return {"jobs": [job_json(j) for j in jobs]}


@router.get("/api/jobs/{job_id}", summary="작업 진행 상황")
def get_job(job_id: str, user: Principal = Depends(api_user), db: Session = DB) -> dict[str, Any]:
    return job_json(_own_job(db, user, job_id))


@router.get("/api/jobs/{job_id}/result", summary="작업 결과 ZIP 내려받기")
def job_result(job_id: str, user: Principal = Depends(api_user), db: Session = DB) -> FileResponse:
    job = _own_job(db, user, job_id, "job_result")
    if job.status != "done" or not job.result_path or not Path(job.result_path).is_file():
        raise HTTPException(409, "작업이 아직 끝나지 않았거나 결과 파일이 없습니다.")
    names = job.params.get("names") or []
    audit(db, user, "job_result", "", [], f"일괄 요약 결과 {len(names)}개 파일")
    return FileResponse(job.result_path, filename=f"요약결과-{job.id[:8]}.zip", media_type="application/zip")


# ---------------------------------------------------------------------------------------------- helpers

def _own_job(db: Session, user: Principal, job_id: str, action: str = "") -> Job:
    """The user's own job. Administrators included: a batch's inputs and summaries are the submitter's
    documents, and administering accounts is not clearance to read them."""
    job = db.get(Job, job_id)
    if job is None or job.user_id != user.id:
        message = "작업을 찾을 수 없습니다."
        if job is not None and action:
            raise denied(db, user, action, 404, message, detail=f"다른 사용자의 작업 {job_id[:8]}")
        raise HTTPException(404, message)
    return job


def _index_name(st: AppState, index: str) -> str:
    name = (index or st.settings.index_name).strip()
    try:
        st.core.store(name)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return name


def _level(user: Principal, access_level: str, department: str) -> tuple[str, str]:
    if access_level not in ACCESS_LEVELS:
        raise HTTPException(400, f"열람 등급은 {', '.join(ACCESS_LEVELS)} 중 하나여야 합니다 (입력: {access_level}).")
    if ACCESS_LEVELS.index(access_level) > ACCESS_LEVELS.index(user.clearance) and not user.is_admin:
        raise HTTPException(403, f"자신의 열람 등급({user.clearance})보다 높은 등급으로는 지정할 수 없습니다.")
    dept = department.strip()
    if access_level == "부서":
        dept = dept or user.department
        if not dept:
            raise HTTPException(400, "'부서' 등급 문서에는 담당 부서를 지정해야 합니다.")
        if not user.is_admin and dept != user.department:
            raise HTTPException(403, "자기 부서의 문서만 '부서' 등급으로 지정할 수 있습니다.")
    return access_level, dept if access_level == "부서" else ""


def _managed(st: AppState, db: Session, user: Principal, doc_id: str, action: str) -> dict[str, Any]:
    """The document must be visible to the user, and the user its owner or an administrator. A refusal
    is recorded in the audit log."""
    try:
        doc = st.core.find_document(user, doc_id)
    except NotVisible as exc:
        raise denied(db, user, action, 404, str(exc), [doc_id]) from None
    owner_id = _owners(db).get(doc_id, (None, ""))[0]
    if not _can_manage(user, owner_id):
        raise denied(db, user, action, 403, "이 문서를 올린 사람이나 관리자만 바꾸거나 지울 수 있습니다.", [doc_id])
    return doc
