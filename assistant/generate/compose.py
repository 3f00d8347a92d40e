"""Answer first: the extractive answer opens with the sentence that carries what the question asks.

Steps, given the question and the numbered passages the retriever found (best first):

1. what is asked (assistant.korean.questions: 기간, 금액, 수량, 서류, 장소, 대상, 방법, 정의, 가능 여부) and which
   words, typed and official (assistant.korean.lexicon: 며칠 → 기간·이내), stand for the topic;
2. every passage cut into located units — sentences and statute items (assistant.generate.units);
3. each unit scored by how much of the question it covers (IDF-weighted, its article title included; words of
   the heading or header line it sits under at half weight),
   whether it states the kind of fact asked (a period for 기간, an amount for 금액…), how well its passage
   covers the question, the passage's rank, and — for a 법제처 해석례 — whether it is the 회답; a statute's
   exception or extension ("다만", "불구하고", "연장할 수 있다") yields to the rule unless the question asks about it;
4. the best unit leads. A rule that introduces items ("다음 각 호의 기간 이내에 처리하여야 한다") is quoted with
   its items (제1호 … 14일 이내, 제2호 … 7일 이내), and an item with the rule that introduces it;
5. at most two supporting units follow (five with ``detail``), different from what is already said.

Statute units are introduced by their article ("「민원 처리에 관한 법률 시행령」 제14조에 따르면, …"); every
unit ends with the number of its passage ``[n]``. Sentences that address the assistant (prompt injection
planted in a document, assistant.korean.injection) are never quoted, nor the payload that follows one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.generate.base import Passage
from assistant.generate.units import Unit, is_statute, passage_units
from assistant.korean.injection import instruction_flags
from assistant.korean.lexicon import EXPANSION_WEIGHT, official_terms
from assistant.korean.morph import STOP_TERMS, content_terms_batch, question_terms
from assistant.korean.questions import fact_strength, question_kind
from assistant.korean.scoring import cosine, idf_table, tfidf
from assistant.korean.sentences import restore_spacing
from assistant.korean.statute import location_label

ABSTAIN_TEXT = "제공된 문서에서 확인할 수 없습니다."

_ABOUT_DOCUMENT = re.compile(r"^(?:이|본)\s*(?:안내문|안내서|문서|자료|지침|책자|편람|보고서|글|해설서)(?:은|는|에서는)"
                             r"|(?:설명|안내|소개|정리)(?:합니다|한다|하고자 합니다)\.?$")
#: a provision that departs from the rule before it: an exception, a waiver, an extension
_EXCEPTION = re.compile(r"^다만|불구하고|부득이한\s*사유|예외로\s*한다|적용하지\s*아니한다|하지\s*아니할\s*수\s*있다"
                        r"|연장할\s*수\s*있다")
#: a question about the exception itself ("늘릴 수 있나요", "안 해도 되나요", "못 하면")
_ASKS_EXCEPTION = re.compile(r"연장|늘리|늘려|늘릴|미루|미뤄|예외|생략|안\s*해도|않아도|안\s*줘도|안\s*주고|못\s*하면"
                             r"|못\s*하는|없을\s*때|없으면|부득이|빼도|제외|단서")
_CLAUSE_BREAK = re.compile(r"(?:고|며|나|바|데|면|서|여),\s")
_ITEM_MARK = re.compile(r"^\s*(?:(\d{1,2}(?:의\d{1,2})?)|([가-하]))\.\s*")
MAX_SENTENCE_CHARS = 320
#: a unit at least this long whose text a statute passage among the passages also has is that statute's
COPY_MIN_CHARS = 30
#: weight of a question word found only in what a unit sits under (its heading, a header line above it)
CONTEXT_WEIGHT = 0.5
#: kinds of question answered by a figure or a name, which a sentence either states or does not
FIGURE_KINDS = ("기간", "금액", "수량", "장소", "서류")


@dataclass(frozen=True)
class ComposeOptions:
    supports: int = 2              # supporting units after the lead (``detail``: ``detail_supports``)
    detail_supports: int = 5
    min_relative_score: float = 0.45
    min_support_coverage: float = 0.6
    max_items: int = 4             # items quoted with their rule
    max_items_chars: int = 420
    # weights chosen on the people-* dev split with `python -m eval.tune_compose` (answer-first 0.49 → 0.59)
    w_coverage: float = 0.30       # the unit's share of the question, relative to the best-covering unit
    w_fact: float = 0.50           # it states the kind of fact asked (a figure: 기간, 금액, 수량, 장소, 서류)
    w_fact_weak: float = 0.10      # … for kinds most statute sentences state (가능 여부, 방법, 대상, 정의)
    w_passage: float = 0.10        # its passage's share of the question, relative to the best passage
    w_chunk: float = 0.20          # how close its chunk is to the question (semantic layer), relative
    rank_decay: float = 0.30       # the retriever's order: 1 / (1 + decay * (rank - 1))
    exception_factor: float = 0.85  # a statute's exception or extension, unless the question asks about one


@dataclass
class Scored:
    unit: Unit
    score: float
    coverage: float
    vec: dict[str, float]


def compose_answer(question: str, passages: Sequence[Passage], detail: bool = False,
                   options: ComposeOptions | None = None) -> list[str]:
    """The answer as cited sentences, the one that answers first; ``[ABSTAIN_TEXT]`` when nothing fits."""
    opt = options or ComposeOptions()
    scored = score_units(question, passages, opt)
    if not scored:
        return [ABSTAIN_TEXT]
    lead = scored[0]
    chosen = [lead]
    used = _bundle_ids(lead.unit)
    limit = opt.detail_supports if detail else opt.supports
    relative = opt.min_relative_score / 2 if detail else opt.min_relative_score
    support_coverage = opt.min_support_coverage / 2 if detail else opt.min_support_coverage
    for s in scored[1:]:
        if len(chosen) > limit:
            break
        if s.score < relative * lead.score or s.coverage <= 0:
            break
        if s.coverage < support_coverage * lead.coverage:
            continue   # a support must be about the question as much as the lead nearly is
        ids = _bundle_ids(s.unit)
        if ids & used or any(cosine(s.vec, c.vec) > 0.8 for c in chosen):
            continue
        chosen.append(s)
        used |= ids
    by_n = {p.n: p for p in passages}
    return render(chosen, by_n, question)


def score_units(question: str, passages: Sequence[Passage],
                opt: ComposeOptions | None = None) -> list[Scored]:
    """Candidate units, best first (units that cover none of the question are left out)."""
    opt = opt or ComposeOptions()
    q_terms = list(dict.fromkeys(question_terms(question)))
    official = [t for t in dict.fromkeys(_terms(" ".join(official_terms(question))))
                if t not in q_terms and t not in STOP_TERMS]
    if not (q_terms or official) or not passages:
        return []
    kinds = question_kind(question).all
    asks_exception = bool(_ASKS_EXCEPTION.search(question))
    w_fact = opt.w_fact if kinds and kinds[0] in FIGURE_KINDS else opt.w_fact_weak
    units = _without_copies([u for p in passages for u in _quotable(passage_units(p))], passages)
    if not units:
        return []
    titles = {t: set(ts) for t, ts in zip(*_title_terms(units), strict=True)}
    own = [set(u.terms) | titles.get(u.article_title, set()) for u in units]   # a unit's words, its title's
    idf, n = idf_table(own)
    default_idf = math.log(1 + n + 0.5)
    weights = {t: idf.get(t, default_idf) for t in q_terms}
    weights.update({t: EXPANSION_WEIGHT * idf.get(t, default_idf) for t in official if t not in weights})
    total = sum(weights.values()) or 1.0
    passage_seen: dict[int, set[str]] = {}
    for u, terms in zip(units, own, strict=True):
        passage_seen.setdefault(u.n, set()).update(terms)
    passage_cov = {k: sum(w for t, w in weights.items() if t in v) / total for k, v in passage_seen.items()}
    best_cov = max(passage_cov.values(), default=0.0)
    rank = {p.n: i for i, p in enumerate(passages)}
    # coverage relative to the best-covering unit: colloquial questions share few words with any sentence,
    # so absolute shares are all small; what matters is which sentence shares the most
    seen_of = [terms | {t for it in u.items for t in it.terms} | (set(u.parent.terms) if u.parent else set())
               for u, terms in zip(units, own, strict=True)]
    # a word only the unit's heading or header line has counts for less: it is shared by every unit under it
    covs = [sum(w if t in seen else CONTEXT_WEIGHT * w if t in u.context else 0.0 for t, w in weights.items())
            / total for u, seen in zip(units, seen_of, strict=True)]
    top_cov = max(covs, default=0.0) or 1.0
    chunk_lo = min((u.chunk_score for u in units if u.chunk_score), default=0.0)
    chunk_hi = max((u.chunk_score for u in units), default=0.0)
    out: list[Scored] = []
    for u, seen, cov in zip(units, seen_of, covs, strict=True):
        if cov <= 0 and not (u.conclusion and passage_cov.get(u.n, 0) > 0):
            continue
        fact = fact_strength(kinds, _bundle_text(u))
        prior = 1.0 / (1.0 + opt.rank_decay * rank.get(u.n, 0))
        near = (u.chunk_score - chunk_lo) / (chunk_hi - chunk_lo) if u.chunk_score and chunk_hi > chunk_lo else 0.0
        score = prior * (opt.w_coverage * cov / top_cov + w_fact * fact
                         + opt.w_passage * passage_cov.get(u.n, 0.0) / (best_cov or 1.0) + opt.w_chunk * near)
        if u.conclusion and rank.get(u.n, 9) < 2 and passage_cov.get(u.n, 0.0) >= max(0.5, 0.8 * best_cov):
            score += 0.25   # the 회답 of a top-ranked, matching 해석례 answers the question directly
        if u.quoted_law:
            score *= 0.8
        if not asks_exception and _EXCEPTION.search(u.text):
            score *= opt.exception_factor   # the rule answers first; its exception (다만, 불구하고) follows
        if _ABOUT_DOCUMENT.search(u.text):
            score *= 0.5
        if len(u.text) > 260:
            score *= math.sqrt(260 / len(u.text))
        out.append(Scored(u, score, cov, tfidf(list(seen), idf)))
    out.sort(key=lambda s: (-s.score, s.unit.n, s.unit.idx))
    return out


def _quotable(units: Sequence[Unit]) -> list[Unit]:
    """The units of one passage an answer may quote: no questions, no fragments, no sentence that addresses the
    assistant and no payload right after one (the filter reads them in document order)."""
    planted = instruction_flags([u.text for u in units])
    return [u for u, drop in zip(units, planted, strict=True) if not (drop or u.question_like or len(u.text) < 6)]


def _without_copies(units: list[Unit], passages: Sequence[Passage]) -> list[Unit]:
    """Units of other documents that copy a statute found among the passages are left to the statute itself
    (a 해석례's or manual's quoted 관계 법령): quoted from there, they lose the law's name and 조·항."""
    statute_text = " ".join(" ".join(p.text.split()) for p in passages if is_statute(p))
    if not statute_text:
        return units
    by_n = {p.n: p for p in passages}
    return [u for u in units if is_statute(by_n[u.n]) or len(u.text) < COPY_MIN_CHARS
            or _copy_key(u.text) not in statute_text]


