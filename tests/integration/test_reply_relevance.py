"""Reply drafts on real indexes: only passages that bear on the complaint are cited, a complaint the documents do
not cover gets fill-ins instead of unrelated law, the 처리기한 is stated, and the HWPX export reads back."""

from __future__ import annotations

import re

from assistant.ingest.base import parse_file
from assistant.output.notation import check_notation
from assistant.tasks.draft_reply import draft_output_document, draft_reply

PARKING = ("우리 아파트 정문 앞 도로에 불법 주차 차량이 매일 밤 서 있어서 통행이 너무 불편합니다. 단속해 주세요. "
           "연락처 010-7788-9900")
COST = "정보공개를 청구하면 비용이 드는지, 사본을 우편으로 받으면 우송료도 내야 하는지 궁금합니다. kim.d@example.org"


def _review(reply: str) -> str:
    return reply[reply.index("2. 검토 결과"):reply.index("3. 관련 근거")]


def test_a_parking_complaint_quotes_no_law(sample_index, sample_retriever):
    d = draft_reply(PARKING, settings=sample_index, retriever=sample_retriever, received="2026-12-01T10:00")
    assert d.citations == [] and "「" not in _review(d.reply) and "공청회" not in d.reply
    assert "【근거 법령】" in d.reply and "【처리 결과】" in d.reply
    assert "010-7788-9900" not in d.reply and "민원인께서는" in d.reply
    assert re.search(r"처리기한은 2026\. 12\. 1\. \d\d:\d\d입니다", d.reply), d.reply
    assert check_notation(d.reply, require_end=True) == []


def test_a_cost_question_cites_the_cost_article_only(sample_index, sample_retriever):
    d = draft_reply(COST, settings=sample_index, retriever=sample_retriever, received="2026-12-01T10:00")
    review = _review(d.reply)
    assert "「공공기관의 정보공개에 관한 법률」 제17조" in review.split("\n")[1]  # the answer comes first
    assert {c["title"] for c in d.citations} == {"공공기관의 정보공개에 관한 법률"}
    assert "처리기한은 2026. 12. " in d.reply and check_notation(d.reply, require_end=True) == []


OBJECTION = ("저는 홍길동(010-1234-5678)입니다. 지난달 구청에 정보공개를 청구했는데 비공개 결정 통지를 받았습니다. "
             "이의신청은 언제까지 할 수 있고, 구청은 얼마 안에 결과를 알려줘야 하나요?")


def test_an_objection_question_quotes_the_objection_article_not_the_transfer_rule(sample_index, sample_retriever):
    """The story names the law (정보공개 청구); the question asks about 이의신청 and its result: 제11조제4항
    (이송) shares the law but not the question, and 제18조 is quoted from the statute, not from a 해석례."""
    d = draft_reply(OBJECTION, settings=sample_index, retriever=sample_retriever, received="2026-12-04T10:00")
    review = _review(d.reply)
    points = [ln for ln in review.split("\n")[1:] if re.match(r"\s+[가-하]\. ", ln)]
    assert "「공공기관의 정보공개에 관한 법률」 제18조제1항" in points[0] and "30일 이내" in points[0]
    assert "제18조제3항" in review and "7일 이내" in review
    assert "제11조" not in review and "해석한 바 있습니다" not in review and "이송" not in review
    quoted = [p for p in points if "「" in p]
    assert all("이의신청" in p for p in quoted), quoted    # every quote is about what was asked
    assert "010-1234-5678" not in d.reply and check_notation(d.reply, require_end=True) == []


def test_semantic_relevance_keeps_unrelated_articles_out(semantic_index):
    from assistant.retrieve.search import open_retriever

    retriever = open_retriever(semantic_index)
    d = draft_reply("지난주 발급받은 주민등록등본을 잃어버려서 다시 발급해 주시기 바랍니다. 인터넷으로도 전자증명서를 "
                    "발급받을 수 있는지도 알려 주세요.", settings=semantic_index, retriever=retriever,
                    received="2026-12-01T10:00")
    assert d.complaint_type == "법정민원"
    assert "전자증명서" in _review(d.reply) and "【처리 결과】" in d.reply
    articles = set(re.findall(r"제\d+조(?:의\d+)?", _review(d.reply)))
    assert articles <= {"제28조의2", "제28조", "제10조의2", "제27조"}, articles


def test_the_hwpx_export_reads_back_with_the_project_parser(sample_index, sample_retriever, tmp_path):
    from assistant.output.hwpx import write_hwpx

    d = draft_reply(COST, settings=sample_index, retriever=sample_retriever, received="2026-12-01T10:00")
    path = tmp_path / "민원답변서.hwpx"
    write_hwpx(draft_output_document(d), path)
    text = "\n".join(b.text for b in parse_file(path).blocks)
    for part in ("민원 답변서(초안)", "처리기한: 2026. 12. ", "1. 민원 요지", "민원인께서는", "2. 검토 결과",
                 "제17조", "4. 추가 문의 안내", "감사합니다.  끝."):
        assert part in text, part
    assert "kim.d@example.org" not in text and not re.search(r"\[\d+\]", text)  # no source markers in the letter
