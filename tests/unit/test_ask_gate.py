"""The abstention gate's scoring: core question, IDF weights, typo tolerance (real Kiwi, no index)."""

from __future__ import annotations

from assistant.korean.scoring import typo_similarity
from assistant.tasks.gate import GateTerm, core_question, gate_terms, weighted_coverage


def test_core_question_keeps_the_last_question_of_a_long_moleg_query():
    quoted = "「행정사법」 제2조제1항에서는 행정사의 업무를 규정하고 있는바, " * 5
    q = quoted + "\n\n농업회사법인 설립 신고를 대리하는 업무가 행정사의 업무(각주: 이하 같음)에 해당하는지?"
    core = core_question(q)
    assert core.endswith("해당하는지?") and "농업회사법인" in core
    assert "각주" not in core and len(core) <= 80
    assert core_question("민원 처리기간은?") == "민원 처리기간은?"


def test_typo_similarity_sees_one_jamo_typos_but_not_other_words():
    assert typo_similarity("어린이짐", "어린이집") >= 0.7
    assert typo_similarity("기쥰", "기준") == 0.5 > typo_similarity("기준", "수당")


def test_rare_terms_outweigh_common_ones():
    df = {"민원": 300, "처리": 300, "고충": 2}
    terms = {t.form: t for t in gate_terms("고충민원은 어떻게 처리하나요", df, 600)}
    assert terms["고충"].weight > 3 * terms["민원"].weight
    # a passage with only the rare term covers more than one with both common terms
    rare = weighted_coverage(list(terms.values()), [{"고충"}])
    common = weighted_coverage(list(terms.values()), [{"민원", "처리"}])
    assert rare > common


def test_weighted_coverage_counts_typos_and_takes_the_best_single_passage():
    terms = [GateTerm("어린이짐", 2.0, True), GateTerm("보육료", 2.0, True)]
    assert weighted_coverage(terms, [{"어린이집", "보육료"}]) > 0.8
    assert weighted_coverage(terms, [{"보육료"}, {"어린이집"}]) < 0.8   # scattered over two passages
    assert weighted_coverage(terms, []) == 0.0
