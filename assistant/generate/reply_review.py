"""The 검토 결과 items of a reply draft and their 관련 근거: which source sentences answer the complaint.

Each point quotes the most relevant sentence of one source, introduced by the law and article (or document) it
comes from and followed by its [n] marker — so nothing is asserted that a source does not say. Sentences are
candidates only when they bear on the complaint (IDF-weighted shared content morphemes, ``bears_on``); they are
ranked by shared morphemes and pairs, the kind of answer asked for (며칠 → a period) and source rank. 관련 근거
lists only articles that are retrieved passages or are quoted inside one.

Source text is data: a sentence that addresses the assistant is never a candidate
(assistant.korean.injection.without_instructions), and a title or label made of one does not introduce a quote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.generate.base import Passage
from assistant.generate.reply_gist import asked_sentences, sentences, without_placeholders
from assistant.korean.injection import addresses_assistant, without_instructions

MAX_POINTS = 3
MAX_QUOTE_CHARS = 360

_ARTICLE_HEAD = re.compile(r"^\s*(제\s*\d+\s*조(?:\s*의\s*\d+)?)\s*(?:\(([^)]{1,40})\))?\s*")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_CASE_NO = re.compile(r"(?:법제처|[가-힣]{2,6})-\d{2}-\d{4}")


@dataclass
class _Candidate:
    passage: Passage
    text: str
    paragraph: int | None  # 항 number when the sentence starts a 항
    article: str = ""  # the article the sentence belongs to (a merged passage can hold several)
    article_title: str = ""
    score: float = 0.0


#: one 검토 결과 item: its text and the sentence it quotes
Point = tuple[str, _Candidate]



_LAW_TITLE = re.compile(r"(?:법|법률|시행령|시행규칙|규칙|규정|조례|령)$")
_ARTICLE_IN_LOCATION = re.compile(r"제\d+조")


def is_law_text(title: str, source: str, article: str | None, location: str) -> bool:
    """A statute passage: it has an article label (or its location lists articles of a law-named document)."""
    if _CASE_NO.search(f"{source} {title}"):
        return False
    return bool(article) or (bool(_ARTICLE_IN_LOCATION.search(location)) and bool(_LAW_TITLE.search(title.strip())))


def is_law_passage(p: Passage) -> bool:
    return is_law_text(p.title, p.source, p.article, p.location)


def article_of(p: Passage) -> tuple[str, str]:
    """("제19조", "처리기간의 계산") from the passage's article label and its text's article heading."""
    m = _ARTICLE_HEAD.match(p.text)
    article = re.sub(r"\s+", "", (p.article or (m.group(1) if m else "")))
    article = re.sub(r"제\d+항.*$", "", article)
    title = m.group(2) if m and m.group(2) else ""
    return article, title


def _candidates(passages: Sequence[Passage]) -> list[_Candidate]:
    """Sentences of every passage; in law passages each keeps the article (and 항) it belongs to."""
    cands: list[_Candidate] = []
    for p in passages:
        law = is_law_passage(p)
        article, article_title = article_of(p) if law else ("", "")
        paragraph: int | None = None
        for sent in without_instructions(sentences(p.text)):
            body = sent
            head = _ARTICLE_HEAD.match(sent) if law else None
            if head and head.group(2) is not None:  # "제11조(정보공개 여부의 결정) …" starts a new article
                article, article_title, paragraph = re.sub(r"\s+", "", head.group(1)), head.group(2), None
                body = sent[head.end():].strip()
            if body and body[0] in _CIRCLED:
                paragraph = _CIRCLED.index(body[0]) + 1
                body = body[1:].strip()
            if len(body) >= 12 and not body.startswith(("- 안건번호", "- 출처", "※")):
                cands.append(_Candidate(p, body, paragraph, article, article_title))
    return cands


_LIGHT_VERBS = frozenset("하다 있다 없다 되다 주다 받다 않다 알리다 같다".split())  # "해야 하나요" is not a subject
_ASKS_DURATION = re.compile(r"며칠|몇\s?일|언제까지|기간|기한|얼마나\s?걸")
_ASKS_AMOUNT = re.compile(r"얼마|금액|비용|수수료|요금")
_DURATION = re.compile(r"\d+\s?(?:일|개월|시간|주)|이내|지체\s?없이|즉시")
_AMOUNT = re.compile(r"\d[\d,]*\s?(?:원|만원|억원)")


def _terms(texts: list[str]) -> list[list[str]]:
    from assistant.korean.morph import content_terms_batch

    return content_terms_batch(texts) if texts else []


def rank_candidates(complaint: str, cands: list[_Candidate]) -> None:
    """Score each sentence against the complaint: IDF-weighted shared content morphemes, shared morpheme pairs
    ("공개 여부 … 결정"), the kind of answer asked for (며칠 → a period, 얼마 → an amount), and source rank."""
    term_lists = _terms([complaint] + [c.text for c in cands])
    query, lists = set(term_lists[0]) - _LIGHT_VERBS, term_lists[1:]
    query_pairs = set(zip(term_lists[0], term_lists[0][1:], strict=False))
    n = len(lists) + 1
    df: dict[str, int] = {}
    for terms in lists:
        for t in set(terms):
            df[t] = df.get(t, 0) + 1
    wants_duration, wants_amount = bool(_ASKS_DURATION.search(complaint)), bool(_ASKS_AMOUNT.search(complaint))
    for c, terms in zip(cands, lists, strict=True):
        s = set(terms)
        overlap = sum(math.log(n / df[t]) + 0.5 for t in query & s)
        overlap += 0.7 * len(query_pairs & set(zip(terms, terms[1:], strict=False)))
        intent = 1.0 + 0.5 * (wants_duration and bool(_DURATION.search(c.text))) \
            + 0.5 * (wants_amount and bool(_AMOUNT.search(c.text)))
        c.score = (overlap / math.sqrt(len(s) + 4) * intent + 0.3 / c.passage.n) * _form_weight(c)


def _form_weight(c: _Candidate) -> float:
    """Whole sentences quote better than list items (1. …, 가. …); a 해석례's 회답 is its conclusion."""
    weight = 1.0
    if re.match(r"^(?:\d{1,2}|[가-하])\.\s", c.text):
        weight *= 0.6
    if not is_law_passage(c.passage) and not re.search(r"(?:다|요|까)[.?]?$", c.text):
        weight *= 0.5
    if "회답" in c.passage.location:
        weight *= 1.5
    if len(c.text) > 250:  # a paragraph-long sentence is a poor quotation
        weight *= 0.5
    return weight



