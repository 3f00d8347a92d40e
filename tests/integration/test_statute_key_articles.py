"""Key articles of a statute outline (assistant.generate.statute_importance): real statutes, real parser.

The checks name each law's own core articles, for several laws at once, so a signal fitted to one law fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.generate.statute_importance import external_citations
from assistant.tasks.summarize import summarize_document

LAWS = Path(__file__).resolve().parents[2] / "samples" / "laws"


def _outline(name: str) -> str:
    return summarize_document(LAWS / name, settings=Settings(), length="one-page").text


def test_administrative_procedure_outline_has_hearing_reasons_and_form_of_dispositions() -> None:
    text = _outline("행정절차법_법률.md")
    for title in ("제21조(처분의 사전 통지)", "제22조(의견청취)", "제23조(처분의 이유 제시)", "제24조(처분의 방식)"):
        assert title in text
    # every chapter keeps its own line, 목적 and 정의 stay
    assert all(f"제{n}장" in text for n in range(1, 9))
    assert "제1조(목적)" in text and "제2조(정의)" in text


@pytest.mark.parametrize("name, core", [
    ("공공기관의정보공개에관한법률_법률.md",
     ["제5조(정보공개 청구권자)", "제9조(비공개 대상 정보)", "제11조(정보공개 여부의 결정)", "제18조(이의신청)"]),
    ("민원처리에관한법률_법률.md",
     ["제8조(민원의 신청)", "제9조(민원의 접수)", "제27조(처리결과의 통지)", "제35조(거부처분에 대한 이의신청)"]),
    ("민원처리에관한법률_시행령.md", ["제14조(질의민원의 처리기간 등)", "제19조(처리기간의 계산)"]),
])
def test_other_statutes_keep_their_own_core_articles(name: str, core: list[str]) -> None:
    text = _outline(name)
    missing = [c for c in core if c not in text]
    assert not missing, f"{name}: {missing}"
    assert len(text.splitlines()) <= 30


def test_citations_from_other_documents_count_law_name_and_decree_references() -> None:
    docs = [
        ("법제처 해석례 24-0001",
         "「행정절차법」 제22조제3항에 따른 의견제출 … 행정절차법 제 22 조 및 「민법」 제22조"),
        ("행정절차법 시행령", "법 제22조제1항제1호에서 … 법 제21조에 따라"),
        ("민원 처리에 관한 법률 시행령", "법 제22조에 따른 보완"),  # another law's decree: not ours
    ]
    counts = external_citations("행정절차법", docs)
    assert counts == {"제22조": 3, "제21조": 1}


def test_an_indexed_statute_counts_the_citations_of_the_other_documents(sample_index) -> None:
    """In the sample index the 법제처 해석례 cite 「행정절차법」 제22조 several times: the outline of the indexed law
    gets that signal (only from documents the user may see)."""
    from assistant.index.store import IndexStore
    from assistant.retrieve.filters import SearchFilter
    from assistant.tasks.summarize import _citations_elsewhere, summarize_indexed

    snap = IndexStore(sample_index.index_dir, sample_index.index_name).open()
    doc = next(d for d in snap.find_documents() if d["title"] == "행정절차법")
    counts = _citations_elsewhere(snap, doc, "1=1", [])
    assert counts and max(counts, key=counts.__getitem__) == "제22조"
    where, params = SearchFilter(doc_types=("pdf",)).sql()      # a user who may see none of the 해석례
    assert _citations_elsewhere(snap, doc, where, params) == {}
    text = summarize_indexed(doc["doc_id"], settings=sample_index, length="one-page").text
    assert "제22조(의견청취)" in text and "제23조(처분의 이유 제시)" in text and "제24조(처분의 방식)" in text