def _copy_key(text: str) -> str:
    """A unit's text as it would appear in the statute: its 항 mark and article head dropped."""
    text = re.sub(r"^\s*(?:제\s*\d+\s*조(?:의\s*\d+)?\s*(?:\([^)]{0,60}\))?\s*)?[①-⑳]?\s*", "", text)
    return " ".join(text.split())


def _terms(text: str) -> list[str]:
    return content_terms_batch([text])[0] if text.strip() else []


def _title_terms(units: Sequence[Unit]) -> tuple[list[str], list[list[str]]]:
    titles = list(dict.fromkeys(u.article_title for u in units if u.article_title))
    return titles, content_terms_batch(titles) if titles else []


def _bundle_ids(u: Unit) -> set[tuple[int, int]]:
    """The units an answer sentence quotes together (a rule with its items)."""
    root = u.parent or u
    return {(root.n, root.idx)} | {(it.n, it.idx) for it in root.items}


def _bundle_text(u: Unit) -> str:
    root = u.parent or u
    return " ".join([root.text] + [it.text for it in root.items]) if root.items else u.text


# ---------------------------------------------------------------- rendering


def render(chosen: Sequence[Scored], by_n: dict[int, Passage], question: str) -> list[str]:
    out: list[str] = []
    last: tuple[int, str | None, int | None] | None = None
    for s in chosen:
        u = s.unit
        p = by_n[u.n]
        text = restore_spacing(_quote(u, question))
        root = u.parent or u
        if root.article and is_statute(p):
            same = last is not None and last[:2] == (u.n, root.article)
            if same and root.paragraph:
                law = f"같은 조 제{root.paragraph}항"
            else:
                law = f"「{' '.join(p.title.split())}」 {location_label(root.article, root.paragraph)}"
            if text.startswith("다만, ") and _is_clause(text):
                law, text = law + " 단서", text[4:]
            if _is_clause(text):
                text = f"{law}에 따르면, {text}"
            else:
                text = f"{law}: {text}"
            last = (u.n, root.article, root.paragraph)
        if text[-1] not in ".?!…":
            text += "."
        out.append(f"{text} [{u.n}]")
    return out