def _quote(text: str) -> str:
    text = text.rstrip()
    if len(text) > MAX_QUOTE_CHARS:
        cut = text.rfind(" ", 0, MAX_QUOTE_CHARS)
        text = text[: cut if cut > 0 else MAX_QUOTE_CHARS].rstrip(" ,") + " …"
    return text.rstrip(".")


def _intro(c: _Candidate) -> str:
    p = c.passage
    title = _label(p.title) or "관련 자료"
    if is_law_passage(p):
        para = f"제{c.paragraph}항" if c.paragraph else ""
        return f"「{title}」 {c.article}{para}에서는"
    case = _CASE_NO.search(p.source) or _CASE_NO.search(p.title)
    if case:
        return f"법제처 법령해석례({case.group()})에서는"
    location = _label(p.location)
    where = f"({location})" if location else ""
    return f"『{title}』{where}에서는"


def _label(text: str) -> str:
    """A title or location ("발급 장소, 수수료") without the parts that address the assistant (a heading can be one)."""
    parts = [x for x in (text or "").split(", ") if not addresses_assistant(x)]
    label = ", ".join(parts)
    return "" if addresses_assistant(label) else label


_LEAD = re.compile(r"^\s*(?:제\s*\d+\s*조(?:의\s*\d+)?\s*(?:\([^)]*\))?)?\s*[①-⑳]?\s*")


def _same_text(a: str, b: str) -> bool:
    """Whether two sentences say the same thing (one contains the other once article labels are dropped)."""
    a, b = (" ".join(_LEAD.sub("", x).split()) for x in (a, b))
    return bool(a and b) and (a in b or b in a)


def _article_number(article: str) -> tuple[int, int]:
    m = re.match(r"제(\d+)조(?:의(\d+))?", article or "")
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (10**6, 0)


def _quote_particle(quote: str) -> str:
    """"…한다"고 / "…신청"이라고 / "…기관"이라고: the quotative particle that fits the quote's last syllable."""
    last = quote.rstrip()[-1:] if quote.strip() else ""
    if last == "다" and not quote.rstrip().endswith("니다"):
        return "고"
    if "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28:
        return "이라고"
    return "라고"


def _verb(c: _Candidate) -> str:
    if is_law_passage(c.passage):
        return "규정하고 있습니다"
    if _CASE_NO.search(c.passage.source) or _CASE_NO.search(c.passage.title):
        return "해석한 바 있습니다"
    return "안내하고 있습니다"


