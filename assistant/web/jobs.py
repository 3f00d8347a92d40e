"""The background worker: ingests uploads and runs batch summaries, one job at a time.

Jobs live in the database, not in memory: a job that was running when the server stopped is queued again
on the next start (ingestion skips files already committed; a batch summary resumes from its state file),
so nothing a user submitted is lost. A job is claimed with a conditional UPDATE, so two app processes
sharing one database never run the same job.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import AssistantError
from assistant.web.db import Document, Job, utcnow
from assistant.web.services import Core

log = logging.getLogger("assistant.web.jobs")
MAX_ATTEMPTS = 3
#: a running job whose heartbeat is older than this is taken to be orphaned (its server died) and is queued
#: again; the worker running it refreshes the heartbeat every quarter of this
LEASE_S = 60.0


def new_job(db: Session, kind: str, user_id: int | None, params: dict[str, Any], total: int,
            job_id: str | None = None) -> Job:
    job = Job(id=job_id or str(uuid.uuid4()), kind=kind, user_id=user_id, status="queued", params=params, total=total,
              message="대기 중")
    db.add(job)
    db.flush()
    return job


def job_json(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "status": job.status, "total": job.total, "done": job.done,
            "progress": round(job.progress, 3), "message": job.message, "items": job.items,
            "created_at": job.created_at.isoformat(), "updated_at": job.updated_at.isoformat(),
            "download": f"/api/jobs/{job.id}/result" if job.status == "done" and job.result_path else None}


class Worker:
    """One daemon thread running queued jobs in order of submission.

    Several servers (``--workers N``, or nodes behind a load balancer) share the jobs table: a job is claimed
    by one conditional UPDATE, and while it runs its worker refreshes ``updated_at`` (a heartbeat). A
    ``running`` job whose heartbeat is older than ``lease_s`` belonged to a server that died; any worker
    queues it again — at start and on a periodic sweep — so a node starting or restarting never takes over
    a job a live node is still running.
    """

    def __init__(self, core: Core, sessions: sessionmaker, data_dir: Path, lease_s: float = LEASE_S) -> None:
        self.core = core
        self.sessions = sessions
        self.data_dir = Path(data_dir)
        self.lease_s = lease_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "ingest": self._run_ingest, "summarize": self._run_summarize}

    def start(self) -> None:
        self.requeue_unfinished()
        self.expire_results()
        self._thread = threading.Thread(target=self._loop, name="assistant-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        self._wake.set()

    def requeue_unfinished(self) -> int:
        """Queue again the running jobs whose heartbeat stopped (their server died); returns how many."""
        stale = utcnow() - timedelta(seconds=self.lease_s)
        with self.sessions.begin() as db:
            res = db.execute(update(Job).where(Job.status == "running", Job.updated_at < stale)
                             .values(status="queued", message="처리하던 서버가 멈춰 다시 대기 중", updated_at=utcnow()))
            count = int(res.rowcount or 0)
        if count:
            log.info("requeued %d orphaned job(s)", count)
        return count

    def expire_results(self, now: datetime | None = None) -> int:
        """Delete batch results older than ``job_result_days`` (their folder and zip); the job stays listed."""
        days = self.core.settings.job_result_days
        if days <= 0:
            return 0
        cutoff = (now or utcnow()) - timedelta(days=days)
        with self.sessions.begin() as db:
            old = db.scalars(select(Job).where(Job.status.in_(("done", "failed")), Job.updated_at < cutoff,
                                               Job.result_path != "")).all()
            for job in old:
                shutil.rmtree(self.data_dir / "jobs" / job.id, ignore_errors=True)
                job.result_path = ""
                job.message = f"{job.message} · 결과 보관 기간({days}일)이 지나 결과 파일을 지웠습니다"[:500]
        return len(old)

    def _loop(self) -> None:
        last_sweep = last_orphans = time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() - last_sweep > 3600:
                self.expire_results()
                last_sweep = time.monotonic()
            if time.monotonic() - last_orphans > self.lease_s / 2:
                self.requeue_unfinished()
                last_orphans = time.monotonic()
            job_id = self._claim()
            if job_id is None:
                self._wake.wait(2.0)
                self._wake.clear()
                continue
            self._run(job_id)

    def _claim(self) -> str | None:
        with self.sessions.begin() as db:
            candidate = db.scalar(select(Job.id).where(Job.status == "queued").order_by(Job.created_at).limit(1))
            if candidate is None:
                return None
            res = db.execute(update(Job).where(Job.id == candidate, Job.status == "queued")
                             .values(status="running", message="처리 중", attempts=Job.attempts + 1,
                                     updated_at=utcnow()))
            return candidate if res.rowcount else None

    def _run(self, job_id: str) -> None:
        with self.sessions() as db:
            job = db.get(Job, job_id)
            if job is None:
                return
            kind, params, attempts = job.kind, dict(job.params), job.attempts
        try:
            if attempts > MAX_ATTEMPTS:
                raise AssistantError(f"작업이 {MAX_ATTEMPTS}번 중단되어 더 시도하지 않습니다. "
                                     "파일을 확인하고 다시 제출하세요.")
            handler = self.handlers.get(kind)
            if handler is None:
                raise AssistantError(f"알 수 없는 작업 종류입니다: {kind}")
            with self._heartbeat(job_id):
                handler(job_id, params)
        except AssistantError as exc:
            self._finish(job_id, "failed", str(exc))
        except Exception as exc:  # noqa: BLE001 — a broken job must not kill the worker
            log.exception("job %s failed", job_id)
            self._finish(job_id, "failed", f"예기치 않은 오류로 작업을 마치지 못했습니다 ({type(exc).__name__}). "
                                           "관리자에게 문의하세요.")

    @contextmanager
    def _heartbeat(self, job_id: str) -> Iterator[None]:
        """Refresh the running job's ``updated_at`` every quarter lease while the block runs (a file can
        take minutes to parse or OCR without a progress update)."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.lease_s / 4):
                try:
                    with self.sessions.begin() as db:
                        db.execute(update(Job).where(Job.id == job_id, Job.status == "running")
                                   .values(updated_at=utcnow()))
                except Exception:  # noqa: BLE001 — a missed beat is retried; the job itself goes on
                    log.warning("heartbeat of job %s failed", job_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"job-heartbeat-{job_id[:8]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    # ------------------------------------------------------------------ progress
    def _progress(self, job_id: str, done: int, total: int, message: str, item: dict[str, Any] | None = None) -> None:
        with self.sessions.begin() as db:
            job = db.get(Job, job_id)
            if job is None:
                return
            job.done, job.total = done, max(total, job.total)
            job.progress = done / job.total if job.total else 0.0
            job.message = message
            if item is not None:
                job.items = [*job.items, item]
            job.updated_at = utcnow()

    def _note(self, job_id: str, message: str, progress: float) -> None:
        """Progress within a file (OCR pages): the message, and the bar moved forward, never back."""
        with self.sessions.begin() as db:
            job = db.get(Job, job_id)
            if job is None:
                return
            job.message = message
            job.progress = max(job.progress, min(progress, 1.0))
            job.updated_at = utcnow()

    def _finish(self, job_id: str, status: str, message: str, result_path: str = "") -> None:
        with self.sessions.begin() as db:
            job = db.get(Job, job_id)
            if job is None:
                return
            job.status, job.message, job.updated_at = status, message, utcnow()
            if status == "done":
                job.progress = 1.0
                job.done = job.total
            if result_path:
                job.result_path = result_path
            if status == "failed":
                db.execute(update(Document).where(Document.job_id == job_id, Document.status == "queued")
                           .values(status="failed", error=message))

    # ------------------------------------------------------------------ ingest
    def _run_ingest(self, job_id: str, params: dict[str, Any]) -> None:
        from assistant.ingest.base import nfc
        from assistant.ingest.budget import ocr_progress
        from assistant.ingest.pipeline import Ingestor, doc_id_for

        files = [Path(p) for p in params["files"]]
        by_path = {str(p): p for p in files}
        self._progress(job_id, 0, len(files), "색인 중", None)
        with self.sessions.begin() as db:
            db.execute(update(Job).where(Job.id == job_id).values(items=[]))
        counter = {"done": 0}
        # OCR pages of each scanned file as they finish: shown while it runs ("OCR 3/12쪽"), and kept in the
        # file's item once it is done (pages read, progress reports seen)
        ocr: dict[str, dict[str, int]] = {}

        def on_ocr_page(path: Path, done: int, total: int) -> None:
            seen = ocr.setdefault(nfc(str(path)), {"done": 0, "total": total, "reports": 0})
            seen.update(done=done, total=total, reports=seen["reports"] + 1)
            at = counter["done"] + (done / total if total else 0.0)
            self._note(job_id, f"{counter['done']}/{len(files)} 처리 · {path.name} OCR {done}/{total}쪽",
                       at / len(files) if files else 0.0)

        def on_file(outcome: Any) -> None:
            counter["done"] += 1
            path = by_path.get(outcome.path, Path(outcome.path))
            status = {"ok": "ok", "failed": "failed"}.get(outcome.status, "skipped")
            with self.sessions.begin() as db:
                db.execute(update(Document).where(Document.job_id == job_id, Document.stored_path == str(path))
                           .values(status=status, error=outcome.reason or "", doc_id=doc_id_for(path)))
            # an ok file may carry warnings (damaged bytes replaced, pages past the limit, text reshaped)
            reason = outcome.reason or " ".join(outcome.warnings)
            item = {"file": path.name, "status": status, "reason": reason, "chunks": outcome.chunks,
                    "warnings": list(outcome.warnings)}
            if outcome.path in ocr:
                item["ocr"] = ocr[outcome.path]
            self._progress(job_id, counter["done"], len(files), f"{counter['done']}/{len(files)} 처리", item)

        store = self.core.store(params.get("index"))
        with self.core.write_lock:
            ingestor = Ingestor(self.core.settings, store, self.core.embedder, params.get("access_level", "내부"),
                                params.get("department", ""))
            with ocr_progress(on_ocr_page):
                report = ingestor.run(files, on_file=on_file, wait_merges=False)   # merges go on beside
        if report.count("ok"):
            self.core.filler.request(store.name)   # the new chunks' semantic vectors, in the background
        failed = report.count("failed")
        msg = f"완료: 성공 {report.count('ok')}개, 실패 {failed}개, 건너뜀 {report.count('skipped')}개"
        self._finish(job_id, "done", msg)

    # ------------------------------------------------------------------ batch summaries
    def _run_summarize(self, job_id: str, params: dict[str, Any]) -> None:
        from assistant.tasks.summarize_batch import summarize_batch

        job_dir = self.data_dir / "jobs" / job_id
        out_dir = job_dir / "out"
        files = [Path(p) for p in params["files"]]
        with self.sessions.begin() as db:
            db.execute(update(Job).where(Job.id == job_id).values(items=[]))
        counter = {"done": 0, "total": len(files)}

        def total_hint(n: int) -> None:
            counter["total"] = n

        def on_progress(item: Any) -> None:
            counter["done"] += 1
            entry = {"file": Path(item.file).name, "status": item.status, "reason": item.error,
                     "title": item.title, "lines": item.lines}
            self._progress(job_id, counter["done"], counter["total"],
                           f"{counter['done']}/{counter['total']} 요약", entry)

        report = summarize_batch(files, out_dir, settings=self.core.settings, generator=self.core.generator,
                                 formats=params.get("formats") or ["md"], length=params.get("length") or None,
                                 on_progress=on_progress, total_hint=total_hint, mask_personal_data=True)
        result = job_dir / "result.zip"
        _zip_folder(out_dir, result)
        # the inputs are the submitter's own files and the outputs are in the zip: keep neither twice
        for folder in ("input", "zips", "out"):
            shutil.rmtree(job_dir / folder, ignore_errors=True)
        ok, failed = report.count("ok") + report.count("skipped"), report.count("failed")
        self._finish(job_id, "done", f"완료: 요약 {ok}개, 실패 {failed}개", str(result))


def _zip_folder(folder: Path, target: Path) -> None:
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                zf.write(p, p.relative_to(folder).as_posix())
    tmp.replace(target)

