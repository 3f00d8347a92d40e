"""Extractive 민원 답변서 drafts: the official structure filled from the complaint and the retrieved sources.

No model: deterministic. The extractive generator hands ``draft_reply`` requests here (``draft_request``).

Request contract (shared with ``prompts/draft_reply.md``): ``variables`` — ``complaint`` (already masked),
``complaint_type`` (label), ``complaint_kind`` (법정민원 …), ``deadline`` (text), ``contact`` (fill-in field);
``passages`` — retrieved sources, best first (law articles ahead of other documents).

Structure (the common 민원 답변서 order): 인사 → 1. 민원 요지 → 2. 검토 결과 (가. 나. 다.) → 3. 관련 근거 →
4. 추가 문의 안내 → 맺음말. This module lays the draft out and holds its fill-in fields (【담당자】 …); the 민원
요지 is written by :mod:`assistant.generate.reply_gist`, the 검토 결과 quotes and their 관련 근거 are chosen by
:mod:`assistant.generate.reply_review`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from assistant.generate.base import GenerationRequest, Passage
from assistant.generate.reply_gist import gist_paragraph
from assistant.generate.reply_review import Point, basis_lines, review_points

LETTERS = "가나다라마바사"

GREETING = ("안녕하십니까? 평소 행정에 관심을 가져 주셔서 감사드리며, 귀하께서 제출하신 민원에 대하여 "
            "검토한 결과를 다음과 같이 답변드립니다.")
CLOSING = "귀하의 가정에 건강과 행복이 늘 함께하기를 바랍니다. 감사합니다."
CAVEAT = ("다만, 위 내용은 제출하신 민원 내용만을 바탕으로 검토한 것이므로 구체적인 사실관계에 따라 "
          "달라질 수 있음을 양해하여 주시기 바랍니다.")


DEFAULT_CONTACT = "○○과 ○○○ 주무관(☎ 000-0000)"  # the setting's default: written as fill-in fields instead
FILLIN_CONTACT = "【담당 부서】 【담당자】 주무관(☎ 【전화번호】)"
UNCOVERED_REVIEW = ("【검토 결과 — 보유 문서에서 이 민원의 근거를 찾지 못했습니다. 관계 법령과 사실관계를 확인하여 "
                    "작성하십시오】")
UNCOVERED_BASIS = "- 【근거 법령】(보유 문서에서 찾지 못함 — 담당자 확인)"
_FIRST_POINT = {  # what only the officer knows, asked first: the answer to the request
    "법정민원": "신청하신 사항은 【처리 결과】.",
    "고충민원": "요청하신 사항은 【처리 결과】.",
    "기타민원": "요청하신 사항은 【처리 결과】.",
    "건의민원": "건의하신 사항은 【검토 의견(반영 여부와 그 사유)】.",
}


def review_texts(kind: str, points: Sequence[Point]) -> list[str]:
    """The 검토 결과 items: the answer first (the quote that answers a 질의, or the fill-in for the result of
    a request), then the other quotes, then the caveat; a fill-in asking for the basis when nothing bears on
    the complaint."""
    texts = [_FIRST_POINT[kind]] if kind in _FIRST_POINT else []
    if not points:
        return texts + [UNCOVERED_REVIEW]
    return texts + [t for t, _ in points] + [CAVEAT]


def compose_reply(complaint: str, kind: str, passages: Sequence[Passage], contact: str,
                  deadline_sentence: str = "", weights: dict[str, float] | None = None) -> str:
    points = review_points(complaint, passages, weights)
    body = [GREETING, "", "1. 민원 요지", f"  {gist_paragraph(complaint, kind)}"]
    if deadline_sentence:
        body.append(f"  {deadline_sentence}")
    body += ["", "2. 검토 결과"]
    body += [f"  {LETTERS[i]}. {t}" for i, t in enumerate(review_texts(kind, points))]
    basis = basis_lines(points) or [UNCOVERED_BASIS]
    body += ["", "3. 관련 근거", *[f"  {b}" for b in basis]]
    who = FILLIN_CONTACT if contact.strip() in ("", DEFAULT_CONTACT) else contact
    body += ["", "4. 추가 문의 안내",
             f"  답변 내용에 대하여 추가로 궁금하신 사항이 있으시면 {who}에게 연락 주시면 "
             "성심껏 안내해 드리겠습니다.",
             "", CLOSING]
    return "\n".join(body)


def draft_request(request: GenerationRequest) -> Iterator[str]:
    """Entry point for the extractive generator: yields the draft paragraph by paragraph."""
    if request.task != "draft_reply":
        raise ValueError(f"extractive_reply cannot handle task {request.task!r}")
    v = request.variables
    text = compose_reply(v.get("complaint", ""), v.get("complaint_kind", "기타민원"), request.passages,
                         v.get("contact", DEFAULT_CONTACT), v.get("deadline_sentence", ""),
                         json.loads(v["term_weights"]) if v.get("term_weights") else None)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        yield line + ("\n" if i < len(lines) - 1 else "")
