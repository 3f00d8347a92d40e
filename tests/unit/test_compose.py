"""Answer first, on real statute text: the composer, precise renumbered citations, question kinds, the
lexicon and the gate's decision (real Kiwi and the real parser; no index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.generate.base import Passage
from assistant.generate.citations import precise_citations
from assistant.generate.compose import ABSTAIN_TEXT, compose_answer
from assistant.generate.units import passage_units
from assistant.korean.lexicon import expand_query, official_terms
from assistant.korean.questions import question_kind, state_strength
from assistant.korean.sentences import display_sentences, first_sentence
from assistant.tasks.gate import Evidence, decide, load_models

LAWS = Path(__file__).resolve().parents[2] / "samples" / "laws"


def _article_passages(file: str, title: str, articles: list[str]) -> list[Passage]:
    """Passages made of the real chunks of the given articles, numbered in the order given."""
    from assistant.ingest.base import parse_file
    from assistant.ingest.chunking import ChunkParams, chunk_blocks
    from assistant.korean.sentences import split_sentences

    parsed = parse_file(LAWS / file)
    chunks = chunk_blocks("d", parsed.title, parsed.blocks, ChunkParams(500, 120), split_sentences)
    out = []
    for n, art in enumerate(articles, 1):
        mine = [c for c in chunks if c.article == art]
        assert mine, art
        out.append(Passage(n=n, doc_id=f"d{art}", title=title, source=str(LAWS / file), location=mine[0].location,
                           text="\n".join(c.text for c in mine), article=art,
                           segments=tuple((c.section, c.text) for c in mine),
                           segment_locations=tuple(c.location for c in mine)))
    return out


@pytest.fixture(scope="module")
def decree() -> list[Passage]:
    # retrieval order deliberately puts the answering article second
    return _article_passages("민원처리에관한법률_시행령.md", "민원 처리에 관한 법률 시행령",
                             ["제15조", "제14조", "제19조"])


def test_the_period_asked_for_leads_with_the_items_of_its_rule(decree):
    answer = " ".join(compose_answer("법 해석 물어보는 민원은 며칠 안에 답해줘야 돼요?", decree))
    lead = first_sentence(answer)
    assert lead.startswith("「민원 처리에 관한 법률 시행령」 제14조에 따르면, ")
    assert "제1호" in lead and "14일 이내" in lead and "7일 이내" in lead     # 다음 각 호, expanded
    assert lead.endswith("[2]")                                               # the passage it came from
    assert len(display_sentences(answer)) <= 3                                # the lead and at most two more


def test_a_bullet_under_a_header_line_is_about_what_the_header_names(shared_corpus):
    # 국가안전시스템 개편 종합대책 p.14: "《 재난의료지원팀 (…)이란? 》" over "(역할) …" and "(구성) 의사 1명, …
    # (총4명)". The 구성 line shares no word with the question; the header above it does.
    from assistant.ingest.base import parse_file
    from assistant.ingest.chunking import ChunkParams, chunk_blocks
    from assistant.korean.sentences import split_sentences

    path = shared_corpus / "allganize-public-docs" / "국가안전시스템 개편 종합대책 대국민 보고(12.31. 기준).md"
    parsed = parse_file(path)
    chunks = chunk_blocks("d", parsed.title, parsed.blocks, ChunkParams(500, 120), split_sentences)
    mine = [c for c in chunks if "재난의료지원팀 (Disaster" in c.text or "(구성) 의사 1명" in c.text]
    assert mine
    passage = Passage(n=1, doc_id="d", title=parsed.title, source=str(path), location=mine[0].location,
                      text="\n".join(c.text for c in mine), segments=tuple((c.section, c.text) for c in mine),
                      segment_locations=tuple(c.location for c in mine))
    units = {u.text: u for u in passage_units(passage)}
    member = next(u for t, u in units.items() if "(구성) 의사 1명" in t)
    assert {"재난", "의료", "지원", "팀"} <= set(member.context)
    lead = first_sentence(" ".join(compose_answer("재난 때 출동하는 의료지원팀은 한 팀이 몇 명으로 꾸려지나요?",
                                                   [passage])))
    assert "총4명" in lead, lead


def test_a_statute_pasted_into_another_document_is_quoted_from_the_statute():
    from dataclasses import replace

    law = replace(_article_passages("공공기관의정보공개에관한법률_법률.md", "공공기관의 정보공개에 관한 법률",
                                    ["제17조"])[0], n=2)
    pasted = "정보공개 업무 안내\n" + law.text      # a manual (or a 해석례's 관계 법령) that pastes the article
    manual = Passage(n=1, doc_id="m", title="정보공개 업무 안내서", source="안내서.md", location="3쪽", text=pasted,
                     segments=(("", pasted),), segment_locations=("3쪽",))
    lead = first_sentence(" ".join(compose_answer("정보공개 비용은 누가 부담하나요?", [manual, law])))
    assert lead.startswith("「공공기관의 정보공개에 관한 법률」 제17조") and lead.endswith("[2]"), lead
    alone = first_sentence(" ".join(compose_answer("정보공개 비용은 누가 부담하나요?", [manual])))
    assert "청구인이 부담한다" in alone and alone.endswith("[1]")    # without the statute, the copy still answers


def test_a_quote_whose_pdf_text_lost_its_spacing_is_shown_spaced(shared_corpus):
    from assistant.korean.sentences import restore_spacing

    path = shared_corpus / "allganize-public-docs" / "240418 도로터널 결로대책 가이드라인(최종).md"
    line = next(ln for ln in path.read_text(encoding="utf-8").splitlines() if "이가이드라인은본가이드라인제정" in ln)
    passage = Passage(n=1, doc_id="g", title="도로터널 결로대책 가이드라인", source=str(path), location="1쪽",
                      text=line, segments=(("1.1 적용범위", line),), segment_locations=("1쪽",))
    lead = first_sentence(" ".join(compose_answer("도로터널 결로 가이드라인은 어떤 터널에 적용하나요?", [passage])))
    assert lead.startswith("이 가이드라인은 본 가이드라인 제정 이후 ｢ 도로법 ｣"), lead   # 도로법 kept whole
    assert lead.replace(" ", "").startswith(line.replace(" ", "")[:60])                  # same characters
    normal = "민원인은 보완기간또는 연장된 기간 안에 서류를 내야 한다."
    assert restore_spacing(normal) == normal                                             # normal text untouched


def test_the_rule_leads_and_its_extension_only_when_asked_about():
    # 정보공개법 제11조: ① 10일 이내에 결정 ② 부득이한 사유로 … 10일의 범위에서 연장할 수 있다. ②
    # repeats ①'s words and adds more, so it out-scored the rule it departs from
    art11 = _article_passages("공공기관의정보공개에관한법률_법률.md", "공공기관의 정보공개에 관한 법률", ["제11조"])
    rule = first_sentence(" ".join(compose_answer("정보공개 청구하면 언제까지 공개 여부를 알려줘야 하나요?", art11)))
    assert rule.startswith("「공공기관의 정보공개에 관한 법률」 제11조제1항") and "10일 이내" in rule, rule
    more = first_sentence(" ".join(compose_answer("정보공개 결정 기간을 더 늘릴 수 있나요?", art11)))
    assert more.startswith("「공공기관의 정보공개에 관한 법률」 제11조제2항") and "연장할 수 있다" in more, more


def test_citations_are_renumbered_in_order_of_first_use_with_the_precise_place(decree):
    answer = " ".join(compose_answer("질의민원 처리기간 며칠?", decree))
    text, cited = precise_citations(answer, decree)
    assert [c.n for c in cited] == list(range(1, len(cited) + 1))
    assert text.split(" [", 1)[1].startswith("1]")                           # the first marker is [1]
    first = cited[0]
    assert first.doc_id == "d제14조" and first.location == "제14조제1호·제2호"
    assert any("14일 이내" in q for q in first.quotes)
    assert all(q in " ".join(first.text.split()) for q in first.quotes)     # quotes are exact source text


def test_detail_gives_more_than_the_short_answer(decree):
    short = compose_answer("민원 처리기간", decree)
    long = compose_answer("민원 처리기간", decree, detail=True)
    assert len(long) >= len(short) and long[0] == short[0]


def test_nothing_relevant_abstains(decree):
    assert compose_answer("우주 발사체의 추진제는 무엇인가요?", decree) == [ABSTAIN_TEXT]
    assert compose_answer("민원 처리기간은?", []) == [ABSTAIN_TEXT]


def test_units_know_their_article_paragraph_and_item():
    [p] = _article_passages("민원처리에관한법률_법률.md", "민원 처리에 관한 법률", ["제19조"])
    units = passage_units(p)
    first = next(u for u in units if u.paragraph == 1)
    assert first.location == "제19조제1항" and first.article == "제19조"
    second = next(u for u in units if u.paragraph == 2)
    assert second.location == "제19조제2항" and "공휴일과 토요일은 산입" in second.text


def test_items_remember_the_rule_that_introduces_them(decree):
    units = passage_units(decree[1])
    rule = next(u for u in units if u.introduces_items)
    assert [it.location for it in rule.items] == ["제14조제1호", "제14조제2호"]
    assert all(it.parent is rule for it in rule.items)


@pytest.mark.parametrize(("question", "kind"), [
    ("질의민원은 며칠 안에 처리해야 하나요", "기간"),
    ("첫만남이용권 얼마?", "금액"),
    ("보완 요청은 몇 번까지 받아줘?", "수량"),
    ("장애인 등록하러 갈 때 뭐 챙겨가요", "서류"),
    ("기초연금 어디서 신청해요", "장소"),
    ("누가 정보공개를 청구할 수 있나요", "대상"),
    ("다수인관련민원이란 무엇인가요", "정의"),
    ("확약을 말로 해도 되나요?", "가능여부"),
])
def test_question_kinds(question, kind):
    assert question_kind(question).kind == kind


def test_a_sentence_with_the_figure_states_the_kind_strongly():
    assert state_strength("기간", "접수한 날부터 14일 이내에 처리하여야 한다.") == 1.0
    assert state_strength("기간", "처리기간을 정하여 공표한다.") == 0.5
    assert state_strength("금액", "월 최대 32만 3180원까지 지원") == 1.0
    assert state_strength("금액", "처리기간을 정하여 공표한다.") == 0.0


def test_everyday_words_bring_the_statute_words():
    assert {"기간", "이내"} <= set(official_terms("며칠 걸려요?"))
    assert {"반려", "이송"} <= set(official_terms("서류 돌려보내도 돼요?"))
    assert "고충민원" in official_terms("억울한 일 하소연하려면")
    assert "확약" in official_terms("나중에 허가해준다는 약속")
    assert {"비용", "부담"} <= set(official_terms("복사비랑 우송료는 누가 내요?"))   # 내다 = pay, not only submit
    assert "부담" not in official_terms("누가 대상이에요?")
    assert expand_query("며칠 걸려요?").startswith("며칠 걸려요? (")
    assert official_terms("민원") == [] and expand_query("민원") == "민원"


def test_the_gate_declines_without_evidence_and_the_bias_moves_it():
    models = load_models()
    assert set(models) == {"semantic", "lexical"}
    weak = Evidence(coverage=0.05, coverage_official=0.05, semantic=0.80, bm25=0.02, unknown=1.0,
                    best_unit=0.02, fact=0.0, numbers=1.0)
    strong = Evidence(coverage=1.0, coverage_official=1.0, semantic=0.95, bm25=1.2, agreement=1.0,
                      best_unit=0.9, fact=0.9, numbers=1.0)
    assert not decide(weak).answer and decide(strong).answer
    assert decide(strong).model == "semantic"
    assert decide(Evidence(coverage=1.0, coverage_official=1.0, bm25=1.2, best_unit=0.9, fact=0.9)).model == "lexical"
    middle = Evidence(coverage=0.4, coverage_official=0.4, semantic=0.89, bm25=0.3, agreement=1.0, best_unit=0.2,
                      fact=0.2)
    p = decide(middle).probability
    assert decide(middle, bias=+20).answer and not decide(middle, bias=-20).answer
    assert decide(middle, bias=+20).probability == p     # the bias moves the threshold, not the estimate