#: a sentence is quoted only when it holds this share of the complaint's IDF-weighted content morphemes
#: (its article title counted), so a sentence that shares no more than a stray word is never quoted. Low on
#: purpose: long complaints spread their weight over many words (the 청문 rule answering a 허가 취소 question
#: holds 0.08); passage relevance (assistant.tasks.draft_reply.relevance) does the main filtering.
SENTENCE_FLOOR = 0.08


_LIST_ITEM = re.compile(r"^(?:\d{1,2}|[가-하])\\?\.\s")
_WHOLE = re.compile(r"(?:다|요|까)[.?]?[\"”』」)]?$")
#: words every 민원 text shares: sharing them says nothing about the subject of the complaint
GENERIC_TERMS = frozenset("민원 민원인 처리 행정기관 기관 경우 신청 사항 관련 해당 법률 규정 있다 없다 하다 되다 "
                          "알리다 주다 받다 관하다 대하다 따르다 같다 위하다 않다".split())


def bears_on(cands: list[_Candidate], weights: dict[str, float], complaint: str = "") -> list[tuple[bool, float]]:
    """Whether each sentence bears on the complaint: SENTENCE_FLOOR of its weighted content morphemes (article
    title included) and at least two shared words beyond the ones every 민원 text has (민원실 alone does not make
    a rule about 민원실 staff an answer about its car park)."""
    from assistant.korean.scoring import weighted_share

    term_lists = _terms([f"{c.article_title} {c.text}" for c in cands])
    weights = {t: w for t, w in weights.items() if t not in GENERIC_TERMS} or weights
    wants_duration, wants_amount = bool(_ASKS_DURATION.search(complaint)), bool(_ASKS_AMOUNT.search(complaint))
    out = []
    for c, terms in zip(cands, term_lists, strict=True):
        shared = {t for t in set(terms) & set(weights) if len(t) >= 2} - GENERIC_TERMS  # 시, 장: too vague
        cov = weighted_share(weights, set(terms))
        # one shared subject word is enough when it carries much of the complaint, or when the sentence gives
        # the kind of answer asked for ("수수료가 얼마" → "수수료는 400원")
        answers = (wants_duration and bool(_DURATION.search(c.text))) or (wants_amount and bool(_AMOUNT.search(c.text)))
        ok = cov >= SENTENCE_FLOOR and (len(shared) >= 2 or (len(shared) == 1 and (answers or cov >= 0.2)))
        out.append((ok, cov))
    return out


#: words of a request that are not its subject ("답변 부탁드립니다", "문제가 없는지 검토해 주십시오")
_REQUEST_WORDS = frozenset("답변 부탁 회신 안내 설명 문의 요청 질문 궁금 연락 확인 검토 문제 근거 이상 이하".split())


def asked_topics(complaint: str) -> set[str]:
    """The nouns of the sentences that ask, each as written with its compound head ("이의신청은" → "이의신청"
    even where Kiwi splits "이" off at the start of a sentence): what a quoted sentence must be about. The
    story before the question ("정보공개를 청구했는데 …") names the law, not what is asked of it."""
    from assistant.korean.morph import STOP_TERMS, noun_phrases
    from assistant.tasks.pii import PLACEHOLDERS

    topics: set[str] = set()
    for sentence in asked_sentences(complaint):
        for ph in PLACEHOLDERS.values():
            sentence = sentence.replace(ph, " ")
        for phrase in noun_phrases(sentence):
            at = sentence.find(phrase)
            if at < 0:
                continue
            span = sentence[sentence.rfind(" ", 0, at) + 1: at + len(phrase)]
            for word in span.split():
                word = re.sub(r"^[^가-힣A-Za-z0-9]+", "", word)
                if len(word) >= 2 and not {word} & (_REQUEST_WORDS | STOP_TERMS | GENERIC_TERMS):
                    topics.add(word)
    return topics


def _on_topic(c: _Candidate, topics: set[str]) -> bool:
    text = re.sub(r"\s+", "", f"{c.article_title} {c.text}")
    return not topics or any(t in text for t in topics)


