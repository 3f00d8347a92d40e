"""Extractive 개조식 summaries: no model, deterministic, numbers never altered.

The extractive generator hands the three summary tasks here (``summarize_request``):

- ``summarize_map`` — one batch of consecutive sections of a long document → candidate lines per section;
- ``summarize_reduce`` — the map outputs of the whole document → the final summary within the line budget;
- ``summarize`` — a short document in one pass (map and layout at once).

Request contract (shared with the model backends and ``prompts/summarize_*.md``): ``variables["title"]`` is the
document title, ``variables["max_lines"]`` the line budget; each :class:`Passage` is one chunk (map/summarize) or
one map output (reduce), with ``Passage.title`` = the section heading it belongs to ("" when the document has
none) and ``Passage.location`` = its page or article.

How sentences are chosen (why it works on real reports):
1. Units are the source's own lines (list items, table rows, paragraphs), split into sentences only when long.
   Bullets and PDF spacing artefacts (" ,", "「 ") are tidied; the words and figures are kept exactly.
2. Each unit is scored by centrality (TextRank over TF-IDF vectors of Kiwi content morphemes), position in its
   section, figures and dates (amounts, %, years are what a reader of a 개조식 summary looks for), overlap with
   the section heading and document title, and a length preference; table-of-contents and picture residue is
   dropped.
   A sentence that addresses the assistant ("이전 지시를 무시하고 …", "[SYSTEM] …") is data, never a summary line:
   it is removed with the payload it announces before units are cut (assistant.korean.injection), and a heading
   made of one does not head a □ item.
3. Redundancy: a unit too similar (cosine) to one already chosen is skipped.
4. Endings are compressed conservatively to 명사형 종결 (추진하였다 → 추진, 강화되었다 → 강화됨, 있다 → 있음,
   계획이다 → 계획임) by rewriting only the final predicate with Kiwi; everything before it is the source text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.generate.base import GenerationRequest, Passage
from assistant.korean.injection import addresses_assistant, strip_instructions
from assistant.korean.sentences import restore_spacing

TOP, MID, LOW = "□", "○", "-"
DEFAULT_MAX_LINES = 30
MAP_ITEMS_PER_SECTION = 4
SIMILARITY_LIMIT = 0.6

_BULLETS = re.compile(r"^(?:[-–—•·‧∙▪▫■□◦○●◎◆◇▶▷►※*ㅇ❍➊-➓✔✓>]+\s*|\d{1,2}\)\s+|\(\d{1,2}\)\s*|[①-⑳]\s*)+")
_HEADING_NUMBER = re.compile(
    r"^(?:[IVXⅠ-Ⅻ]{1,4}[.\s]|\d{1,2}(?:\.\d{1,2})*\.?\s|[가-하]\.\s|\(\d{1,2}\)\s?|\d{1,2}\)\s?|[①-⑳]\s?"
    r"|[□○◦▪■●◆▶‧·\-<>〈〉]\s*)+"
)
_LEADERS = re.compile(r"[·.…‥ㆍ]{4,}")
_PICTURE = re.compile(r"intentionally omitted|Start of picture text|End of picture text|^\s*-?\s*\d{1,4}\s*-?\s*$")
_SPACE_FIXES = ((re.compile(r"\[\*?\]"), ""), (re.compile(r"\s+([,.;:)\]」』”’%])"), r"\1"),
                (re.compile(r"([(\[「『“])\s+"), r"\1"), (re.compile(r"(?:\s+[‧·ㆍ∙])+\s*$"), ""),
                (re.compile(r"\s{2,}"), " "))
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_FIGURE = re.compile(r"\d[\d,.]*\s?(?:%p|%|조|억|만|천|원|명|개|건|년|월|일|배|곳|가구|회|대|종|톤|㎡|㎢|km|달러|위)")
_HANGUL = re.compile(r"[가-힣]")
_VACUOUS_HEADINGS = {"순서", "목차", "차례", "contents", "목 차", "순 서"}
_SENT_SPLIT = re.compile(r"(?<=[다함임음됨요])\.\s+|(?<=[.!?])\s+(?=[가-힣A-Z「(])")


@dataclass
class Unit:
    """One candidate line: source text, the section it belongs to and its order in the document."""

    text: str
    section: str
    order: int
    score: float = 0.0
    terms: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


@dataclass
class Group:
    """A □ item: a heading (may be empty) and its candidate ○ units in document order."""

    heading: str
    units: list[Unit]
    order: int
    score: float = 0.0


# --------------------------------------------------------------------------------------- text helpers

def clean_line(text: str) -> str:
    """Strip bullets, Markdown residue and PDF spacing artefacts; the words and figures stay as they are."""
    text = unicodedata.normalize("NFC", text).replace("**", "").replace("\u00a0", " ").strip()
    text = _BULLETS.sub("", text).strip()
    for rx, rep in _SPACE_FIXES:
        text = rx.sub(rep, text)
    return text.strip(" -")


def clean_heading(text: str) -> str:
    """A heading without its numbering ("Ⅱ.", "1", "가.") and bracket decoration."""
    text = clean_line(text)
    text = _HEADING_NUMBER.sub("", text).strip()
    return text.strip("<>〈〉[] ").strip()


_PIECE_LABEL = re.compile(r"^(?:\d+(?:~\d+)?쪽|부분 \d+)$|^(?:붙\s?임|별\s?첨|첨\s?부|참\s?고)(?![가-힣])")


def is_vacuous_heading(text: str) -> bool:
    """Contents headings, page-range labels of unnamed stretches ("6~9쪽") and headings without Korean."""
    return (text.replace(" ", "").lower() in {h.replace(" ", "") for h in _VACUOUS_HEADINGS}
            or bool(_PIECE_LABEL.match(text)) or not _HANGUL.search(text))


_PARTICLES = {"을", "를", "가", "은", "는", "의", "에", "와", "과", "로", "으로", "에서", "에게", "및", "까지"}
_PHONE = re.compile(r"(?<!\d)0\d{1,2}[-)\s]\d{3,4}-\d{4}(?!\d)")
_ATTACHMENT = re.compile(r"^[【\[<(]?\s*(?:붙\s?임|별\s?첨|첨\s?부|출\s?처\s?:|자료\s?:)")


_HEADLESS_STARTS = ("하기", "하고", "하며", "하여", "하되", "등을", "등의", "등으로", "및")


def gap_signals(text: str) -> int:
    """Signs that a PDF parse dropped words from the line ("을 하고, … 하며, 의 및 …"): particles with no word
    before them. Spaced-out particles after a noun ("집중 을 완화") are a different, harmless artefact."""
    words = text.split()
    signals = int(bool(words) and words[0].startswith(_HEADLESS_STARTS))
    for j, w in enumerate(words):
        if len(w) > 1 and (w[0] in "를을" or w.startswith("으로")) and not w.startswith("을지"):
            signals += 1  # "를위한", "으로장서": the noun before the particle is gone
        if w.startswith("()") or w == "「":
            signals += 1
        if w not in _PARTICLES:
            continue
        prev = words[j - 1] if j else ""
        nxt = words[j + 1] if j + 1 < len(words) else ""
        if (not prev and w != "이") or prev.endswith((",", ")", "·")) or prev in _PARTICLES \
                or nxt in _PARTICLES or nxt.startswith("하"):
            signals += 1
    return signals


def is_junk(text: str) -> bool:
    """Table-of-contents leaders, picture placeholders, page footers, contact rows, attachment lists,
    spaced-out letters ("국 토 교 통 부"), lines with words missing, lines with almost no Korean."""
    if len(text) < 8 or _LEADERS.search(text) or _PICTURE.search(text) or _PHONE.search(text):
        return True
    if _ATTACHMENT.match(text) or gap_signals(text):
        return True
    words = text.split()
    if len(words) >= 4 and sum(len(w) == 1 for w in words) / len(words) > 0.6:
        return True
    hangul = len(_HANGUL.findall(text))
    return hangul < 4 or hangul / max(1, len(text.replace(" ", ""))) < 0.3


def numbers_in(text: str) -> list[str]:
    return _NUMBER.findall(text)


def numbers_missing(text: str, source: str) -> list[str]:
    """Numbers in ``text`` that do not occur in ``source`` (a summary must never invent or alter a figure)."""
    src = unicodedata.normalize("NFC", source)
    return [n for n in numbers_in(text) if n not in src]


def split_units(text: str) -> list[str]:
    """Lines of a passage, long prose lines split into sentences (regex: Kiwi is not needed for this)."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("|"):  # a table row rendered as Markdown: keep the cells as one line
            line = " ".join(c.strip() for c in line.strip("|").split("|") if c.strip())
        pieces = _SENT_SPLIT.split(line) if len(line) > 160 else [line]
        out.extend(p.strip() for p in pieces if p.strip())
    return out


