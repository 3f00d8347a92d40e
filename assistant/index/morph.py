"""Korean morpheme analysis for BM25 and sentence splitting, with Kiwi.

Kiwi costs ~1.3 s and ~500 MB to load, so one analyser is shared per process (created on first use).
BM25 sees content morphemes only: nouns, verb and adjective stems, roots, numbers, foreign words and
hanja. Particles (조사), endings (어미), affixes and punctuation are dropped, because in Korean they glue
to nouns ("민원인이", "민원인에게") and would otherwise split one term into many.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

_CONTENT_PREFIXES = ("NNG", "NNP", "NR", "NP", "VV", "VA", "XR", "SL", "SH", "SN", "MAG")
_lock = threading.Lock()
_kiwi: Kiwi | None = None
_kiwi_threads = 0


def kiwi(threads: int = 2) -> Kiwi:
    """The process-wide Kiwi instance (``num_workers`` >= 1: 0 cannot analyse a list)."""
    global _kiwi, _kiwi_threads
    with _lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            _kiwi_threads = max(1, threads)
            # No multi-word dictionary: it joins phrases such as "철분결핍성 빈혈" into one token, which a
            # query for "빈혈" then cannot match, and it costs 2.4 s of the analyser's 3.8 s start-up
            # (measured: 3 of 151,865 content terms of 507 corpus documents change without it).
            _kiwi = Kiwi(num_workers=_kiwi_threads, load_multi_dict=False)
        return _kiwi


def _keep(tag: str) -> bool:
    return tag.startswith(_CONTENT_PREFIXES)


def _terms(tokens: Sequence[object]) -> list[str]:
    out = []
    for tok in tokens:
        tag = tok.tag  # type: ignore[attr-defined]
        if _keep(tag):
            form = tok.form.lower() if tag == "SL" else tok.form  # type: ignore[attr-defined]
            # verb/adjective stems get a marker so 가다(가) and the noun 가 do not collide
            out.append(form + "다" if tag.startswith(("VV", "VA")) else form)
    return out


def content_terms(text: str, threads: int = 2) -> list[str]:
    """Content morphemes of one text, in order."""
    return _terms(kiwi(threads).tokenize(text))


def content_terms_batch(texts: Sequence[str], threads: int = 2) -> list[list[str]]:
    """Content morphemes of many texts, analysed in parallel by Kiwi's workers."""
    if not texts:
        return []
    return [_terms(toks) for toks in kiwi(threads).tokenize(list(texts))]


def split_sentences(text: str, threads: int = 2) -> list[str]:
    """Korean sentence boundaries from Kiwi; sentences keep their original characters."""
    sents = kiwi(threads).split_into_sents(text)
    out = [text[s.start:s.end].strip() for s in sents]
    return [s for s in out if s]


def split_sentences_batch(texts: Sequence[str], threads: int = 2) -> list[list[tuple[str, list[str]]]]:
    """Sentences of many texts, split by Kiwi's workers in parallel, each with its content morphemes.

    Kiwi finds sentence boundaries by analysing the text, so the morphemes come with the split at no extra
    cost; ingestion keeps them instead of analysing the same sentences again for BM25.
    """
    if not texts:
        return []
    out = []
    for text, sents in zip(texts, kiwi(threads).split_into_sents(list(texts), return_tokens=True), strict=True):
        row = []
        for sent in sents:
            piece = text[sent.start:sent.end].strip()
            if piece:
                row.append((piece, _terms(sent.tokens)))
        out.append(row)
    return out
