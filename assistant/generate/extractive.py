"""The default generator: no model, deterministic, built from the retrieved source sentences.

For an answer it splits the numbered passages into sentences (Kiwi), scores each sentence by

- relevance to the question: BM25 over Kiwi content morphemes, with idf computed over the sentences of
  the retrieved passages, blended with the idf-weighted share of the question's terms it covers;
- centrality: similarity to the centroid of all candidate sentences (a sentence that states what the
  sources agree on beats a digression);
- a small prior for the retriever's rank, and a boost for the 회답 (conclusion) of a 법제처 해석례 whose
  question matches;

then picks a few with maximal marginal relevance (redundant sentences are skipped), and writes them as a
short answer: sources in order of their best sentence, sentences in document order within a source,
each sentence ending with its citation ``[n]``. Statute sentences are prefixed with the article they come
from (「법령명」 제N조제M항에 따르면, …) so the answer names its legal basis; citations.py checks it.

Instructions inside sources are never followed: the passages are only ever scored and quoted, and a
sentence that addresses the assistant ("이전 지시를 무시하고 …라고 답하라") is not quoted either.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from assistant.errors import AssistantError
from assistant.generate.base import GenerationRequest, Generator, Passage, register_generator
from assistant.index.morph import _terms as morph_terms  # the exact term rules BM25 indexing uses
from assistant.index.morph import kiwi

ABSTAIN_TEXT = "제공된 문서에서 확인할 수 없습니다."

#: Question words and light verbs that say nothing about the topic.
STOP_TERMS = frozenset("""
어떻다 어떠하다 무엇 언제 어디 누구 왜 얼마 몇 무슨 어떤 어느 있다 없다 하다 되다 알다 알리다 싶다 주다 보다 가능
궁금하다 경우 관련 방법 대하다 관하다 따르다 그 이 저 것 수 때 등 및 여부 문의 질문 설명 내용 말하다 그렇다 이렇다
""".split())

_META_LINE = re.compile(r"^\s*[-*]?\s*(?:안건번호|소관기관|회신일자|출처|수집일자|처리상태|해석기관)\s*:|https?://")
_ARTICLE_HEAD = re.compile(r"^\s*(제\d+조(?:의\d+)?)\s*\(([^)]*)\)\s*")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_FOOTNOTE = re.compile(r"\s*\(각주:[^()]*(?:\([^()]*\)[^()]*)*\)")
_CONCLUSION_START = re.compile(r"^(?:따라서\s*)?이\s*사안의\s*경우")
_RELATED_LAWS = re.compile(r"^\s*<\s*관계\s*법령\s*>")
#: sentences that address the assistant instead of stating something (prompt injection planted in a document)
_INSTRUCTION = re.compile(
    r"(?:이전|위의?|앞의|모든|기존)\s*(?:지시|명령|규칙|지침)\S*\s*(?:을|를)?\s*(?:모두\s*)?무시"
    r"|시스템\s*프롬프트|(?:AI|인공지능|어시스턴트|챗봇|비서)\s*(?:는|은|에게)\s*.{0,40}(?:답하|출력하|말하)"
    r"|(?:라고|다고)\s*(?:만\s*)?(?:답하라|답변하라|답하십시오|답변하십시오|출력하라|출력하십시오|말하라)"
    r"|ignore\s+(?:all\s+)?(?:previous|prior|above)\s+instructions|you\s+are\s+now", re.IGNORECASE)
#: a sentence about the document itself ("이 안내문은 … 설명합니다") names the topic but answers nothing
_ABOUT_DOCUMENT = re.compile(r"^(?:이|본)\s*(?:안내문|안내서|문서|자료|지침|책자|편람|보고서|글|해설서)(?:은|는|에서는)"
                             r"|(?:설명|안내|소개|정리)(?:합니다|한다|하고자 합니다)\.?$")
_MAX_SENTENCE_CHARS = 300
_CLAUSE_BREAK = re.compile(r"(?:고|며|나|바|데|면|서|여),\s")
_LIST_ITEM = re.compile(r"^(?:\d{1,2}|[가-하])\.\s")


@dataclass
class Sentence:
    """A candidate sentence of one passage, with what scoring needs."""

    n: int                      # passage number
    idx: int                    # position within the passage
    text: str
    terms: list[str]
    section: str = ""
    article: str | None = None  # statute article it belongs to, for statute passages
    paragraph: int | None = None
    conclusion: bool = False    # 회답 of a 법제처 해석례
    quoted_law: bool = False    # part of a "<관계 법령>" appendix
    list_item: bool = False     # "1. …" / "가. …" item of an article
    score: float = 0.0
    coverage: float = 0.0
    vec: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerOptions:
    max_sentences: int = 4
    max_chars: int = 600
    mmr_lambda: float = 0.7
    min_relative_score: float = 0.5


class ExtractiveGenerator(Generator):
    """Selects and orders source sentences; also condenses follow-ups and delegates summaries/replies."""

    name = "extractive"

    def __init__(self, threads: int = 2, options: AnswerOptions | None = None) -> None:
        self.threads = threads
        self.options = options or AnswerOptions()

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        if request.task == "answer":
            question = request.variables.get("question", "")
            yield from _with_spaces(self.answer_sentences(question, request.passages))
        elif request.task == "condense_question":
            yield condense_question(request.variables.get("question", ""), request.history, self.threads)
        elif request.task.startswith("summarize"):
            yield from _delegate("assistant.generate.extractive_summary", "summarize_request", request)
        elif request.task == "draft_reply":
            yield from _delegate("assistant.generate.extractive_reply", "draft_request", request)
        else:  # pragma: no cover - GenerationRequest validates the task
            raise AssistantError(f"추출형 생성기가 지원하지 않는 작업입니다: {request.task}")

    def answer_sentences(self, question: str, passages: Sequence[Passage]) -> list[str]:
        """The answer as a list of cited sentences (empty list: nothing relevant, caller abstains)."""
        q_terms = question_terms(question, self.threads)
        if not q_terms or not passages:
            return [ABSTAIN_TEXT]
        sentences = candidate_sentences(passages, self.threads, q_terms)
        if not sentences:
            return [ABSTAIN_TEXT]
        score_sentences(sentences, q_terms, passages)
        chosen = select_mmr(sentences, self.options)
        if not chosen:
            return [ABSTAIN_TEXT]
        return render_answer(chosen, {p.n: p for p in passages})


# ---------------------------------------------------------------- sentences


def question_terms(question: str, threads: int = 2) -> list[str]:
    terms = morph_terms(kiwi(threads).tokenize(unicodedata.normalize("NFC", question)))
    return [t for t in terms if t not in STOP_TERMS]


def candidate_sentences(passages: Sequence[Passage], threads: int = 2, q_terms: Sequence[str] = (),
                        budget_chars: int = 4000) -> list[Sentence]:
    """Sentences of the passages, split and analysed by Kiwi in one pass.

    Kiwi analyses ~60k characters/s here, and merged 해석례 hits run to several thousand characters, so
    with ``q_terms`` the text is first cut into rough sentences and only those sharing a question term
    (plus every 회답 sentence) are analysed, up to ``budget_chars``.
    """
    pieces: list[_Piece] = []
    for p in passages:
        pieces += _passage_pieces(p)
    if q_terms:
        pieces = _prefilter(pieces, q_terms, budget_chars)
    if not pieces:
        return []
    analysed = _analysed([pc.text for pc in pieces], threads)
    out: list[Sentence] = []
    for pc, sents in zip(pieces, analysed, strict=True):
        for j, (text, terms) in enumerate(sents):
            if _skip_sentence(text):
                continue
            conclusion = pc.section == "회답" or bool(_CONCLUSION_START.match(text))
            out.append(Sentence(n=pc.passage.n, idx=pc.idx * 100 + j, text=text, terms=list(terms),
                                section=pc.section, article=pc.article, paragraph=pc.paragraph,
                                conclusion=conclusion and _is_interpretation(pc.passage), quoted_law=pc.quoted,
                                list_item=pc.list_item))
    return out


_Analysed = list[tuple[str, tuple[str, ...]]]
_CACHE_SIZE = 8192
_cache: OrderedDict[str, _Analysed] = OrderedDict()
_cache_lock = threading.Lock()


def _analysed(texts: list[str], threads: int) -> list[_Analysed]:
    """(sentence, content terms) for each text, with an LRU cache keyed by the text.

    The same passages (law articles above all) come back for many questions, and Kiwi's sentence
    analysis was most of an extractive answer's CPU time (~50 of ~60 ms per question under web load).
    """
    with _cache_lock:
        hits = {t: _cache[t] for t in texts if t in _cache}
        for t in hits:
            _cache.move_to_end(t)
    todo = [t for t in dict.fromkeys(texts) if t not in hits]
    if todo:
        fresh = kiwi(threads).split_into_sents(todo, return_tokens=True)
        computed = {t: [(text, tuple(morph_terms(tokens))) for text, tokens in _balanced(t, sents)]
                    for t, sents in zip(todo, fresh, strict=True)}
        with _cache_lock:
            for t, v in computed.items():
                _cache[t] = v
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        hits.update(computed)
    return [hits[t] for t in texts]


def _balanced(text: str, sents: Sequence[object]) -> list[tuple[str, list[object]]]:
    """Kiwi sentences, rejoined where a split fell inside brackets ("…(… 포함한다. 이하 같다)…")."""
    out: list[tuple[str, list[object]]] = []
    start, tokens, depth = None, [], 0
    for s in sents:
        if start is None:
            start = s.start  # type: ignore[attr-defined]
        tokens += list(s.tokens or [])  # type: ignore[attr-defined]
        chunk = text[s.start:s.end]  # type: ignore[attr-defined]
        depth += sum(chunk.count(c) for c in "([「“") - sum(chunk.count(c) for c in ")]」”")
        if depth <= 0:
            out.append((text[start:s.end].strip(), tokens))  # type: ignore[attr-defined]
            start, tokens, depth = None, [], 0
    if start is not None:
        out.append((text[start:].strip(), tokens))
    return out


@dataclass
class _Piece:
    """A rough sentence (or list item) of a passage, before Kiwi."""

    passage: Passage
    idx: int
    section: str
    text: str
    article: str | None
    paragraph: int | None
    quoted: bool
    list_item: bool = False
    hits: int = 0


def _passage_pieces(p: Passage) -> list[_Piece]:
    """Usable lines of a passage, cut into rough sentences, with their article and paragraph."""
    statute = _is_statute(p)
    article: str | None = p.article if statute else None
    out: list[_Piece] = []
    for section, text in _joined_segments(p):
        quoted = False
        paragraph: int | None = None
        for raw in _continued_lines(unicodedata.normalize("NFC", text)):
            line = raw.strip().replace("\\.", ".")
            if _RELATED_LAWS.match(line) or line.startswith("※"):
                quoted = True  # appended statute quotes and 법령정비 권고사항: background, not the answer
                continue
            if not line or _META_LINE.search(line) or line.startswith("#"):
                continue
            head = _ARTICLE_HEAD.match(line)
            if head and statute:
                article, paragraph = head.group(1), None
                line = line[head.end():]
            if line and line[0] in _CIRCLED:
                paragraph = _CIRCLED.index(line[0]) + 1
                line = line[1:].strip()
            item = bool(_LIST_ITEM.match(line))
            for rough in rough_sentences(_FOOTNOTE.sub("", line)):
                if len(rough) >= 8:
                    out.append(_Piece(p, len(out), section, rough, article, paragraph, quoted, item))
    return out


def rough_sentences(line: str) -> list[str]:
    """Cut at ". " outside brackets: cheap pre-splitting before Kiwi (which refines it)."""
    out, start, depth = [], 0, 0
    for i, ch in enumerate(line):
        if ch in "([「“":
            depth += 1
        elif ch in ")]」”":
            depth = max(0, depth - 1)
        elif ch in ".?!" and depth == 0 and line[i + 1:i + 2].isspace() and len(line[i + 1:].strip()) >= 2:
            out.append(line[start:i + 1].strip())
            start = i + 1
    out.append(line[start:].strip())
    return [x for x in out if x]


def _continued_lines(text: str) -> list[str]:
    """Lines, with a line that ends in a comma ("…규정하고 있는바,") joined to the next."""
    out: list[str] = []
    for raw in text.splitlines():
        if out and out[-1].rstrip().endswith(",") and raw.strip():
            out[-1] = out[-1].rstrip() + " " + raw.strip()
        elif raw.strip() or not out or not out[-1].rstrip().endswith(","):
            out.append(raw)
    return out


def _joined_segments(p: Passage) -> list[tuple[str, str]]:
    """Segments of one passage; a chunk that continues a sentence cut by the chunker is rejoined."""
    segments = list(p.segments) or [(p.location if _is_interpretation(p) else "", p.text)]
    if _is_statute(p):
        return segments  # statute chunks end at an article or 항, never inside a sentence
    out: list[tuple[str, str]] = []
    for section, text in segments:
        if out and out[-1][0] == section and out[-1][1].rstrip()[-1:] not in (".", "?", "!", "다", ")", ""):
            out[-1] = (section, out[-1][1].rstrip() + " " + text.lstrip())
        else:
            out.append((section, text))
    return out


def _prefilter(pieces: list[_Piece], q_terms: Sequence[str], budget: int) -> list[_Piece]:
    """Keep pieces that share a question term (surface match), best first, within a character budget."""
    keys = {t[:-1] if t.endswith("다") and len(t) > 2 else t for t in q_terms}
    keys = {k for k in keys if len(k) >= 2} or keys
    for pc in pieces:
        pc.hits = sum(k in pc.text for k in keys)
    ranked = sorted((pc for pc in pieces if pc.hits or pc.section == "회답"),
                    key=lambda pc: (-(pc.hits + (1 if pc.section == "회답" else 0)), pc.passage.n, pc.idx))
    kept: list[_Piece] = []
    used = 0
    for pc in ranked:
        if used + len(pc.text) > budget and kept:
            continue
        kept.append(pc)
        used += len(pc.text)
    return sorted(kept, key=lambda pc: (pc.passage.n, pc.idx))


def _skip_sentence(text: str) -> bool:
    """Questions (질의요지), fragments and deleted-article notes are not answer material."""
    t = text.rstrip()
    return (len(t) < 8 or bool(_INSTRUCTION.search(t)) or t.endswith(("?", "지?", "는지")) or "(생 략)" in t
            or t.strip("<>[]() .") == "삭제"
            or re.fullmatch(r"[\d\s.,·\-가-힣]{0,4}", t) is not None)


def _is_statute(p: Passage) -> bool:
    return bool(p.article) or bool(re.match(r"^제\d+조", p.location or ""))


def _is_interpretation(p: Passage) -> bool:
    loc = p.location or ""
    return "회답" in loc or "이유" in loc or "질의요지" in loc or any(s == "회답" for s, _ in p.segments)


# ---------------------------------------------------------------- scoring


def score_sentences(sentences: list[Sentence], q_terms: Sequence[str], passages: Sequence[Passage]) -> None:
    """Fill ``score`` and ``coverage`` of each sentence (see the module docstring)."""
    n_sent = len(sentences)
    df: Counter[str] = Counter()
    for s in sentences:
        df.update(set(s.terms))
    idf = {t: math.log(1 + (n_sent - c + 0.5) / (c + 0.5)) for t, c in df.items()}
    q_weights = {t: idf.get(t, math.log(1 + n_sent + 0.5)) for t in set(q_terms)}
    q_total = sum(q_weights.values()) or 1.0
    avg_len = sum(len(s.terms) for s in sentences) / n_sent or 1.0
    bm25 = [_bm25(s.terms, q_weights, avg_len) for s in sentences]
    top = max(bm25) or 1.0
    for s in sentences:
        s.vec = _tfidf(s.terms, idf)
    centroid = _centroid([s.vec for s in sentences])
    rank_of = {p.n: i for i, p in enumerate(passages)}
    passage_cov = _passage_coverage(sentences, passages, q_weights, q_total)
    best_cov = max(passage_cov.values(), default=0.0)
    for s, b in zip(sentences, bm25, strict=True):
        present = set(s.terms)
        s.coverage = sum(w for t, w in q_weights.items() if t in present) / q_total
        relevance = (0.6 * s.coverage + 0.4 * b / top) * (0.6 + 0.4 * passage_cov.get(s.n, 0.0))
        prior = 0.1 * (1 - rank_of.get(s.n, 0) / max(1, len(passages)))
        s.score = relevance + 0.15 * _cosine(s.vec, centroid) + prior
        if s.conclusion and rank_of.get(s.n, 9) < 2 and passage_cov.get(s.n, 0.0) >= max(0.5, 0.8 * best_cov):
            s.score += 0.35  # the 회답 of a top-ranked, matching 해석례 answers the question directly
        if s.quoted_law:
            s.score *= 0.8   # an appended statute quote is background, not the interpretation
        if s.list_item:
            s.score *= 0.6   # an item ("1. …") is a fragment of its article
        if _ABOUT_DOCUMENT.search(s.text):
            s.score *= 0.5
        if len(s.text) > 200:
            s.score *= math.sqrt(200 / len(s.text))


def _bm25(terms: Sequence[str], q_weights: dict[str, float], avg_len: float, k1: float = 1.2, b: float = 0.75) -> float:
    tf = Counter(terms)
    norm = k1 * (1 - b + b * len(terms) / avg_len)
    return sum(w * tf[t] * (k1 + 1) / (tf[t] + norm) for t, w in q_weights.items() if t in tf)


def _passage_coverage(sentences: Sequence[Sentence], passages: Sequence[Passage], q_weights: dict[str, float],
                      q_total: float) -> dict[int, float]:
    """Share of the question (idf-weighted) a passage covers, title included (a 해석례 title is its question)."""
    title_terms = {p.n: set(p.title.split()) for p in passages}
    terms: dict[int, set[str]] = {}
    for s in sentences:
        terms.setdefault(s.n, set()).update(s.terms)
    out = {}
    for n, ts in terms.items():
        joined = ts | {t for t in q_weights if any(t in w for w in title_terms.get(n, ()))}
        out[n] = sum(w for t, w in q_weights.items() if t in joined) / q_total
    return out


def _tfidf(terms: Sequence[str], idf: dict[str, float]) -> dict[str, float]:
    tf = Counter(terms)
    vec = {t: c * idf.get(t, 0.0) for t, c in tf.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


def _centroid(vecs: Sequence[dict[str, float]]) -> dict[str, float]:
    total: Counter[str] = Counter()
    for v in vecs:
        total.update(v)
    norm = math.sqrt(sum(x * x for x in total.values())) or 1.0
    return {t: x / norm for t, x in total.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def select_mmr(sentences: Sequence[Sentence], opt: AnswerOptions) -> list[Sentence]:
    """Maximal marginal relevance: high score, low similarity to what is already chosen."""
    pool = [s for s in sentences if s.coverage > 0 or s.conclusion and s.score > 0.5]
    if not pool:
        return []
    best = max(s.score for s in pool)
    pool = [s for s in pool if s.score >= opt.min_relative_score * best]
    chosen: list[Sentence] = []
    chars = 0
    while pool and len(chosen) < opt.max_sentences:
        def mmr(s: Sentence) -> float:
            redundancy = max((_cosine(s.vec, c.vec) for c in chosen), default=0.0)
            return opt.mmr_lambda * s.score - (1 - opt.mmr_lambda) * redundancy

        pick = max(pool, key=mmr)
        pool.remove(pick)
        if any(_cosine(pick.vec, c.vec) > 0.8 for c in chosen):
            continue  # a near-duplicate (회답 repeated at the end of 이유)
        if chosen and chars + min(len(pick.text), _MAX_SENTENCE_CHARS) > opt.max_chars:
            continue
        chosen.append(pick)
        chars += min(len(pick.text), _MAX_SENTENCE_CHARS)
    return chosen


# ---------------------------------------------------------------- output


def render_answer(chosen: Sequence[Sentence], by_n: dict[int, Passage]) -> list[str]:
    """The best sentence first; then sources in order of their best sentence, document order within a
    source; ``[n]`` after each."""
    best: dict[int, float] = {}
    for s in chosen:
        best[s.n] = max(best.get(s.n, 0.0), s.score)
    # the most direct answer opens: the earliest sentence of the best source that scores near the best
    top = max(chosen, key=lambda s: s.score)
    lead = min((s for s in chosen if s.n == top.n and s.score >= 0.85 * top.score), key=lambda s: s.idx)
    ordered = [lead] + sorted((s for s in chosen if s is not lead), key=lambda s: (-best[s.n], not s.conclusion, s.idx))
    out: list[str] = []
    last: tuple[int, str | None, int | None] | None = None
    for s in ordered:
        text = _shorten(" ".join(s.text.split()))
        p = by_n[s.n]
        if s.article and _is_statute(p) and (s.n, s.article, s.paragraph) != last:
            if last and last[:2] == (s.n, s.article) and s.paragraph:
                law = f"같은 조 제{s.paragraph}항"
            else:
                law = f"「{' '.join(p.title.split())}」 {s.article}" + (f"제{s.paragraph}항" if s.paragraph else "")
            if text.startswith("다만, ") and _is_clause(text):  # a proviso: "… 제N조제M항 단서에 따르면,"
                law, text = law + " 단서", text[4:]
            text = f"{law}에 따르면, {text}" if _is_clause(text) else f"{law}: {text}"
        last = (s.n, s.article, s.paragraph)
        if text[-1] not in ".?!…":
            text += "."
        out.append(f"{text} [{s.n}]")
    return out


def _is_clause(text: str) -> bool:
    """A full statute sentence ("…한다.") reads well after "…에 따르면,"; an item ("1. …경우") does not."""
    return not _LIST_ITEM.match(text) and text.rstrip(" .").endswith(("다", "다)"))


def _shorten(text: str) -> str:
    """Cut an over-long sentence at the last clause break that fits."""
    if len(text) <= _MAX_SENTENCE_CHARS:
        return text
    cut = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, _MAX_SENTENCE_CHARS)]
    end = cut[-1] if cut and cut[-1] > 80 else _MAX_SENTENCE_CHARS
    return text[:end].rstrip(" ,") + " …"


def _with_spaces(parts: Sequence[str]) -> Iterator[str]:
    for i, part in enumerate(parts):
        yield (" " if i else "") + part


# ---------------------------------------------------------------- follow-up questions

_ANAPHORA = re.compile(r"^(?:그럼|그러면|그렇다면|그런데|그리고|또한?|그건|그것은?|이건|이것은?"
                       r"|그\s|이\s|해당|거기|여기|위\s)")
_NOUN_TAGS = ("NNG", "NNP", "SL", "SN", "SH", "XR")


def condense_question(question: str, history: Sequence[tuple[str, str]], threads: int = 2) -> str:
    """Make an elliptical follow-up self-contained by adding the previous question's key noun phrases."""
    question = unicodedata.normalize("NFC", question).strip()
    previous = [text for role, text in history if role == "user" and text.strip()]
    if not previous:
        return question
    nouns = [t for t in question_terms(question, threads) if not t.endswith("다")]
    if not (_ANAPHORA.match(question) or len(nouns) <= 2):
        return question
    phrases = [ph for ph in key_phrases(previous[-1], threads) if not _phrase_in(ph, question)]
    if not phrases:
        return question
    follow = _ANAPHORA.sub("", question).strip() or question
    return f"{' '.join(phrases)} {follow}"