# --------------------------------------------------------------------------------------- endings

_KEEP_HA = {"말", "정", "뜻", "위", "대", "관"}  # 말한다 → 말함, not "말"; 정한다 → 정함


def _add_final_m(kiwi_join: object, stem: list[tuple[str, str]]) -> str:
    return kiwi_join(stem + [("ᆷ", "ETN")])  # type: ignore[operator]


def compress_ending(text: str) -> str:
    """Rewrite a declarative ending to 명사형 종결; leave anything it does not recognise unchanged.

    Only the final predicate is rebuilt (with Kiwi's morpheme joiner); the text before it is kept verbatim,
    so figures, names and quotations cannot change.
    """
    from assistant.korean.morph import kiwi

    body = text.rstrip()
    if not body or body[-1] in "?？!\"”’)」』":
        return body.rstrip(".")
    analyser = kiwi()
    toks = analyser.tokenize(body)
    while toks and toks[-1].tag in ("SF", "SE", "SW"):
        toks = toks[:-1]
    if not toks or toks[-1].tag != "EF":
        return body.rstrip(". ")
    i = len(toks) - 2
    while i >= 0 and toks[i].tag == "EP":  # 었/겠/시: tense and intent are dropped in 개조식
        i -= 1
    if i < 0:
        return body.rstrip(". ")
    pred = toks[i]
    tag = pred.tag.split("-")[0]
    prefix = body[:pred.start]
    if tag in ("XSV", "XSA") and pred.form == "하" and i > 0 and toks[i - 1].tag in ("NNG", "XR", "NNP") \
            and toks[i - 1].form not in _KEEP_HA:
        return prefix.rstrip()  # 추진하였다 → 추진, 필요하다 → 필요
    if tag in ("VCP", "XSV", "XSA"):  # a copula or suffix attaches to the word before it: 조원 이다 → 조원임
        return prefix.rstrip() + _add_final_m(analyser.join, [(pred.form, tag)])
    if tag in ("VV", "VA", "VX", "VCN"):  # 구축하고 있다 → 구축하고 있음 (the space stays)
        return prefix + _add_final_m(analyser.join, [(pred.form, tag)])
    return body.rstrip(". ")


