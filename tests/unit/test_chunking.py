"""Chunking rules on real statute text and on synthetic edge cases."""

from __future__ import annotations

import unicodedata

from assistant.ingest.chunking import ChunkParams, chunk_blocks
from assistant.korean.morph import content_terms
from assistant.korean.sentences import split_sentences, split_sentences_batch
from assistant.types import Block

ARTICLE_10 = (
    "제10조(불필요한 서류 요구의 금지) ① 행정기관의 장은 민원을 접수ㆍ처리할 때에 민원인에게 관계법령등에서 정한 "
    "구비서류 외의 서류를 추가로 요구하여서는 아니 된다. ② 행정기관의 장은 원본과 같은 내용의 복사본이나 "
    "전자문서로 대체할 수 있는 경우에는 원본을 요구하여서는 아니 된다. ③ 행정기관의 장은 민원을 접수ㆍ처리할 때에 "
    "다음 각 호의 어느 하나에 해당하는 경우에는 민원인에게 관련 증명서류의 제출을 요구할 수 없으며, 담당 공무원이 "
    "직접 이를 확인ㆍ처리하여야 한다. 1. 민원인이 소지한 주민등록증ㆍ여권ㆍ자동차운전면허증 등 행정기관이 발급한 "
    "증명서로 그 민원의 처리에 필요한 내용을 확인할 수 있는 경우 2. 해당 행정기관의 공부 또는 행정정보로 확인할 수 "
    "있는 경우 ④ 행정기관의 장은 민원을 접수ㆍ처리할 때에 민원인이 동일한 민원서류 또는 구비서류를 반복적으로 "
    "제출하도록 요구하여서는 아니 된다."
)


def test_short_article_is_one_chunk_with_article_location():
    block = Block("제1조(목적) 이 법은 민원 처리에 관한 기본적인 사항을 규정한다.", kind="article",
                  heading_path=("제1장 총칙",), article="제1조")
    chunks = chunk_blocks("d1", "민원 처리에 관한 법률", [block], ChunkParams(max_chars=700))
    assert len(chunks) == 1
    assert chunks[0].location == "제1조"
    assert chunks[0].section == "제1장 총칙"
    assert chunks[0].indexed_text().startswith("민원 처리에 관한 법률 > 제1장 총칙\n제1조(목적)")


def test_long_article_splits_at_paragraph_marks_keeping_the_label():
    block = Block(ARTICLE_10, kind="article", heading_path=("제2장 민원의 처리",), article="제10조")
    chunks = chunk_blocks("d1", "민원 처리에 관한 법률", [block], ChunkParams(max_chars=250, min_chars=50))
    assert len(chunks) >= 3
    for c in chunks:
        assert c.text.startswith("제10조(불필요한 서류 요구의 금지)")
        assert c.location.startswith("제10조제")
        assert len(c.text) <= 250 + len("제10조(불필요한 서류 요구의 금지) ")
    assert chunks[0].location.startswith("제10조제1항")
    # every 항 lands in exactly one chunk, in order
    joined = "".join(c.text for c in chunks)
    positions = [joined.index(m) for m in "①②③④"]
    assert positions == sorted(positions)


def test_sections_and_pages_never_share_a_chunk():
    blocks = [
        Block("첫 쪽의 내용입니다.", page=1),
        Block("둘째 쪽의 내용입니다.", page=2),
        Block("다른 절의 내용입니다.", page=2, heading_path=("Ⅱ. 추진 계획",)),
    ]
    chunks = chunk_blocks("d", "보고서", blocks, ChunkParams(max_chars=500, min_chars=100))
    assert [c.text for c in chunks] == ["첫 쪽의 내용입니다.", "둘째 쪽의 내용입니다.", "다른 절의 내용입니다."]
    assert [c.location for c in chunks] == ["1쪽", "2쪽", "2쪽"]
    assert chunks[2].section == "Ⅱ. 추진 계획"


def test_long_paragraph_cut_at_korean_sentence_boundaries():
    sentences = [
        "민원인은 전자민원창구를 통하여 민원을 신청할 수 있다.",
        "행정기관의 장은 접수한 민원을 지체 없이 처리하여야 한다.",
        "처리기간이 지나면 민원인에게 그 사유를 알려야 한다.",
        "민원인은 처리 결과에 이의가 있으면 이의신청을 할 수 있다.",
    ] * 3
    text = " ".join(sentences)
    chunks = chunk_blocks("d", "안내", [Block(text)], ChunkParams(max_chars=120, min_chars=10), split_sentences)
    assert len(chunks) > 1
    for c in chunks:
        assert len(c.text) <= 120
        for line in c.text.split("\n"):
            assert line in sentences, f"chunk cut inside a sentence: {line!r}"


def test_batched_split_matches_single_split_and_returns_each_sentences_morphemes():
    """Ingestion splits a batch of long passages in one Kiwi call and keeps the morphemes Kiwi found."""
    other = "민원인은 처리 결과에 이의가 있으면 이의신청을 할 수 있다. 처리기간은 7일입니다."
    rows = split_sentences_batch([ARTICLE_10, other])
    assert [[s for s, _ in row] for row in rows] == [split_sentences(ARTICLE_10), split_sentences(other)]
    assert len(rows[1]) == 2
    for row in rows:
        for sentence, terms in row:
            assert terms == content_terms(sentence), sentence
    assert {"민원인", "이의", "신청"} <= set(rows[1][0][1]) and "7" in rows[1][1][1]
    assert split_sentences_batch([]) == []


def test_oversized_sentence_is_cut_on_spaces_and_never_inside_a_syllable():
    word = "행정기관"
    text = " ".join([word] * 100)  # one 499-character 'sentence' without a full stop
    chunks = chunk_blocks("d", "t", [Block(text)], ChunkParams(max_chars=60, min_chars=10), split_sentences)
    assert all(len(c.text) <= 60 for c in chunks)
    for c in chunks:
        assert unicodedata.is_normalized("NFC", c.text)
        assert set(c.text.replace("\n", " ").split()) == {word}
    assert sum(c.text.count(word) for c in chunks) == 100


def test_small_chunks_merge_within_a_section_only():
    blocks = [Block("가. 짧은 항목", heading_path=("1. 개요",)), Block("나. 또 짧은 항목", heading_path=("1. 개요",)),
              Block("다른 절의 짧은 항목", heading_path=("2. 현황",))]
    chunks = chunk_blocks("d", "t", blocks, ChunkParams(max_chars=300, min_chars=50))
    assert [c.text for c in chunks] == ["가. 짧은 항목\n나. 또 짧은 항목", "다른 절의 짧은 항목"]
    assert [c.ordinal for c in chunks] == [0, 1]


def test_heading_blocks_are_context_not_chunks():
    blocks = [Block("제1장 총칙", kind="heading"), Block("본문입니다.", heading_path=("제1장 총칙",))]
    chunks = chunk_blocks("d", "t", blocks, ChunkParams())
    assert [c.text for c in chunks] == ["본문입니다."]