def key_phrases(text: str, threads: int = 2) -> list[str]:
    """「법령명」 and runs of adjacent nouns, as written (e.g. "민원 처리기간")."""
    text = unicodedata.normalize("NFC", text)
    laws = re.findall(r"「[^」]+」", text)
    stripped = re.sub(r"「[^」]+」", " ", text)
    runs: list[list[object]] = []
    for tok in kiwi(threads).tokenize(stripped):
        if tok.tag.startswith(_NOUN_TAGS) and tok.form not in STOP_TERMS:
            last = runs[-1][-1] if runs and runs[-1] else None
            if last is not None and tok.start - (last.start + last.len) <= 1:  # type: ignore[attr-defined]
                runs[-1].append(tok)
            else:
                runs.append([tok])
        elif runs and runs[-1]:
            runs.append([])  # any other morpheme ends a noun run
    phrases = [stripped[r[0].start: r[-1].start + r[-1].len] for r in runs if r]  # type: ignore[attr-defined]
    return laws + [p for p in dict.fromkeys(phrases) if len(p) >= 2]


def _phrase_in(phrase: str, text: str) -> bool:
    return re.sub(r"\s+", "", phrase) in re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- other tasks


def _delegate(module: str, func: str, request: GenerationRequest) -> Iterator[str]:
    """Summaries and reply drafts live in their own modules; import them only when asked for."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise AssistantError(f"추출형 생성기의 '{request.task}' 작업 모듈({module})이 설치되어 있지 않습니다.") from exc
    yield from getattr(mod, func)(request)


@register_generator("extractive")
def _factory(settings: object = None, **_: object) -> ExtractiveGenerator:
    return ExtractiveGenerator(threads=int(getattr(settings, "threads", 2) or 2))
