"""``draft-reply`` end to end on the real sample index: masking, type, deadline, grounded citations, outputs."""

from __future__ import annotations

import json
import re

import pytest

from assistant.cli import main
from assistant.errors import AssistantError
from assistant.generate.citations import parse_law_references, supports
from assistant.ingest.base import parse_file
from assistant.tasks.draft_reply import draft_reply, parse_received, passages_from_hits, select_hits

PII = {
    "rrn": "850315-1234567",
    "phone": "010-1234-5678",
    "email": "hong.gildong@example.com",
    "address": "세종특별자치시 한누리대로 2130, 101동 1001호",
    "name": "김민수",
}
COMPLAINT = f"""안녕하세요. 수고 많으십니다.
성명: {PII['name']} / 주민등록번호 {PII['rrn']} / 연락처 {PII['phone']} / 이메일 {PII['email']}
주소: {PII['address']}
지난주 금요일에 구청에 정보공개 청구서를 냈는데 아직 아무 연락이 없습니다.
정보공개를 청구하면 공공기관은 며칠 안에 공개 여부를 결정해야 하는지, \
그 기간이 지나도 결정이 없으면 어떻게 해야 하는지 알려주시기 바랍니다."""
SECTIONS = ("1. 민원 요지", "2. 검토 결과", "3. 관련 근거", "4. 추가 문의 안내")


@pytest.fixture(scope="module")
def draft(sample_index, sample_retriever):
    return draft_reply(COMPLAINT, settings=sample_index, retriever=sample_retriever, received="2025-05-02T14:30")


def test_draft_never_contains_the_personal_data(draft) -> None:
    for kind, value in PII.items():
        assert value not in draft.reply, kind
        assert value not in json.dumps(draft.to_json(), ensure_ascii=False), kind
    assert "850315" not in draft.reply and "1234-5678" not in draft.reply
    kinds = {m["kind"] for m in draft.masked}
    assert {"rrn", "phone", "email", "address", "name"} <= kinds
    for m in draft.masked:  # spans point into the NFC complaint, values are not stored
        start, end = m["span"]
        assert 0 <= start < end <= len(COMPLAINT)
        assert set(m) == {"kind", "span"}