# --------------------------------------------------------------------------------------- scoring

def _tfidf(term_lists: Sequence[Sequence[str]]) -> np.ndarray:
    vocab: dict[str, int] = {}
    for terms in term_lists:
        for t in terms:
            vocab.setdefault(t, len(vocab))
    mat = np.zeros((len(term_lists), max(1, len(vocab))), dtype=np.float32)
    for r, terms in enumerate(term_lists):
        for t in terms:
            mat[r, vocab[t]] += 1.0
    df = (mat > 0).sum(axis=0)
    mat = np.log1p(mat) * np.log((1 + len(term_lists)) / (1 + df) + 1.0)
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    return mat / np.maximum(norms, 1e-9)


def _textrank(sim: np.ndarray, damping: float = 0.85, iterations: int = 40) -> np.ndarray:
    n = sim.shape[0]
    if n == 0:
        return np.zeros(0)
    w = sim.copy()
    np.fill_diagonal(w, 0.0)
    w[w < 0.05] = 0.0
    out = w.sum(axis=1, keepdims=True)
    trans = np.divide(w, out, out=np.full_like(w, 1.0 / n), where=out > 0)
    rank = np.full(n, 1.0 / n)
    for _ in range(iterations):
        rank = (1 - damping) / n + damping * trans.T @ rank
    return rank / max(rank.max(), 1e-12)


