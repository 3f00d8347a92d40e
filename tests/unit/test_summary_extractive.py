"""The extractive 개조식 summariser on real public reports (allganize-public-docs) and the bundled laws."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.generate.extractive_summary import (
    clean_line,
    compress_ending,
    gap_signals,
    numbers_missing,
    parse_summary_lines,
)
from assistant.ingest.base import parse_file
from assistant.tasks.summarize import check_output, chunk_document, parse_length, summarize_document

REPO = Path(__file__).resolve().parents[2]
PLAN = "2024년 행정안전부 업무계획.md"
ANGOLA = "외교부-2024년 앙골라개황(저).md"


@pytest.fixture(scope="module")
def allganize(shared_corpus) -> Path:
    folder = shared_corpus / "allganize-public-docs"
    if not (folder / PLAN).is_file():
        pytest.skip("allganize-public-docs not available")
    return folder


def _source_text(path: Path) -> str:
    doc = parse_file(path)
    return "\n".join([doc.title, *(" > ".join(b.heading_path) for b in doc.blocks), *(b.text for b in doc.blocks)])


@pytest.mark.parametrize(("sentence", "expected"), [
    ("지방시대위원회를 출범하였다.", "지방시대위원회를 출범"),
    ("예산을 3조원 증액할 계획이다.", "예산을 3조원 증액할 계획임"),
    ("안전관리가 강화되었다.", "안전관리가 강화됨"),
    ("시스템을 구축하고 있다.", "시스템을 구축하고 있음"),
    ("민원은 7일 이내에 처리하여야 한다.", "민원은 7일 이내에 처리하여야 함"),
    ("중앙정부 채무 잔액 은 2월 말 기준 1,120.4조원 이다.", "중앙정부 채무 잔액 은 2월 말 기준 1,120.4조원임"),
    ("지원을 확대하겠습니다.", "지원을 확대"),
    ("특화발전 전략 필요", "특화발전 전략 필요"),            # already 개조식: unchanged
    ("언제 시행되나요?", "언제 시행되나요?"),                  # a question is left alone
])
def test_endings_are_compressed_conservatively(sentence: str, expected: str) -> None:
    out = compress_ending(sentence)
    assert out == expected
    assert numbers_missing(out, sentence) == []


def test_cleaning_keeps_words_and_figures() -> None:
    raw = "- ▪「 **인구감소지역** 지원 특별법」 시행(’23.1월) , 총 105종[*] ‧ ‧"
    assert clean_line(raw) == "「인구감소지역 지원 특별법」 시행(’23.1월), 총 105종"
    assert gap_signals("을 하고, 수출지원등 을 하며, 의 및 도지원") >= 2
    assert gap_signals("수도권 인구 집중 을 완화 하고, 지역 여건에 따라 추진") == 0


@pytest.mark.parametrize(("value", "lines"), [("one-page", 30), ("five-lines", 5), ("12 lines", 12), ("7줄", 7),
                                               (9, 9), (None, 30)])
def test_length_option(value, lines) -> None:
    assert parse_length(value, 30) == lines


@pytest.mark.parametrize("value", ["half-page", "0 lines", "1000"])
def test_bad_length_is_a_korean_error(value) -> None:
    with pytest.raises(AssistantError, match="분량"):
        parse_length(value, 30)


@pytest.mark.parametrize("length", ["five-lines", "12 lines", "one-page"])
def test_real_report_summary_respects_length_structure_and_numbers(allganize: Path, length: str) -> None:
    path = allganize / PLAN
    summary = summarize_document(path, settings=Settings(), length=length)
    lines = [ln for ln in summary.text.split("\n") if ln.strip()]
    budget = parse_length(length, 30)
    assert 0 < len(lines) <= budget
    assert summary.lines == len(lines)
    assert lines[0].startswith("□")
    assert any(ln.strip().startswith("○") for ln in lines)
    assert all(ln.strip()[0] in "□○-" for ln in lines)
    # every □ has something under it
    groups = parse_summary_lines(summary.text)
    assert all(items for _, items in groups)
    # figures, amounts and dates are exactly as in the source
    assert numbers_missing(summary.text, _source_text(path)) == []
    # 명사형 종결: no line ends like a prose sentence
    assert not [ln for ln in lines if re.search(r"(?:한다|하였다|했다|이다|합니다|입니다)\.?$", ln)]
    if budget >= 12:
        assert summary.map_requests >= 2, "a 22-page plan must be summarised section by section"


@pytest.mark.parametrize("name", [PLAN, ANGOLA])
def test_map_reduce_covers_the_end_of_a_long_document(allganize: Path, name: str) -> None:
    """Every chosen line is located in the source; the summary must reach the last fifth of the pages."""
    path = allganize / name
    _, chunks = chunk_document(path, Settings())
    pages = [c.page for c in chunks if c.page]
    last = max(pages)
    summary = summarize_document(path, settings=Settings(), length="one-page")
    assert summary.map_requests >= 2
    found_pages = []
    for _, items in parse_summary_lines(summary.text):
        for text, _ in items:
            probe = text[:25]
            hit = [c.page for c in chunks if probe in clean_line(c.text.replace("\n", " "))
                   or any(probe in clean_line(line) for line in c.text.split("\n"))]
            if hit:
                found_pages.append(hit[0])
    assert found_pages, "summary lines must be the source's own sentences"
    assert max(found_pages) >= 0.8 * last, (max(found_pages), last)
    assert min(found_pages) <= 0.3 * last


def test_every_real_report_gets_a_checked_summary(allganize: Path) -> None:
    for path in sorted(allganize.glob("*.md")):
        if path.name == "README.md":
            continue
        summary = summarize_document(path, settings=Settings(), length="10 lines")
        assert 1 <= summary.lines <= 10, path.name
        assert summary.text.startswith("□"), path.name
        assert numbers_missing(summary.text, _source_text(path)) == [], path.name


def test_law_from_samples_is_summarised() -> None:
    path = REPO / "samples" / "laws" / "민원처리에관한법률_법률.md"
    summary = summarize_document(path, settings=Settings(), length="8 lines")
    assert 1 <= summary.lines <= 8 and "□" in summary.text
    assert numbers_missing(summary.text, path.read_text(encoding="utf-8")) == []


def test_check_output_drops_invented_numbers_and_prose() -> None:
    source = "예산 3조원 확대. 2024년 시행."
    text = "요약입니다.\n□ 예산 확대 [1]\n ○ 예산 3조원 확대\n ○ 예산 5조원 확대\n* 2024년 시행"
    kept, warnings = check_output(text, source, 10)
    assert kept.split("\n") == ["□ 예산 확대", " ○ 예산 3조원 확대", " ○ 2024년 시행"]
    assert len(warnings) == 1 and "5" in warnings[0]
    kept, _ = check_output("□ a\n ○ b\n□ c", source, 2)
    assert kept == "□ a\n ○ b"


def test_unsupported_and_corrupt_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "보고서.xyz"
    bad.write_text("내용", encoding="utf-8")
    with pytest.raises(AssistantError, match="지원하지 않는"):
        summarize_document(bad, settings=Settings())
    corrupt = tmp_path / "보고서.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    with pytest.raises(AssistantError):
        summarize_document(corrupt, settings=Settings())


def test_summary_and_reply_prompts_render_for_model_backends() -> None:
    """The requests the tasks build must fill their Korean templates (what the model backends send)."""
    from assistant.generate.base import GenerationRequest, Passage
    from assistant.generate.prompts import build_messages

    passages = [Passage(n=1, doc_id="d1", title="추진 배경", source="a.md", location="3쪽", text="예산 3조원 확대")]
    cases = [
        ("summarize", {"title": "업무계획", "max_lines": "5"}),
        ("summarize_map", {"title": "업무계획", "max_lines": "8", "part": "1/3"}),
        ("summarize_reduce", {"title": "업무계획", "max_lines": "5"}),
        ("draft_reply", {"complaint": "[성명]입니다. 기간이 궁금합니다.", "complaint_type": "질의민원",
                         "complaint_kind": "질의민원", "deadline": "2025-05-14까지", "contact": "○○과"}),
    ]
    for task, variables in cases:
        messages = build_messages(GenerationRequest(task=task, prompt=task, variables=variables, passages=passages))
        user = messages[-1]["content"]
        assert "예산 3조원 확대" in user and "{" not in user.replace("{{", ""), task
        for value in variables.values():
            assert value in user, (task, value)