def _quote(u: Unit, question: str) -> str:
    """The unit as an answer sentence: a rule with its items, an item with its rule."""
    root = u.parent or u
    if not root.items:
        return _item_text(u) if u.is_item else shorten(u.text)
    items = _chosen_items(root, u)
    head = root.text.rstrip(" .")
    body = ", ".join(_item_text(it) for it in items)
    more = " 등" if len(items) < len(root.items) else ""
    return f"{shorten(head)}: {body}{more}"


def _chosen_items(root: Unit, picked: Unit) -> list[Unit]:
    items = root.items
    total = sum(len(it.text) for it in items)
    if len(items) <= 4 and total <= 420:
        return items
    keep = [picked] if picked is not root else []
    for it in items:
        if it not in keep and len(keep) < 3:
            keep.append(it)
    return sorted(keep, key=lambda it: it.idx)


def _item_text(it: Unit) -> str:
    m = _ITEM_MARK.match(it.text)
    body = it.text[m.end():] if m else it.text
    label = f"제{m.group(1)}호" if m and m.group(1) else (f"{m.group(2)}목" if m and m.group(2) else "")
    return f"{label} {shorten(body.rstrip(' .'), 200)}".strip()


def _is_clause(text: str) -> bool:
    """A full sentence ("…한다.") reads well after "…에 따르면,"; an item ("1. …경우") does not."""
    return not _ITEM_MARK.match(text) and text.rstrip(" .").endswith(("다", "다)")) or ": " in text


def shorten(text: str, limit: int = MAX_SENTENCE_CHARS) -> str:
    """Cut an over-long sentence at the last clause break that fits."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, limit)]
    end = cut[-1] if cut and cut[-1] > limit // 4 else limit
    return text[:end].rstrip(" ,") + " …"