_DANGLING = re.compile(r"(?:[,，「]|으로서|로서|하고|하며|하여|되어|되고|및|등|위해|통해|따라|를"
                       r"|하는|되는|위한|있는|대한|관한|통한|따른)$")


def _length_fit(text: str) -> float:
    """Prefer lines of 15–120 characters; a line that stops mid-sentence ("…으로서,") scores low."""
    if _DANGLING.search(text):
        return 0.35
    penalty = 0.4 if "|" in text else 1.0
    n = len(text)
    if n < 15:
        return 0.3 * penalty
    if n <= 120:
        return penalty
    return max(0.2, 1.0 - (n - 120) / 200) * penalty


def score_units(units: list[Unit], cue_terms: set[str]) -> np.ndarray:
    """Score in place and return the unit vectors (for redundancy checks)."""
    if not units:
        return np.zeros((0, 1), dtype=np.float32)
    vecs = _tfidf([u.terms for u in units])
    central = _textrank(vecs @ vecs.T)
    first_in_section: dict[str, int] = {}
    for idx, u in enumerate(units):
        first_in_section.setdefault(u.section, idx)
        pos = idx - first_in_section[u.section]
        figures = min(2, len(_FIGURE.findall(u.text)))
        overlap = len(cue_terms.intersection(u.terms)) / math.sqrt(len(set(u.terms)) + 1) if cue_terms else 0.0
        u.score = (0.45 * central[idx] + 0.2 / (1 + 0.5 * pos) + 0.1 * figures + 0.2 * min(1.0, overlap)) \
            * _length_fit(u.text)
    return vecs


def _pick(candidates: list[int], units: list[Unit], vecs: np.ndarray, limit: int,
          chosen: list[int] | None = None) -> list[int]:
    """Best-scoring units, skipping near-duplicates of those already chosen (MMR with a hard threshold)."""
    chosen = list(chosen or [])
    picked: list[int] = []
    for idx in sorted(candidates, key=lambda i: (-units[i].score, units[i].order)):
        if len(picked) >= limit:
            break
        if any(float(vecs[idx] @ vecs[j]) > SIMILARITY_LIMIT for j in chosen + picked):
            continue
        picked.append(idx)
    return picked


# --------------------------------------------------------------------------------------- building units

def _terms_for(texts: list[str]) -> list[list[str]]:
    from assistant.korean.morph import content_terms_batch

    return content_terms_batch(texts) if texts else []


def units_from_passages(passages: Sequence[Passage]) -> list[Unit]:
    units: list[Unit] = []
    seen: set[str] = set()
    bodies = strip_instructions([p.text for p in passages])   # the passages in document order: an instruction's
    for p, body in zip(passages, bodies, strict=True):         # payload may open the next one
        section = clean_heading(p.title) if p.title and not addresses_assistant(p.title) else ""
        for raw in split_units(body):
            text = clean_line(raw)
            if not is_junk(text) and text != section and text not in seen:  # a repeat is a running header
                seen.add(text)
                units.append(Unit(text=text, section=section, order=len(units)))
    for u, terms in zip(units, _terms_for([u.text for u in units]), strict=True):
        u.terms = terms
    return units


def _attach_details(picked: list[int], units: list[Unit], taken: set[int]) -> None:
    """A short figure-bearing unit right after a chosen one becomes its "-" detail (kept as in the source)."""
    for idx in picked:
        nxt = idx + 1
        if nxt < len(units) and nxt not in taken and units[nxt].section == units[idx].section \
                and _FIGURE.search(units[nxt].text) and len(units[nxt].text) <= 110:
            units[idx].children.append(units[nxt].text)
            taken.add(nxt)


