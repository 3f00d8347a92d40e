"""Korean sentence boundaries.

- :func:`split_sentences` / :func:`split_sentences_batch`: Kiwi's boundaries (it analyses the text, so the
  content morphemes come with the split at no extra cost; ingest keeps them for BM25).
- :func:`balanced_sentences`: Kiwi's sentences rejoined where a boundary fell inside brackets
  ("…(… 포함한다. 이하 같다)…"), with their terms — what answer composition quotes.
- :func:`rough_sentences`: a cheap cut at ". " outside brackets, before Kiwi refines it.
- :func:`regex_sentences`: a dependency-free fallback (declarative endings and punctuation).
- :func:`display_sentences`: sentences of generated text (answers with ``[n]`` markers), for evaluation
  and for the answer-first check.
- :func:`restore_spacing`: word spacing put back into a sentence whose PDF text lost it, before it is quoted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from assistant.korean.morph import kiwi, terms_of_tokens

OPEN_BRACKETS = "([「“"
CLOSE_BRACKETS = ")]」”"
_REGEX_SPLIT = re.compile(r"(?<=[.!?。])\s+|(?<=다\.)|(?<=요\.)")
#: a run of Hangul this long without a space is text whose spacing was lost (the longest words people write
#: without spaces, law names like 공공기관의정보공개에관한법률 aside, are shorter)
LOST_SPACING_RUN = 12
_LOST_SPACING = re.compile(f"\\S*[가-힣]{{{LOST_SPACING_RUN},}}\\S*")
#: end of a sentence in generated Korean text: a full stop after a declarative/polite ending or a
#: question/exclamation mark, optionally followed by citation markers
_DISPLAY_END = re.compile(r"(?<=[.!?。…])(?:\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\])*(?=\s|$)")


def split_sentences(text: str) -> list[str]:
    """Korean sentence boundaries from Kiwi; sentences keep their original characters."""
    sents = kiwi().split_into_sents(text)
    out = [text[s.start:s.end].strip() for s in sents]
    return [s for s in out if s]


#: longest text handed to Kiwi in one piece: its time and memory grow faster than linearly with the length of
#: one input (a 1.2-million-character passage took 3 GB), so longer passages are cut first at a line break,
#: else after a sentence end, else at a space
KIWI_PIECE_CHARS = 8_000


def kiwi_pieces(text: str, limit: int = KIWI_PIECE_CHARS) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` characters at the most natural boundary available."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        window = text[start:start + limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            ends = [window.rfind(mark) for mark in (". ", "다. ", "? ", "! ")]
            cut = max(max(ends) + 1, cut)
        if cut < limit // 2:
            cut = max(window.rfind(" "), cut)
        if cut <= 0:
            cut = limit
        pieces.append(text[start:start + cut])
        start += cut
    pieces.append(text[start:])
    return pieces


def split_sentences_batch(texts: Sequence[str]) -> list[list[tuple[str, list[str]]]]:
    """Sentences of many texts, split by Kiwi's workers in parallel, each with its content morphemes."""
    if not texts:
        return []
    pieces: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        for piece in kiwi_pieces(text):
            pieces.append(piece)
            owner.append(i)
    out: list[list[tuple[str, list[str]]]] = [[] for _ in texts]
    for i, text, sents in zip(owner, pieces, kiwi().split_into_sents(pieces, return_tokens=True),
                              strict=True):
        for sent in sents:
            piece = text[sent.start:sent.end].strip()
            if piece:
                out[i].append((piece, terms_of_tokens(sent.tokens)))
    return out


def balanced_sentences(texts: Sequence[str]) -> list[list[tuple[str, tuple[str, ...]]]]:
    """(sentence, content terms) per text, Kiwi's split rejoined where it fell inside brackets."""
    if not texts:
        return []
    analysed = kiwi().split_into_sents(list(texts), return_tokens=True)
    return [[(s, tuple(terms_of_tokens(toks))) for s, toks in _rejoin(t, sents)]
            for t, sents in zip(texts, analysed, strict=True)]


def _rejoin(text: str, sents: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = []
    start: int | None = None
    tokens: list[Any] = []
    depth = 0
    for s in sents:
        if start is None:
            start = s.start
        tokens += list(s.tokens or [])
        piece = text[s.start:s.end]
        depth += sum(piece.count(c) for c in OPEN_BRACKETS) - sum(piece.count(c) for c in CLOSE_BRACKETS)
        if depth <= 0:
            out.append((text[start:s.end].strip(), tokens))
            start, tokens, depth = None, [], 0
    if start is not None:
        out.append((text[start:].strip(), tokens))
    return [(s, t) for s, t in out if s]


def rough_sentences(line: str) -> list[str]:
    """Cut at ". " (or ?/!) outside brackets: cheap pre-splitting before Kiwi (which refines it)."""
    out, start, depth = [], 0, 0
    for i, ch in enumerate(line):
        if ch in OPEN_BRACKETS:
            depth += 1
        elif ch in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        elif ch in ".?!" and depth == 0 and line[i + 1:i + 2].isspace() and len(line[i + 1:].strip()) >= 2:
            out.append(line[start:i + 1].strip())
            start = i + 1
    out.append(line[start:].strip())
    return [x for x in out if x]


def regex_sentences(text: str) -> list[str]:
    """A dependency-free fallback splitter: ends of Korean declaratives and punctuation."""
    return [p.strip() for p in _REGEX_SPLIT.split(text) if p and p.strip()]


def display_sentences(text: str) -> list[str]:
    """Sentences of generated text, each keeping the ``[n]`` markers that follow it; newlines also end one."""
    out: list[str] = []
    for line in (text or "").splitlines():
        start = 0
        for m in _DISPLAY_END.finditer(line):
            piece = line[start:m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
        rest = line[start:].strip()
        if rest:
            out.append(rest)
    return out


def first_sentence(text: str) -> str:
    """The first sentence of an answer (its ``[n]`` markers included)."""
    sents = display_sentences(text)
    return sents[0] if sents else ""


def restore_spacing(text: str) -> str:
    """``text`` with its word spacing restored by Kiwi when a PDF's extraction lost it ("이가이드라인은본
    가이드라인제정이후" → "이 가이드라인은 본 가이드라인 제정 이후"); spaces already there are kept and text
    with normal spacing is returned unchanged. Only what is shown changes: characters are neither added
    nor dropped, so a quote still matches its source with spacing ignored. Only the words with such a run
    are re-spaced: Kiwi would also split well-spaced names ("도로법" → "도로 법")."""
    if not _LOST_SPACING.search(text):
        return text

    def space(m: re.Match[str]) -> str:
        spaced = kiwi().space(m.group(0))
        return spaced if spaced.replace(" ", "") == m.group(0) else m.group(0)

    return _LOST_SPACING.sub(space, text)
