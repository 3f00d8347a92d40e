"""Structure-aware chunking. Pure: takes blocks and parameters, returns chunks.

Rules, in order:
1. Blocks are grouped into sections: a statute article, a heading section, or a page — a chunk never
   spans two of them, so every chunk has one location.
2. A section that fits in ``max_chars`` is one chunk. A longer article is split at its 항 (①, ②, …),
   each piece keeping the article label so it reads on its own. Other long sections are packed paragraph
   by paragraph, then sentence by sentence (Korean sentence boundaries from the injected splitter).
3. Only a single sentence longer than ``max_chars`` is cut, at the last space before the limit.
   NFC text has one code point per Hangul syllable, so a cut never falls inside a syllable.
4. A chunk shorter than ``min_chars`` is merged into its neighbour in the same section when both fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

from assistant.korean.sentences import regex_sentences
from assistant.korean.statute import CIRCLED
from assistant.types import Block, Chunk

SentenceSplitter = Callable[[str], list[str]]

_PARAGRAPH_MARK = re.compile(r"(?=(?:^|\s)[①-⑳])")
_ARTICLE_HEAD = re.compile(r"^(제\s*\d+\s*조(?:의\s*\d+)?\s*(?:\([^)]*\))?)")


@dataclass(frozen=True)
class ChunkParams:
    max_chars: int = 700
    min_chars: int = 120
    overlap_sentences: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"max_chars": self.max_chars, "min_chars": self.min_chars,
                "overlap_sentences": self.overlap_sentences}


def chunk_blocks(doc_id: str, title: str, blocks: Sequence[Block], params: ChunkParams,
                 split_sentences: SentenceSplitter = regex_sentences) -> list[Chunk]:
    """Turn a document's blocks into chunks, numbered in document order."""
    pieces: list[tuple[Block, str, str]] = []  # (first block of section, location, text)
    content = [b for b in blocks if b.kind != "heading" and b.text.strip()]
    for _, group in groupby(content, key=_section_key):
        section_blocks = list(group)
        first = section_blocks[0]
        if first.article:
            for loc, text in _split_article(section_blocks, params, split_sentences):
                pieces.append((first, loc, text))
        else:
            texts = [b.text.strip() for b in section_blocks if b.text.strip()]
            for text in _merge_small(_pack(texts, params, split_sentences), params):
                pieces.append((first, _location(first), text))
    return [
        Chunk(doc_id=doc_id, ordinal=i, text=text, title=title,
              section=" > ".join(block.heading_path), location=loc,
              page=block.page, article=block.article)
        for i, (block, loc, text) in enumerate(pieces)
    ]


def _section_key(block: Block) -> tuple[object, ...]:
    # each article block is a section of its own; headings and pages delimit the rest
    return (block.heading_path, block.page, block.article, id(block) if block.article else None)


def _location(block: Block) -> str:
    parts = []
    if block.article:
        parts.append(block.article)
    if block.page is not None:
        parts.append(f"{block.page}쪽")
    if not parts and block.heading_path:
        parts.append(block.heading_path[-1])
    return " ".join(parts)


def _split_article(blocks: Sequence[Block], params: ChunkParams,
                   split_sentences: SentenceSplitter) -> list[tuple[str, str]]:
    """An article as one chunk, or split at 항 with the article label repeated on each piece."""
    first = blocks[0]
    text = "\n".join(b.text.strip() for b in blocks if b.text.strip())
    base = _location(first)
    if len(text) <= params.max_chars:
        return [(base, text)]
    head_match = _ARTICLE_HEAD.match(text)
    head = head_match.group(1) if head_match else (first.article or "")
    paragraphs = [p.strip() for p in _PARAGRAPH_MARK.split(text) if p.strip()]
    budget = max(params.max_chars - len(head) - 1, params.max_chars // 2)
    out: list[tuple[str, str]] = []
    for packed in _pack(paragraphs, ChunkParams(budget, params.min_chars, params.overlap_sentences),
                        split_sentences):
        nums = [CIRCLED.index(c) + 1 for c in packed if c in CIRCLED]
        label = base
        if nums and first.article:
            span = f"제{nums[0]}항" if nums[0] == nums[-1] else f"제{nums[0]}항~제{nums[-1]}항"
            label = base.replace(first.article, first.article + span, 1)
        body = packed if packed.startswith(head) else f"{head} {packed}"
        out.append((label, body))
    return out


def _pack(texts: Iterable[str], params: ChunkParams, split_sentences: SentenceSplitter) -> list[str]:
    """Greedy packing of paragraphs, falling back to sentences, then to hard cuts."""
    units: list[str] = []
    for text in texts:
        if len(text) <= params.max_chars:
            units.append(text)
            continue
        for sentence in split_sentences(text):
            units.extend(_hard_cut(sentence, params.max_chars))
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        extra = len(unit) + (1 if current else 0)
        if current and size + extra > params.max_chars:
            chunks.append("\n".join(current))
            keep = current[-params.overlap_sentences:] if params.overlap_sentences else []
            current, size = list(keep), sum(len(u) + 1 for u in keep)
            extra = len(unit) + (1 if current else 0)
        current.append(unit)
        size += extra
    if current:
        chunks.append("\n".join(current))
    return chunks


def _hard_cut(sentence: str, limit: int) -> list[str]:
    """Cut one over-long sentence at spaces; only a space-less run is cut mid-word."""
    out = []
    rest = sentence.strip()
    while len(rest) > limit:
        cut = rest.rfind(" ", limit // 2, limit)
        if cut <= 0:
            cut = limit
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(rest)
    return out


def _merge_small(chunks: list[str], params: ChunkParams) -> list[str]:
    merged: list[str] = []
    for chunk in chunks:
        if merged and (len(chunk) < params.min_chars or len(merged[-1]) < params.min_chars) \
                and len(merged[-1]) + len(chunk) + 1 <= params.max_chars:
            merged[-1] = f"{merged[-1]}\n{chunk}"
        else:
            merged.append(chunk)
    return merged
