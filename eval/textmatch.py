"""Chunking-independent relevance: locations (제N조, pages) and character-3-gram containment.

A retrieved passage is relevant to a gold passage when it comes from the gold document at the gold
location, or when it contains most of the gold excerpt's character 3-grams. Both tests ignore how the
document was cut into chunks, so an index with other chunk sizes (or the naive baseline) is judged by
the same rule. Pure functions only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.korean.scoring import char_ngrams as korean_ngrams
from assistant.korean.statute import labels_in

_SPACE = re.compile(r"\s+")
_MARKUP = re.compile(r"\*\*|\\|<br\s*/?>|[|#]")
_PAGE = re.compile(r"(?:p\.?\s*(\d+))|(?:(\d+)\s*쪽)", re.I)

#: share of the gold excerpt's 3-grams a passage must contain to count as relevant
DEFAULT_CONTAINMENT = 0.6
#: passages shorter than this many 3-grams never count by overlap alone (a bare heading is not evidence)
MIN_PASSAGE_GRAMS = 20


def normalise(text: str) -> str:
    """NFC, markup and every kind of whitespace removed: what the overlap test compares."""
    text = unicodedata.normalize("NFC", text or "")
    return _SPACE.sub("", _MARKUP.sub("", text))


def char_ngrams(text: str, n: int = 3) -> set[str]:
    """Character n-grams with markup removed (assistant.korean.scoring does the rest)."""
    return korean_ngrams(_MARKUP.sub("", text or ""), n)


def containment(gold: str, passage: str, n: int = 3) -> float:
    """Share of the gold excerpt's n-grams found in the passage; with a long gold excerpt (longer than
    the passage) the denominator is the passage's n-gram count, so a passage wholly inside the gold
    text still scores 1.0."""
    g = char_ngrams(gold, n)
    if not g:
        return 0.0
    p = char_ngrams(passage, n)
    if not p:
        return 0.0
    return len(g & p) / min(len(g), len(p))


def article_labels(text: str) -> set[str]:
    """Article labels mentioned in a location string: "제10조, 제10조의2" → {"제10조", "제10조의2"}."""
    return labels_in(text)


def page_numbers(text: str) -> set[int]:
    """Pages in a location string: "p.3", "3쪽, 4쪽" → {3, 4}."""
    return {int(m.group(1) or m.group(2)) for m in _PAGE.finditer(text or "")}


def location_matches(gold_location: str, hit_location: str) -> bool:
    """True when the hit's location covers the gold one; an empty gold location matches any hit."""
    if not gold_location.strip():
        return True
    arts = article_labels(gold_location)
    if arts:
        return bool(arts & article_labels(hit_location))
    pages = page_numbers(gold_location)
    if pages:
        return bool(pages & page_numbers(hit_location))
    return normalise(gold_location) in normalise(hit_location)


def source_matches(gold_source: str, hit_source: str) -> bool:
    """Gold sources are paths relative to the corpus root; hits carry absolute paths."""
    if not gold_source:
        return False
    g = unicodedata.normalize("NFC", gold_source).strip("/")
    h = unicodedata.normalize("NFC", hit_source or "")
    return h == g or h.endswith("/" + g)


@dataclass(frozen=True)
class GoldPassage:
    source: str = ""
    location: str = ""
    text: str = ""


def passage_relevant(gold: GoldPassage, hit_source: str, hit_location: str, hit_text: str,
                     threshold: float = DEFAULT_CONTAINMENT) -> bool:
    """The relevance rule used by every retrieval metric (see module docstring)."""
    if gold.source and source_matches(gold.source, hit_source) and location_matches(gold.location, hit_location):
        return True
    if gold.text and len(char_ngrams(hit_text)) >= MIN_PASSAGE_GRAMS:
        return containment(gold.text, hit_text) >= threshold
    return False


def matched_gold(golds: Iterable[GoldPassage], hit_source: str, hit_location: str, hit_text: str,
                 threshold: float = DEFAULT_CONTAINMENT) -> set[int]:
    """Indices of the gold passages a hit is relevant to."""
    return {i for i, g in enumerate(golds) if passage_relevant(g, hit_source, hit_location, hit_text, threshold)}
