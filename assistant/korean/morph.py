"""Korean morphemes with Kiwi: the terms BM25 indexes, the terms of a question, the stop terms.

Kiwi costs ~1.3 s and ~500 MB to load, so one analyser is shared per process (created on first use).
BM25 sees content morphemes only: nouns, verb and adjective stems, roots, numbers, foreign words and
hanja. Particles (조사), endings (어미), affixes and punctuation are dropped, because in Korean they glue
to nouns ("민원인이", "민원인에게") and would otherwise split one term into many. Verb and adjective
stems carry a "다" marker (가다 vs the noun 가).
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

#: tags of content morphemes (prefix match): what BM25 indexes
CONTENT_TAGS = ("NNG", "NNP", "NR", "NP", "VV", "VA", "XR", "SL", "SH", "SN", "MAG")
#: content tags that name a topic (nouns, roots, foreign words, hanja); verbs, adverbs, numbers and
#: pronouns are "light": 나오다, 얼마나, 1 say little about whether a passage fits
TOPIC_TAGS = ("NNG", "NNP", "XR", "SL", "SH")
NOUN_TAGS = ("NNG", "NNP", "SL", "SN", "SH", "XR")

#: question words and light verbs that say nothing about the topic of a question
STOP_TERMS = frozenset("""
어떻다 어떠하다 무엇 언제 어디 누구 왜 얼마 몇 무슨 어떤 어느 있다 없다 하다 되다 알다 알리다 싶다 주다 보다 가능
궁금하다 경우 관련 방법 대하다 관하다 따르다 그 이 저 것 수 때 등 및 여부 문의 질문 설명 내용 말하다 그렇다 이렇다
""".split())

_lock = threading.Lock()
_kiwi: Kiwi | None = None


def kiwi() -> Kiwi:
    """The process-wide Kiwi instance, with the worker count :mod:`assistant.runtime` configured.

    Kiwi fixes its worker count when it is created (``num_workers`` >= 1: 0 cannot analyse a list).
    """
    global _kiwi
    with _lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            from assistant.runtime import current

            # No multi-word dictionary: it joins phrases such as "철분결핍성 빈혈" into one token, which a
            # query for "빈혈" then cannot match, and it costs 2.4 s of the analyser's 3.8 s start-up
            # (measured: 3 of 151,865 content terms of 507 corpus documents change without it).
            _kiwi = Kiwi(num_workers=current().threads, load_multi_dict=False)
        return _kiwi


def reset() -> None:
    """Forget the analyser so the next use builds one with the newly configured worker count."""
    global _kiwi
    with _lock:
        _kiwi = None


def is_content(tag: str) -> bool:
    return tag.startswith(CONTENT_TAGS)


def term_of(form: str, tag: str) -> str:
    """The index form of one content morpheme (lower-cased foreign words, verb stems marked with 다)."""
    if tag == "SL":
        return form.lower()
    return form + "다" if tag.startswith(("VV", "VA")) else form


def terms_of_tokens(tokens: Sequence[Any]) -> list[str]:
    """Content terms of Kiwi tokens, in order: the exact rule BM25 indexing uses."""
    return [term_of(tok.form, tok.tag) for tok in tokens if is_content(tok.tag)]


def content_terms(text: str) -> list[str]:
    """Content morphemes of one text, in order."""
    return terms_of_tokens(kiwi().tokenize(text))


def content_terms_batch(texts: Sequence[str]) -> list[list[str]]:
    """Content morphemes of many texts, analysed in parallel by Kiwi's workers."""
    if not texts:
        return []
    return [terms_of_tokens(toks) for toks in kiwi().tokenize(list(texts))]


def question_terms(question: str) -> list[str]:
    """Content terms of a question without the stop terms (무엇, 어떻다, 가능, …)."""
    terms = content_terms(unicodedata.normalize("NFC", question))
    return [t for t in terms if t not in STOP_TERMS]


def noun_phrases(text: str) -> list[str]:
    """「법령명」 and runs of adjacent nouns as written (e.g. "민원 처리기간"), first occurrence order."""
    import re

    text = unicodedata.normalize("NFC", text)
    laws = re.findall(r"「[^」]+」", text)
    stripped = re.sub(r"「[^」]+」", " ", text)
    runs: list[list[Any]] = []
    for tok in kiwi().tokenize(stripped):
        if tok.tag.startswith(NOUN_TAGS) and tok.form not in STOP_TERMS:
            last = runs[-1][-1] if runs and runs[-1] else None
            if last is not None and tok.start - (last.start + last.len) <= 1:
                runs[-1].append(tok)
            else:
                runs.append([tok])
        elif runs and runs[-1]:
            runs.append([])  # any other morpheme ends a noun run
    phrases = [stripped[r[0].start: r[-1].start + r[-1].len] for r in runs if r]
    return laws + [p for p in dict.fromkeys(phrases) if len(p) >= 2]
