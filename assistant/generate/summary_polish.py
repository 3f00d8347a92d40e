"""Last pass over a 개조식 summary, whatever wrote it: spacing, endings, table rows, repeated facts.

- PDF text layers split particles and endings from their word ("총수입 은", "증가 로", "증가 한"). Kiwi's
  ``space`` proposes a spacing; only its *removals* of a space before a particle, ending, suffix or copula are
  applied, never its insertions ("97.2조원" must not become "97.2 조 원"), and a line whose numbers would change
  is left as it was.
- 개조식 endings: every sentence of a line that still ends in "~다." is turned into 명사형 종결 (~함, ~임, ~음)
  by :func:`assistant.generate.extractive_summary.compress_ending`, which rewrites only the final predicate.
- A table row written with pipes ("구분 | 2023 | 2024") becomes "구분: 2023, 2024".
- One fact once: a line that repeats a figure of an earlier line and says much the same (≥ 40 % shared character
  3-grams) is dropped; the first, usually the headline, stays.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_FIGURE = re.compile(r"\d[\d,.]*\s?(?:%p|%|조원|조|억원|억|만원|만|천|원|명|개교|개소|개|건|배|곳|가구|회|대|종|톤"
                     r"|㎡|㎢|km|달러|일|개월|시간)")
_MARK = re.compile(r"^(\s*[□○\-]\s*)")
_GLUE_TAGS = ("J", "E", "XSV", "XSA", "XSN", "VCP")


def respace(text: str) -> str:
    """Remove the spaces that split a particle or ending from its word; nothing else changes."""
    if " " not in text.strip():
        return text
    from assistant.korean.morph import kiwi

    analyser = kiwi()
    proposed = analyser.space(text, reset_whitespace=True)
    # index of each non-space character → whether Kiwi puts a space before it
    spaced_before: set[int] = set()
    n = 0
    for i, ch in enumerate(proposed):
        if ch == " ":
            continue
        if i > 0 and proposed[i - 1] == " ":
            spaced_before.add(n)
        n += 1
    glue_at: set[int] = set()
    squeezed = proposed.replace(" ", "")
    for tok in analyser.tokenize(squeezed):
        if tok.tag.startswith(_GLUE_TAGS):
            glue_at.add(tok.start)
    out: list[str] = []
    n = 0
    for i, ch in enumerate(text):
        if ch == " " and i + 1 < len(text) and text[i + 1] != " " and out and out[-1] != " ":
            prev, nxt = out[-1], text[i + 1]
            if n not in spaced_before and n in glue_at and re.match(r"[가-힣]", nxt) \
                    and re.match(r"[가-힣0-9%)」』]", prev):
                continue
        out.append(ch)
        if ch != " ":
            n += 1
    fixed = "".join(out)
    return fixed if _NUMBER.findall(fixed) == _NUMBER.findall(text) else text


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    depth = start = 0
    for i, ch in enumerate(text):
        if ch in "(「『[":
            depth += 1
        elif ch in ")」』]":
            depth = max(0, depth - 1)
        elif ch == "." and depth == 0 and i > 0 and text[i - 1] == "다" and (i + 1 == len(text) or text[i + 1] in " ("):
            parts.append(text[start:i + 1].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def normalise_endings(text: str, compress: Callable[[str], str] | None = None) -> str:
    """Each "~다." sentence of a line in 명사형 종결; other sentences unchanged."""
    if "다" not in text:
        return text
    if compress is None:
        from assistant.generate.extractive_summary import compress_ending as compress
    parts = _sentences(text)
    out = [compress(p) if p.rstrip(". ").endswith("다") else p.rstrip() for p in parts]  # type: ignore[misc]
    joined = out[0].rstrip(".")
    for p in out[1:]:
        joined += (" " if p.startswith("(") else ", ") + p.rstrip(".")
    return joined


def table_row(text: str) -> str:
    """"구분 | 2023 | 2024" → "구분: 2023, 2024" (empty cells dropped)."""
    if text.count("|") < 1:
        return text
    cells = [c.strip() for c in text.strip().strip("|").split("|")
             if c.strip() and not re.fullmatch(r"[-:]+", c.strip())]
    if len(cells) < 2:
        return " ".join(cells)
    return f"{cells[0]}: " + ", ".join(cells[1:])


def _grams(text: str) -> set[str]:
    t = re.sub(r"\s+", "", text)
    return {t[i:i + 3] for i in range(max(0, len(t) - 2))}


def _figures(text: str) -> set[str]:
    return {f.replace(" ", "") for f in _FIGURE.findall(text)}


def drop_repeated_facts(lines: list[str]) -> tuple[list[str], int]:
    """Lines that restate a figure of an earlier line in much the same words are dropped."""
    kept: list[str] = []
    dropped = 0
    for line in lines:
        figs, grams = _figures(line), _grams(line)
        repeat = False
        for prev in kept:
            shared = figs & _figures(prev)
            pg = _grams(prev)
            sim = len(grams & pg) / max(1, min(len(grams), len(pg)))
            if (shared and sim >= 0.4) or sim >= 0.7:
                repeat = True
                break
        if repeat:
            dropped += 1
            continue
        kept.append(line)
    return kept, dropped


def polish_line(line: str) -> str:
    """One □ / ○ / - line: table row, spacing, endings — its marker and indentation kept."""
    m = _MARK.match(line)
    prefix = m.group(1) if m else ""
    body = unicodedata.normalize("NFC", line[len(prefix):]).strip()
    if "|" in body:
        body = table_row(body)
    body = normalise_endings(respace(body))
    return prefix + body
