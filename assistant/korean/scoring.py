"""Term statistics over Korean content morphemes: IDF, BM25 over a handful of texts, TF-IDF vectors,
cosine, and typo similarity on jamo. Pure functions; the index-wide BM25 lives in bm25s.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence


def idf(df: int, n_docs: int) -> float:
    """BM25's (always positive) inverse document frequency."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def idf_table(term_lists: Iterable[Iterable[str]]) -> tuple[dict[str, float], int]:
    """IDF of every term over a small collection (e.g. the sentences of the retrieved passages)."""
    df: Counter[str] = Counter()
    n = 0
    for terms in term_lists:
        df.update(set(terms))
        n += 1
    return {t: idf(c, n) for t, c in df.items()}, n


def bm25(terms: Sequence[str], q_weights: dict[str, float], avg_len: float, k1: float = 1.2, b: float = 0.75) -> float:
    """BM25 of one text (its terms) for weighted query terms."""
    tf = Counter(terms)
    norm = k1 * (1 - b + b * len(terms) / (avg_len or 1.0))
    return sum(w * tf[t] * (k1 + 1) / (tf[t] + norm) for t, w in q_weights.items() if t in tf)


def tfidf(terms: Sequence[str], weights: dict[str, float]) -> dict[str, float]:
    """L2-normalised TF-IDF vector (a dict) of one text."""
    tf = Counter(terms)
    vec = {t: c * weights.get(t, 0.0) for t, c in tf.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


def centroid(vecs: Sequence[dict[str, float]]) -> dict[str, float]:
    total: Counter[str] = Counter()
    for v in vecs:
        total.update(v)
    norm = math.sqrt(sum(x * x for x in total.values())) or 1.0
    return {t: x / norm for t, x in total.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def weighted_share(weights: dict[str, float], present: set[str]) -> float:
    """Share of the total weight whose terms are present."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 0.0


# ---------------------------------------------------------------- typos


def jamo(text: str) -> str:
    """Hangul syllables decomposed into conjoining jamo (other characters unchanged)."""
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out += [chr(0x1100 + code // 588), chr(0x1161 + (code % 588) // 28)]
            if code % 28:
                out.append(chr(0x11A7 + code % 28))
        else:
            out.append(ch)
    return "".join(out)


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def typo_similarity(a: str, b: str) -> float:
    """Dice coefficient of the two words' jamo bigrams: 기쥰/기준 differ by one vowel and score high,
    which syllable bigrams cannot see (two-syllable words share no syllable bigram after one typo)."""
    ja, jb = _bigrams(jamo(a)), _bigrams(jamo(b))
    return 2 * len(ja & jb) / (len(ja) + len(jb)) if ja and jb else 0.0


def best_typo_match(term: str, seen: Iterable[str], min_similarity: float = 0.7) -> float:
    """Similarity of ``term`` to its closest likely typo in ``seen`` (0 below ``min_similarity``)."""
    if len(term) < 2:
        return 0.0
    best = 0.0
    for other in seen:
        if len(other) >= 2 and abs(len(other) - len(term)) <= 1:
            best = max(best, typo_similarity(term, other))
    return best if best >= min_similarity else 0.0


# ---------------------------------------------------------------- character n-grams


def squashed(text: str) -> str:
    """NFC with every kind of whitespace removed: what character n-gram overlap compares."""
    import unicodedata

    return "".join(unicodedata.normalize("NFC", text or "").split())


def char_ngrams(text: str, n: int = 3) -> set[str]:
    t = squashed(text)
    if len(t) < n:
        return {t} if t else set()
    return {t[i:i + n] for i in range(len(t) - n + 1)}


def containment(part: str, whole: str, n: int = 3) -> float:
    """Share of ``part``'s character n-grams found in ``whole`` (spacing ignored)."""
    a = char_ngrams(part, n)
    if not a:
        return 0.0
    return len(a & char_ngrams(whole, n)) / len(a)