def select_groups(units: list[Unit], per_section: int, title: str = "") -> list[Group]:
    """Score units and keep the best ``per_section`` of each section, grouped under their headings."""
    title_terms = set(_terms_for([title])[0]) if title else set()
    heading_terms = {s: set(t) for s, t in zip(
        sorted({u.section for u in units}), _terms_for(sorted({u.section for u in units})), strict=True)}
    # heading cues per section: score each section's units against its own heading plus the title
    groups: list[Group] = []
    by_section: dict[str, list[int]] = {}
    order_of: dict[str, int] = {}
    for i, u in enumerate(units):
        by_section.setdefault(u.section, []).append(i)
        order_of.setdefault(u.section, len(order_of))
    vecs = score_units(units, title_terms)
    for sec, idxs in by_section.items():
        cues = heading_terms.get(sec, set())
        for i in idxs:
            if cues:
                units[i].score += 0.15 * min(1.0, len(cues.intersection(units[i].terms)) / max(1, len(cues)))
    taken: set[int] = set()
    for sec, idxs in sorted(by_section.items(), key=lambda kv: order_of[kv[0]]):
        picked = _pick(idxs, units, vecs, per_section)
        taken.update(picked)
        _attach_details(picked, units, taken)
        chosen = sorted(picked)
        score = float(np.mean(sorted((units[i].score for i in picked), reverse=True)[:2])) if picked else 0.0
        groups.append(Group(heading=sec, units=[units[i] for i in chosen], order=order_of[sec],
                            score=score * math.log(2 + len(idxs))))
    return [g for g in groups if g.units]


# --------------------------------------------------------------------------------------- layout

def _spread_choice(groups: list[Group], count: int) -> list[Group]:
    """``count`` groups spread over the whole document: the best group of each of ``count`` equal runs."""
    if count >= len(groups):
        return groups
    chosen: list[Group] = []
    for b in range(count):
        lo, hi = (b * len(groups)) // count, ((b + 1) * len(groups)) // count
        chosen.append(max(groups[lo:hi], key=lambda g: g.score))
    return chosen