def _prefer_statutes(cands: list[_Candidate]) -> list[_Candidate]:
    """A 해석례 or guide sentence that quotes an article gives way to the article itself, which takes its score:
    the reply cites the statute, not a document repeating it. A document whose best sentence was such a quote
    gives way altogether (its other sentences answer the question the 해석례 was asked, not this one)."""
    laws = [c for c in cands if is_law_passage(c.passage)]
    best: dict[str, tuple[float, bool]] = {}
    for c in cands:
        if is_law_passage(c.passage):
            continue
        same = [law for law in laws if _same_text(c.text, law.text)]
        for law in same:
            law.score = max(law.score, c.score)
        if c.score > best.get(c.passage.doc_id, (-1.0, False))[0]:
            best[c.passage.doc_id] = (c.score, bool(same))
    return [c for c in cands if is_law_passage(c.passage) or not best[c.passage.doc_id][1]]


def review_points(complaint: str, passages: Sequence[Passage],
                  weights: dict[str, float] | None = None) -> list[Point]:
    """Up to MAX_POINTS points, one per source, best sentence first; each returns (text, quoted sentence).
    With ``weights`` (the complaint's morphemes and their IDF in the index), sentences that do not bear on
    the complaint are not candidates at all; nor are sentences without a noun of what is asked
    (:func:`asked_topics`). A statute is quoted rather than a 해석례 quoting it."""
    # whole law sentences only: an item out of its list ("법인이나 조합 등의 설립허가의 취소") says nothing alone
    cands = [c for c in _candidates(passages)
             if not is_law_passage(c.passage) or (not _LIST_ITEM.match(c.text) and _WHOLE.search(c.text))]
    coverage: dict[int, float] = {}
    if cands and weights:
        checked = bears_on(cands, weights, complaint)
        coverage = {id(c): cov for c, (ok, cov) in zip(cands, checked, strict=True) if ok}
        cands = [c for c in cands if id(c) in coverage]
    # the law's name alone does not answer the question; when no source uses the question's own words (asked in
    # the citizen's terms, or "…가 없는지 검토해 주십시오" about the story told), every candidate stays
    topics = asked_topics(complaint)
    cands = [c for c in cands if _on_topic(c, topics)] or cands
    if not cands:
        return []
    rank_candidates(without_placeholders(complaint), cands)
    for c in cands:  # the index-wide weights know that 청문 matters more than 처분
        c.score *= 1.0 + 2.0 * coverage.get(id(c), 0.0)
    cands = _prefer_statutes(cands)
    chosen: list[_Candidate] = []
    per_doc: dict[str, int] = {}
    order = {id(c): i for i, c in enumerate(cands)}
    for c in sorted(cands, key=lambda c: -c.score):
        if len(chosen) >= MAX_POINTS:
            break
        limit = 2 if is_law_passage(c.passage) else 1  # two articles of one law, one point per other document
        if per_doc.get(c.passage.doc_id, 0) >= limit or any(_same_text(c.text, o.text) for o in chosen):
            continue  # a 해석례 often quotes the very article already chosen
        if chosen and c.score < 0.4 * chosen[0].score:
            break
        chosen.append(c)
        per_doc[c.passage.doc_id] = per_doc.get(c.passage.doc_id, 0) + 1
    # the sentence that answers best comes first; the others follow in the order of the law
    chosen[1:] = sorted(chosen[1:], key=lambda c: (not is_law_passage(c.passage),
                                                   c.passage.title if is_law_passage(c.passage) else "",
                                                   _article_number(c.article), c.passage.n, order[id(c)]))
    points = []
    for c in chosen:
        quote = _quote(c.text)
        points.append((f"{_intro(c)} \"{quote}\"{_quote_particle(quote)} {_verb(c)}. [{c.passage.n}]", c))
    return points


# --------------------------------------------------------------------------------------- 관련 근거

def basis_lines(points: Sequence[Point]) -> list[str]:
    """「법령명」 제N조(제목) for every law article quoted, then the articles quoted inside the points."""
    from assistant.generate.citations import parse_law_references

    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    for text, c in points:
        p = c.passage
        if is_law_passage(p):
            key = (p.title, c.article)
            if c.article and key not in seen:
                seen.add(key)
                lines.append(f"- 「{_label(p.title) or '관련 법령'}」 {c.article}"
                             + (f"({c.article_title})" if c.article_title else ""))
        elif (p.title, "") not in seen:
            seen.add((p.title, ""))
            lines.append(f"- 『{_label(p.title) or '관련 자료'}』")
        for ref in parse_law_references(text):
            key = (ref.law, ref.article)
            if key not in seen:
                seen.add(key)
                lines.append(f"- 「{ref.law}」 {ref.article}")
    return lines

