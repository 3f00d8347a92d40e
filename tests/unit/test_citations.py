"""Citation checking: [n] markers and 「법령명」 제N조 references against the sources given."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.generate.base import GenerationRequest, Generator, Passage
from assistant.generate.citations import (
    FLAG_NOTE,
    parse_law_references,
    parse_markers,
    split_units,
    supports,
    validate_citations,
)

LAW = Passage(n=1, doc_id="law", title="민원 처리에 관한 법률", source="/s/민원.md", location="제18조, 제19조",
              article="제18조",
              text="제18조(질의민원 등의 처리기간 등) 질의민원ㆍ건의민원ㆍ기타민원 및 고충민원의 "
                   "처리기간 및 처리절차 등에 관하여는 대통령령으로 정한다.\n"
                   "제19조(처리기간의 계산) ① 민원의 처리기간을 5일 이하로 정한 경우에는 "
                   "민원의 접수시각부터 \"시간\" 단위로 계산하되, 공휴일과 토요일은 산입(算入)하지 아니한다.")
DECREE = Passage(n=2, doc_id="decree", title="민원 처리에 관한 법률 시행령", source="/s/시행령.md", location="제19조",
                 article="제19조",
                 text="제19조(처리기간의 계산) 민원의 처리기간을 ‘즉시’로 정한 경우에는 "
                      "3근무시간 이내에 처리하여야 한다.")
CASE = Passage(n=3, doc_id="case", title="민원인 - 건축허가 시 부동산개발업 등록 여부 심사", source="/s/해석례.md",
               location="회답, 이유",
               text="「건축법」 제11조제1항에서는 건축물을 건축하려는 자는 허가를 받아야 한다고 규정하고 있고, "
                    "「부동산개발업의 관리 및 육성에 관한 법률」 제4조제1항에서는 등록을 하여야 한다고 "
                    "규정하고 있습니다.")
PASSAGES = [LAW, DECREE, CASE]


def test_parse_markers_and_law_references():
    assert parse_markers("가 [2]. 나 [1, 3] 다 [2]") == [2, 1, 3]
    refs = parse_law_references("「민원 처리에 관한 법률」 제19조제1항제2호 및 「건축법」 제 11 조의 2에 따라")
    assert [(r.law, r.article, r.detail) for r in refs] == [("민원 처리에 관한 법률", "제19조", "제1항제2호"),
                                                           ("건축법", "제11조의2", "")]


def test_split_units_keeps_markers_with_their_sentence():
    units = [u for u, _ in split_units("첫 문장입니다. [1] 둘째 문장입니다 [2].\n셋째 [1, 2]")]
    assert units == ["첫 문장입니다. [1]", "둘째 문장입니다 [2].", "셋째 [1, 2]"]


def test_a_law_passage_supports_its_own_articles_only():
    ref = parse_law_references("「민원 처리에 관한 법률」 제19조")[0]
    assert supports(LAW, ref)
    assert not supports(DECREE, ref)  # the 시행령's 제19조 is a different law's article
    assert not supports(LAW, parse_law_references("「민원 처리에 관한 법률」 제20조")[0])
    assert not supports(LAW, parse_law_references("「민원 처리에 관한 법률」 제19조의2")[0])


def test_a_passage_that_quotes_an_article_supports_it():
    assert supports(CASE, parse_law_references("「건축법」 제11조")[0])
    assert not supports(CASE, parse_law_references("「건축법」 제1조")[0])  # 제11조 must not match 제1조
    assert not supports(CASE, parse_law_references("「건축법」 제12조")[0])


def test_supported_citations_are_kept_even_when_another_source_backs_them():
    text = ("「민원 처리에 관한 법률」 제19조제1항에 따라 시간 단위로 계산합니다. [1] "
            "「건축법」 제11조에 따라 허가를 받아야 합니다. [1]")
    report = validate_citations(text, PASSAGES)
    assert report.text == text and report.clean
    assert [(c.label, c.supported_by) for c in report.kept] == [("「민원 처리에 관한 법률」 제19조제1항", (1,)),
                                                                ("「건축법」 제11조", (3,))]
    assert report.cited == [1]


def test_markers_to_missing_passages_are_removed():
    report = validate_citations("즉시 처리합니다 [2, 9]. 근거는 없습니다 [7].", PASSAGES)
    assert report.text == "즉시 처리합니다 [2]. 근거는 없습니다."
    assert sorted(c.label for c in report.removed) == ["[7]", "[9]"]
    assert report.cited == [2]


def test_flag_policy_keeps_the_sentence_but_marks_the_article():
    report = validate_citations("「행정절차법」 제99조에 따라 처리합니다. [1]", PASSAGES, policy="flag")
    assert report.text == f"「행정절차법」 제99조{FLAG_NOTE}에 따라 처리합니다. [1]"
    assert [c.label for c in report.flagged] == ["「행정절차법」 제99조"] and not report.removed


class InventingGenerator(Generator):
    """A real backend that always cites one real article and invents another."""

    name = "inventing"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        yield "「민원 처리에 관한 법률」 제19조에 따르면 5일 이하의 처리기간은 시간 단위로 계산합니다. [1] "
        yield "또한 「민원 처리에 관한 법률」 제77조의3에 따라 모든 민원은 3일 안에 자동 승인됩니다. [1] "
        yield "「주택법」 제5조에 따라 수수료는 면제됩니다. [5]"


@pytest.mark.parametrize("policy", ["remove", "flag"])
def test_an_invented_article_never_reaches_the_reader_as_fact(policy):
    req = GenerationRequest(task="answer", prompt="answer", variables={"question": "처리기간?"}, passages=PASSAGES)
    raw = InventingGenerator().generate(req)
    report = validate_citations(raw, PASSAGES, policy=policy)
    assert report.text.startswith("「민원 처리에 관한 법률」 제19조에 따르면 5일 이하의 처리기간은 "
                                  "시간 단위로 계산합니다. [1]")
    labels = {c.label for c in report.removed + report.flagged}
    assert {"「민원 처리에 관한 법률」 제77조의3", "「주택법」 제5조"} <= labels
    if policy == "remove":
        assert "제77조의3" not in report.text and "주택법" not in report.text
    else:
        assert f"제77조의3{FLAG_NOTE}" in report.text and f"「주택법」 제5조{FLAG_NOTE}" in report.text
        assert "[5]" not in report.text  # the marker to a passage that does not exist is gone either way
    assert [c.label for c in report.kept] == ["「민원 처리에 관한 법률」 제19조"]
