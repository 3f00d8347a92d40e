"""민원 reply drafts without an index: the third-person 요지, fill-in fields, the uncovered draft, sentence
relevance, the 처리기한 sentence, the closing 끝., and the file export (opened back with our parser)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from assistant.generate.base import GenerationRequest, Passage
from assistant.generate.extractive_reply import FILLIN_CONTACT, UNCOVERED_BASIS, compose_reply, draft_request
from assistant.generate.reply_gist import ask_clause, gist_paragraph, situation_clause
from assistant.generate.reply_review import bears_on, review_points
from assistant.output.notation import check_notation
from assistant.tasks.complaint_types import classify_complaint
from assistant.tasks.deadline import compute_deadline, compute_immediate_deadline
from assistant.tasks.draft_reply import deadline_sentence, finish_reply
from assistant.tasks.pii import mask_pii

LAW = Passage(n=1, doc_id="law", title="공공기관의 정보공개에 관한 법률", source="정보공개법.md", location="제17조",
              article="제17조",
              text="제17조(비용 부담) ① 정보의 공개 및 우송 등에 드는 비용은 실비(實費)의 범위에서 청구인이 부담한다.")
GUIDE = Passage(n=2, doc_id="guide", title="첫만남이용권(국민행복카드)", source="첫만남.md", location="",
                text="첫만남이용권은 출생아 1인당 200만 원의 바우처를 국민행복카드로 지급합니다.")
WEIGHTS = {"정보": 1.2, "공개": 1.1, "청구": 1.3, "비용": 2.5, "우편": 2.8, "우송료": 3.0, "들다": 1.0, "내다": 1.0}


@pytest.mark.parametrize(("complaint", "expected"), [
    ("정보공개를 청구했는데 20일이 넘도록 결정 통지가 없습니다. 이의신청을 할 수 있는지, 기한은 언제까지인지 답변 "
     "부탁드립니다.", "민원인께서는 정보공개를 청구했는데 20일이 넘도록 결정 통지가 없다며, 이의신청을 할 수 있는지, "
     "기한은 언제까지인지 문의하셨습니다."),
    ("집 앞 골목 가로등이 일주일째 꺼져 있어 밤길이 위험합니다. 빨리 고쳐 주세요.",
     "민원인께서는 집 앞 골목 가로등이 일주일째 꺼져 있어 밤길이 위험하다며, 빨리 고쳐 줄 것을 요청하셨습니다."),
    ("민원을 꼭 방문해서 종이로 내야 하나요? 전자문서로 신청해도 되는지 알고 싶습니다.",
     "민원인께서는 민원을 꼭 방문해서 종이로 내야 하는지, 전자문서로 신청해도 되는지 문의하셨습니다."),
    ("2024년도 우리 구 도로 보수 공사 계약서의 공개를 청구합니다.",
     "민원인께서는 2024년도 구 도로 보수 공사 계약서의 공개를 청구하셨습니다."),
])
def test_gist_is_a_third_person_restatement(complaint, expected):
    assert gist_paragraph(complaint, classify_complaint(complaint).kind) == expected


def test_gist_never_speaks_as_the_citizen_nor_repeats_personal_data():
    complaint = ("안녕하세요. 저는 홍길동(010-1234-5678)입니다. 제가 낸 민원이 두 달째 처리되지 않았습니다. "
                 "제 민원을 빨리 처리해 주십시오. 민원인 홍길동 드림")
    masked = mask_pii(complaint).text
    gist = gist_paragraph(masked, "고충민원")
    assert gist.startswith("민원인께서는 ") and gist.endswith("하셨습니다.")
    for first_person in ("저는", "제가", "제 ", "주십시오", "홍길동", "[", "드림"):
        assert first_person not in gist, (first_person, gist)


def test_a_request_the_patterns_cannot_restate_becomes_a_fill_in():
    assert gist_paragraph("음.", "기타민원") == "민원인께서는 【민원 요지】에 대하여 요청하셨습니다."
    assert ask_clause("연락처 [전화번호]") is None and situation_clause("감사") is None


def test_a_sentence_that_shares_only_a_word_is_not_quoted():
    complaint = "정보공개를 청구하면 비용이 드는지, 사본을 우편으로 받으면 우송료도 내야 하는지 궁금합니다."
    points = review_points(complaint, [LAW, GUIDE], WEIGHTS)
    assert [c.passage.doc_id for _, c in points] == ["law"]
    assert "실비" in points[0][0] and points[0][0].endswith("[1]")
    from assistant.generate.reply_review import _candidates

    ok = [flag for flag, _ in bears_on(_candidates([GUIDE]), WEIGHTS, complaint)]
    assert ok == [False]


def test_a_complaint_the_documents_do_not_cover_asks_the_officer_for_the_basis():
    weights = {"주차": 3.0, "단속": 3.0}
    reply = compose_reply("아파트 앞 불법 주차를 단속해 주세요.", "기타민원", [GUIDE], "", weights=weights)
    review = reply[reply.index("2. 검토 결과"):reply.index("3. 관련 근거")]
    assert "요청하신 사항은 【처리 결과】." in review and "근거를 찾지 못했습니다" in review
    assert UNCOVERED_BASIS in reply and "첫만남" not in reply and "「" not in review
    assert FILLIN_CONTACT in reply


def test_answer_first_and_fill_ins_by_kind():
    complaint = "정보공개를 청구하면 비용이 드는지 궁금합니다."
    question = compose_reply(complaint, "질의민원", [LAW], "민원봉사과 김철수 주무관(☎ 02-000-0000)", weights=WEIGHTS)
    first = question[question.index("2. 검토 결과"):].split("\n")[1]
    assert first.strip().startswith("가. 「공공기관의 정보공개에 관한 법률」 제17조제1항에서는")  # the answer itself
    assert "민원봉사과 김철수 주무관" in question  # a configured contact is kept as it is
    for kind, fill in (("법정민원", "【처리 결과】"), ("건의민원", "【검토 의견(반영 여부와 그 사유)】")):
        reply = compose_reply(complaint, kind, [LAW], "", weights=WEIGHTS)
        assert reply[reply.index("2. 검토 결과"):].split("\n")[1].strip().startswith("가.")
        assert fill in reply.split("\n")[reply.split("\n").index("2. 검토 결과") + 1]


def test_the_deadline_sentence_states_the_date_in_official_notation():
    received = datetime(2026, 12, 1, 10, 0)
    cls = classify_complaint("민원 처리기간은 어떻게 계산되는지 알려 주세요.")
    text = deadline_sentence(cls, compute_deadline(received, cls.period.days), received)
    assert "2026. 12. 1. 접수된 질의민원" in text and "처리기한은 2026. 12. " in text and "제14조" not in text
    immediate = classify_complaint("가로등이 고장 났어요.")
    assert immediate.kind == "기타민원"
    text = deadline_sentence(immediate, compute_immediate_deadline(received), received)
    assert "3근무시간" in text and "2026. 12. 1. 14:00" in text  # 10:00 + 3 근무시간, lunch excluded
    statutory = classify_complaint("주민등록등본을 재발급해 주세요.")
    text = deadline_sentence(statutory, compute_deadline(received, statutory.period.days), received)
    assert "【민원처리기준표의 처리기간에 따른 처리기한(임시 계산: " in text and "【연장 사유】" in text


def test_finish_reply_puts_the_deadline_under_the_gist_and_closes_with_kkeut():
    draft = compose_reply("정보공개를 청구하면 비용이 드는지 궁금합니다.", "질의민원", [LAW], "", weights=WEIGHTS)
    done = finish_reply(draft, "이 민원은 2026. 12. 1. 접수된 질의민원으로, 처리기한은 2026. 12. 9.입니다.")
    lines = done.split("\n")
    assert lines[lines.index("2. 검토 결과") - 2].strip().startswith("이 민원은 2026. 12. 1.")
    assert done.endswith("감사합니다.  끝.")
    assert check_notation(done, require_end=True) == []


def test_the_generator_entry_reads_the_term_weights():
    request = GenerationRequest(task="draft_reply", prompt="draft_reply", passages=[LAW, GUIDE], variables={
        "complaint": "정보공개를 청구하면 비용이 드는지 궁금합니다.", "complaint_kind": "질의민원",
        "term_weights": json.dumps(WEIGHTS, ensure_ascii=False)})
    text = "".join(draft_request(request))
    assert "실비" in text and "첫만남" not in text


def test_a_draft_exports_to_hwpx_and_docx_and_reads_back(tmp_path):
    from assistant.ingest.base import parse_file
    from assistant.output import document_from_text
    from assistant.output.docx import write_docx
    from assistant.output.hwpx import write_hwpx
    from assistant.web.routes_exports import content_disposition, render_draft

    draft = finish_reply(compose_reply("정보공개를 청구하면 비용이 드는지 궁금합니다.", "질의민원", [LAW], "",
                                       weights=WEIGHTS), "처리기한은 2026-12-09입니다.")
    doc = document_from_text("민원 답변서(초안)", draft, ["처리기한: 2026-12-09"], official=True)
    for writer, name in ((write_hwpx, "답변.hwpx"), (write_docx, "답변.docx")):
        writer(doc, tmp_path / name)
        text = "\n".join(b.text for b in parse_file(tmp_path / name).blocks)
        assert "민원인께서는" in text and "2026. 12. 9." in text and "끝." in text, name
    # the web export masks again: a phone number typed into the draft does not reach the file
    data = render_draft(draft + "\n연락처 010-2345-6789", "hwpx", ["민원 유형: 질의민원"])
    (tmp_path / "web.hwpx").write_bytes(data)
    text = "\n".join(b.text for b in parse_file(tmp_path / "web.hwpx").blocks)
    assert "010-2345-6789" not in text and "[전화번호]" in text
    header = content_disposition("민원답변서_초안.hwpx", "draft-reply.hwpx")
    assert header.startswith('attachment; filename="draft-reply.hwpx"; filename*=UTF-8\'\'%EB%AF%BC')


def test_asked_topics_are_the_nouns_of_the_question_not_of_the_story():
    from assistant.generate.reply_review import asked_topics

    masked = mask_pii("저는 홍길동(010-1234-5678)입니다. 지난달 구청에 정보공개를 청구했는데 "
                      "비공개 결정 통지를 받았습니다. 이의신청은 언제까지 할 수 있고, 구청은 얼마 안에 "
                      "결과를 알려줘야 하나요?").text
    topics = asked_topics(masked)
    assert "이의신청" in topics and "결과" in topics          # written whole, though Kiwi splits "이" off
    assert not topics & {"정보공개", "청구", "비공개", "통지", "언제", "얼마", "전화번호"}
    # a question in general words ("문제가 없는지 검토해 주십시오") names no topic of its own
    story = "영업정지 처분을 받았는데 통지가 없었습니다. 행정절차상 문제가 없는지 검토해 주십시오."
    assert asked_topics(story) == {"행정절차"}


def test_a_period_inside_parentheses_ends_no_sentence():
    from assistant.generate.reply_gist import sentences

    text = ("① 행정기관의 장은 민원인이 동일한 내용의 민원(법정민원을 제외한다. 이하 이 조에서 같다)을 3회 이상 "
            "반복하여 제출한 경우에는 종결처리할 수 있다. 다만, 예외가 있다.")
    assert sentences(text) == [text[:text.index("있다.") + 3], "다만, 예외가 있다."]
