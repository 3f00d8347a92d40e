"""File downloads of drafts: a 민원 답변서 draft as HWPX (한글) or DOCX (Word), as the CLI writes them.

The browser sends the draft text it shows (the officer may have copied it from an answer); the text is masked
again (``assistant.tasks.pii``) before anything is written, the official notation is applied
(``assistant.output.notation``), the [n] source markers are dropped (the letter names its basis in
3. 관련 근거), and the file comes back as an attachment with a Korean file name
(RFC 5987 ``filename*``, with an ASCII ``filename`` for old clients). Every download is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from assistant.web.auth import Principal
from assistant.web.deps import DB, api_user, audit

router = APIRouter(tags=["내려받기"])

MEDIA_TYPES = {
    "hwpx": "application/hwp+zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
TITLE = "민원 답변서(초안)"


class DraftExportIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=50_000, description="답변서 초안 본문")
    format: Literal["hwpx", "docx"] = Field("hwpx", description="파일 형식")
    meta: list[str] = Field(default_factory=list, max_length=10,
                            description="제목 아래 참고 줄 (민원 유형, 처리기한 …)")


def content_disposition(file_name: str, fallback: str) -> str:
    """attachment with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def render_draft(text: str, fmt: str, meta: list[str]) -> bytes:
    from assistant.output import document_from_text
    from assistant.tasks.draft_reply import letter_text
    from assistant.tasks.pii import mask_pii

    masked = letter_text(mask_pii(text).text)
    lines = [mask_pii(m).text[:300] for m in meta]
    lines.append("※ 초안입니다. 【 】 부분을 채우고, 담당자가 사실관계와 근거를 확인한 뒤 발송하십시오.")
    doc = document_from_text(TITLE, masked, lines, official=True)
    if fmt == "hwpx":
        from assistant.output.hwpx import render_hwpx

        return render_hwpx(doc)
    from assistant.output.docx import render_docx

    return render_docx(doc)


@router.post("/api/exports/draft-reply", summary="민원 답변서 초안을 HWPX·DOCX 파일로 내려받기",
             response_class=Response,
             responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}})
def export_draft_reply(body: DraftExportIn, user: Principal = Depends(api_user), db: Session = DB) -> Response:
    if not body.text.strip():
        raise HTTPException(400, "내려받을 답변서 내용이 비어 있습니다.")
    data = render_draft(body.text, body.format, body.meta)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    name = f"민원답변서_초안_{stamp}.{body.format}"
    audit(db, user, "export_draft_reply", body.text[:500], [], detail=f"format={body.format}, bytes={len(data)}")
    return Response(data, media_type=MEDIA_TYPES[body.format],
                    headers={"Content-Disposition": content_disposition(name, f"draft-reply-{stamp}.{body.format}"),
                             "Cache-Control": "no-store"})


class ReportExportIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=80_000, description="보고서·보도자료 초안 본문")
    title: str = Field("보고서(초안)", max_length=200, description="제목")
    kind: Literal["보고서", "보도자료"] = Field("보고서", description="문서 종류")
    format: Literal["hwpx", "docx", "md"] = Field("hwpx", description="파일 형식")


def render_report(text: str, title: str, kind: str, fmt: str) -> bytes:
    """The report as the CLI writes it: masked again, official notation, [n] markers kept (they point into the
    붙임 출처 목록, which is what makes each line traceable)."""
    from assistant.output import document_from_text
    from assistant.tasks.pii import mask_pii

    note = ("※ 초안입니다. [n]은 붙임 출처 목록의 번호입니다. 【 】 부분을 채우고 사실관계를 확인한 뒤 "
            "출처 번호를 지워 쓰십시오.")
    doc = document_from_text(mask_pii(title).text.strip() or kind, mask_pii(text).text, [f"{kind}(초안)", note],
                             official=kind == "보고서")
    if fmt == "hwpx":
        from assistant.output.hwpx import render_hwpx

        return render_hwpx(doc)
    if fmt == "docx":
        from assistant.output.docx import render_docx

        return render_docx(doc)
    from assistant.output.markdown import render_markdown

    return render_markdown(doc).encode("utf-8")


@router.post("/api/exports/draft-report", summary="보고서·보도자료 초안을 HWPX·DOCX·Markdown 파일로 내려받기",
             response_class=Response,
             responses={200: {"content": {t: {} for t in [*MEDIA_TYPES.values(), "text/markdown"]}}})
def export_draft_report(body: ReportExportIn, user: Principal = Depends(api_user), db: Session = DB) -> Response:
    if not body.text.strip():
        raise HTTPException(400, "내려받을 초안 내용이 비어 있습니다.")
    data = render_report(body.text, body.title, body.kind, body.format)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    name = f"{body.kind}_초안_{stamp}.{body.format}"
    audit(db, user, "export_draft_report", f"{body.kind}: {body.title[:200]}", [],
          detail=f"format={body.format}, bytes={len(data)}")
    media = MEDIA_TYPES.get(body.format, "text/markdown; charset=utf-8")
    return Response(data, media_type=media,
                    headers={"Content-Disposition": content_disposition(name, f"draft-report-{stamp}.{body.format}"),
                             "Cache-Control": "no-store"})