def test_draft_has_the_official_structure(draft) -> None:
    reply = draft.reply
    assert reply.startswith("안녕하십니까?") and "답변드립니다" in reply.split("\n")[0]
    positions = [reply.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    review = reply[reply.index("2. 검토 결과"):reply.index("3. 관련 근거")]
    assert re.search(r"^\s+가\. ", review, re.M) and re.search(r"^\s+나\. ", review, re.M)
    gist = reply[reply.index("1. 민원 요지"):reply.index("2. 검토 결과")]
    assert "정보공개" in gist
    assert "【담당 부서】 【담당자】 주무관(☎ 【전화번호】)" in reply  # the default contact is a fill-in field
    assert reply.rstrip().endswith("감사합니다.  끝.")


def test_type_and_deadline_cross_a_weekend_and_holidays(draft) -> None:
    assert draft.complaint_type == "질의민원"
    dl = draft.deadline
    # 2025-05-02 (Fri) + 7 working days, 첫날 산입: 5/3–5/4 weekend, 5/5 어린이날·부처님오신날, 5/6 대체공휴일
    assert dl["days"] == 7 and dl["due"] == "2025-05-14"
    assert {"2025-05-03", "2025-05-05", "2025-05-06"} <= set(dl["excluded"])
    assert "시행령" in dl["period_article"] and "제19조" in dl["basis"]


def test_every_cited_article_is_in_a_retrieved_passage(draft, sample_retriever) -> None:
    refs = parse_law_references(draft.reply)
    assert refs, "the draft must cite the law it relies on"
    # the passages the draft was given are what the retriever returns for the masked complaint
    from assistant.tasks.draft_reply import relevance, retrieval_query

    query = retrieval_query(draft.masked_text)
    hits = sample_retriever.search(query, k=18, mode="hybrid")
    hits = [h for h, r in zip(hits, relevance(query, hits, sample_retriever)[0], strict=True) if r.relevant]
    passages = passages_from_hits(select_hits(hits, sample_index_top_k()))
    assert [p.doc_id for p in passages] == [p.doc_id for p in draft.retrieved]
    for ref in refs:
        assert any(supports(p, ref) for p in draft.retrieved), ref.text
    for n in {int(m) for m in re.findall(r"\[(\d+)\]", draft.reply)}:
        assert n in {p.n for p in draft.retrieved}
    basis = draft.reply[draft.reply.index("3. 관련 근거"):draft.reply.index("4. 추가 문의 안내")]
    assert "「공공기관의 정보공개에 관한 법률」 제11조" in basis
    assert draft.citations and all(set(c) >= {"n", "doc_id", "title", "source", "location", "text"}
                                   for c in draft.citations)
    assert any(c["title"] == "공공기관의 정보공개에 관한 법률" for c in draft.citations)


def sample_index_top_k() -> int:
    from assistant.config import Settings

    return Settings().draft_top_k


def test_receipt_parsing_and_bad_input(sample_index, sample_retriever) -> None:
    assert parse_received("2025-05-02").hour == 9
    assert parse_received("2025-05-02T14:30").minute == 30
    with pytest.raises(AssistantError, match="접수일시"):
        parse_received("5월 2일")
    with pytest.raises(AssistantError, match="비어"):
        draft_reply("   ", settings=sample_index, retriever=sample_retriever)
    with pytest.raises(AssistantError, match="너무 깁니다"):
        draft_reply("가" * (sample_index.draft_max_chars + 1), settings=sample_index, retriever=sample_retriever)


def test_grievance_received_on_a_saturday(sample_index, sample_retriever) -> None:
    text = ("구청이 저에게 부과한 과태료 처분은 부당합니다. "
            "사전에 아무런 통지도 받지 못했고 의견을 낼 기회도 없었습니다. "
            "처분을 취소해 주시기 바랍니다. 연락처 02-2133-4567")
    d = draft_reply(text, settings=sample_index, retriever=sample_retriever, received="2025-10-04T10:00")
    assert d.complaint_type == "고충민원"
    assert "02-2133-4567" not in d.reply
    # 10/4 Sat; 10/5–10/8 추석 연휴, 10/9 한글날 → counting starts 10/10 (Fri): 7 working days → 10/20
    assert d.deadline["due"] == "2025-10-20"
    for ref in parse_law_references(d.reply):
        assert "행정절차법" in ref.law or "민원" in ref.law or "정보공개" in ref.law


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_and_outputs(capsys, sample_index, tmp_path) -> None:
    complaint = tmp_path / "민원.txt"
    complaint.write_bytes(COMPLAINT.encode("cp949"))  # legacy Korean encoding is read correctly
    out = tmp_path / "답변서.hwpx"
    code, stdout, err = cli(capsys, "--index-dir", str(sample_index.index_dir), "draft-reply", "--file",
                            str(complaint), "--index", sample_index.index_name, "--received", "2025-05-02T14:30",
                            "--json", "--out", str(out))
    assert code == 0, err
    data = json.loads(stdout)
    assert set(data) >= {"reply", "complaint_type", "deadline", "citations", "masked"}
    assert data["deadline"]["due"] == "2025-05-14"
    assert all(v not in stdout for v in PII.values())
    texts = [b.text for b in parse_file(out).blocks]
    assert any(t.startswith("2. 검토 결과") for t in texts)
    assert all(v not in "\n".join(texts) for v in PII.values())
    code, stdout, err = cli(capsys, "--index-dir", str(sample_index.index_dir), "draft-reply", "--text", COMPLAINT,
                            "--index", sample_index.index_name, "--out", str(tmp_path / "답변"),
                            "--format", "md,docx")
    assert code == 0, err
    assert "민원 유형: 질의민원" in stdout and "처리기한:" in stdout
    assert (tmp_path / "답변.md").is_file() and (tmp_path / "답변.docx").is_file()
    docx_text = "\n".join(b.text for b in parse_file(tmp_path / "답변.docx").blocks)
    assert "민원 요지" in docx_text or "민원인께서는" in docx_text


def test_cli_refuses_a_binary_complaint_file(capsys, sample_index, tmp_path) -> None:
    blob = tmp_path / "민원.txt"
    blob.write_bytes(bytes(range(256)) * 8)
    code, out, err = cli(capsys, "--index-dir", str(sample_index.index_dir), "draft-reply", "--file", str(blob),
                         "--index", sample_index.index_name)
    assert code == 1 and err.startswith("오류:") and "텍스트" in err and "Traceback" not in err
    code, out, err = cli(capsys, "--index-dir", str(sample_index.index_dir), "draft-reply", "--file",
                         str(tmp_path / "없음.txt"), "--index", sample_index.index_name)
    assert code == 1 and "없습니다" in err
    code, out, err = cli(capsys, "--index-dir", str(sample_index.index_dir), "draft-reply", "--text", "문의합니다",
                         "--index", sample_index.index_name, "--received", "어제")
    assert code == 1 and "접수일시" in err


def test_one_line_complaint_starting_with_a_greeting_is_still_grounded(sample_index, sample_retriever) -> None:
    text = ("안녕하세요. 정보공개를 청구하면 공공기관은 며칠 안에 공개 여부를 결정해야 하나요? "
            "기간이 지나도 결정이 없으면 어떻게 해야 하는지 알려주시기 바랍니다. 연락처 010-9876-5432")
    d = draft_reply(text, settings=sample_index, retriever=sample_retriever, received="2025-05-02")
    assert d.citations, d.reply
    assert "제11조" in d.reply and "010-9876-5432" not in d.reply