def layout(groups: list[Group], max_lines: int, compress: bool = True) -> list[str]:
    """Lay groups out as □ / ○ / - lines within ``max_lines`` (every non-empty line counts).

    Each group costs a □ line plus at least one ○ line; when there are more groups than the budget allows,
    groups are taken from evenly spaced runs of the document so its end is covered as well as its start.
    Remaining lines go to the next-best units, then to "-" details.
    """
    max_lines = max(1, max_lines)
    groups = [g for g in groups if g.units]
    if not groups:
        return []
    if max_lines == 1:
        best = max((u for g in groups for u in g.units), key=lambda u: u.score)
        return [f"{TOP} {_finish(best.text, compress)}"]
    n_groups = max(1, min(len(groups), max_lines // 2))
    chosen = sorted(_spread_choice(groups, n_groups), key=lambda g: g.order)
    plan: dict[int, list[Unit]] = {id(g): [] for g in chosen}
    heads: dict[int, str] = {}
    placed: set[int] = set()  # ids of units already used as a □ or ○ line
    used = 0
    for g in chosen:
        ranked = sorted(g.units, key=lambda u: -u.score)
        if g.heading and not is_vacuous_heading(g.heading):
            heads[id(g)] = _finish(g.heading, compress) if g.heading.rstrip(". ").endswith("다") else g.heading
            plan[id(g)].append(ranked[0])
        else:  # no heading: the best short sentence heads the group
            head = _head_unit(ranked)
            placed.add(id(head))
            heads[id(g)] = _finish(head.text, compress)
            rest = [u for u in ranked if u is not head]
            if rest:
                plan[id(g)].append(rest[0])
        used += 1 + len(plan[id(g)])
        placed.update(id(u) for u in plan[id(g)])
    extra = sorted(((u, g) for g in chosen for u in g.units if id(u) not in placed), key=lambda ug: -ug[0].score)
    for u, g in extra:
        if used >= max_lines:
            break
        plan[id(g)].append(u)
        used += 1
    lines: list[str] = []
    for g in chosen:
        lines.append(f"{TOP} {heads[id(g)]}")
        for u in sorted(plan[id(g)], key=lambda u: u.order):
            lines.append(f" {MID} {_finish(u.text, compress)}")
            for child in u.children:
                if used < max_lines:
                    lines.append(f"   {LOW} {_finish(child, compress)}")
                    used += 1
    return _trim(lines, max_lines)


def _head_unit(ranked: list[Unit]) -> Unit:
    """A □ line should read like a heading: the best unit of at most 80 characters that scores close to the best."""
    short = [u for u in ranked if len(u.text) <= 80 and u.score >= 0.6 * ranked[0].score]
    return short[0] if short else ranked[0]


def _finish(text: str, compress: bool) -> str:
    return restore_spacing(compress_ending(text) if compress else text.rstrip(". "))


def _trim(lines: list[str], max_lines: int) -> list[str]:
    """Cut to the budget without leaving a □ line with nothing under it."""
    lines = lines[:max_lines]
    while len(lines) > 1 and lines[-1].startswith(TOP):
        lines.pop()
    return lines


# --------------------------------------------------------------------------------------- tasks

def parse_summary_lines(text: str) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """A 개조식 text back into [(□ heading, [(○ item, [- details])])] — the reduce step reads map outputs so."""
    groups: list[tuple[str, list[tuple[str, list[str]]]]] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(TOP):
            groups.append((line[1:].strip(), []))
            continue
        if not groups:
            groups.append(("", []))
        if line.startswith(MID) or not line.startswith(LOW):
            groups[-1][1].append((line.lstrip(MID).strip(), []))
        elif groups[-1][1]:
            groups[-1][1][-1][1].append(line[1:].strip())
        else:
            groups[-1][1].append((line[1:].strip(), []))
    return groups


def _max_lines(request: GenerationRequest) -> int:
    try:
        return max(1, int(request.variables.get("max_lines", DEFAULT_MAX_LINES)))
    except ValueError:
        return DEFAULT_MAX_LINES


def summarize_passages(passages: Sequence[Passage], title: str, max_lines: int, *, final: bool) -> list[str]:
    """Map (``final=False``: up to MAP_ITEMS_PER_SECTION per section, no budget squeeze) or one-pass summary."""
    units = units_from_passages(passages)
    groups = select_groups(units, MAP_ITEMS_PER_SECTION, title)
    if not final:
        budget = max(max_lines, sum(1 + len(g.units) + sum(len(u.children) for u in g.units) for g in groups))
        return layout(groups, budget)
    return layout(groups, max_lines)


def reduce_partials(passages: Sequence[Passage], title: str, max_lines: int) -> list[str]:
    """Combine map outputs: re-score every candidate line over the whole document, then lay out the budget."""
    units: list[Unit] = []
    groups_raw: list[tuple[str, list[Unit]]] = []
    counts: dict[str, int] = {}
    for p in passages:
        for _, items in parse_summary_lines(p.text):
            for item, _ in items:
                counts[item] = counts.get(item, 0) + 1
    seen: set[str] = set()
    for p in passages:
        for heading, items in parse_summary_lines(p.text):
            heading = heading or (clean_heading(p.title) if p.title else "")
            bucket: list[Unit] = []
            if addresses_assistant(heading):
                heading = ""
            for item, details in items:
                if item in seen or counts[item] >= 3 or addresses_assistant(item):  # running page headers repeat
                    continue
                seen.add(item)
                u = Unit(text=item, section=f"{len(groups_raw)}:{heading}", order=len(units), children=list(details))
                units.append(u)
                bucket.append(u)
            if bucket:
                groups_raw.append((heading, bucket))
    for u, terms in zip(units, _terms_for([u.text for u in units]), strict=True):
        u.terms = terms
    title_terms = set(_terms_for([title])[0]) if title else set()
    score_units(units, title_terms)
    groups = []
    for order, (heading, bucket) in enumerate(groups_raw):
        top = sorted((u.score for u in bucket), reverse=True)[:2]
        groups.append(Group(heading=heading, units=bucket, order=order,
                            score=float(np.mean(top)) * math.log(2 + len(bucket))))
    return layout(groups, max_lines, compress=False)


def summarize_request(request: GenerationRequest) -> Iterator[str]:
    """Entry point for the extractive generator: yields the summary one line at a time."""
    title = request.variables.get("title", "")
    budget = _max_lines(request)
    if request.task == "summarize_reduce":
        lines = reduce_partials(request.passages, title, budget)
    elif request.task in ("summarize_map", "summarize"):
        lines = summarize_passages(request.passages, title, budget, final=request.task == "summarize")
    else:
        raise ValueError(f"extractive_summary cannot handle task {request.task!r}")
    for i, line in enumerate(lines):
        yield line + ("\n" if i < len(lines) - 1 else "")
