"""Check the citations in generated text against the sources the generator was given.

Two kinds of citation are checked:

- ``[n]`` markers must name a passage that exists. A marker for a passage that was not given is removed.
- 「법령명」 제N조(의M)(제N항)(제N호) references must be supported by a source: either a passage of that law
  whose article label (or article heading in its text) is that article, or a passage whose text itself
  mentions 「법령명」 제N조 (법제처 해석례 quote the articles they rely on). The sources the sentence cites
  are checked first, then every retrieved passage. A reference no source supports is never shown as fact:
  by default the sentence that carries it is removed; with ``policy="flag"`` the reference is kept but
  visibly marked as unconfirmed.

Pure functions, no I/O: the caller passes the passages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from assistant.generate.base import Passage
from assistant.korean.statute import ARTICLE_HEADING_IN_TEXT, LAW_REF, article_label, labels_in, law_key, squash

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_UNIT_END = re.compile(r"(?:[.?!。]|\[\d{1,3}(?:\s*,\s*\d{1,3})*\])(?=\s|$)")
_TRAILING_MARKERS = re.compile(r"(?:\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\])+")
FLAG_NOTE = " (※ 출처에서 확인되지 않은 조문)"
_OCR_NOTE = "OCR 인식 신뢰도 낮음"      # assistant.ocr.LOW_CONFIDENCE_NOTE, carried in a chunk's location

Policy = Literal["remove", "flag"]


@dataclass(frozen=True)
class LawReference:
    """One 「법령명」 제N조 reference as written, with its normalised keys."""

    text: str
    law: str
    article: str          # "제19조" or "제8조의2"
    detail: str = ""      # "제1항제2호" when given

    @property
    def key(self) -> tuple[str, str]:
        return (law_key(self.law), self.article)


@dataclass(frozen=True)
class CitationIssue:
    kind: Literal["marker", "law"]
    label: str
    reason: str
    supported_by: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "reason": self.reason,
                "supported_by": list(self.supported_by)}


@dataclass
class CitationReport:
    """The checked text and what happened to each citation in it."""

    text: str
    kept: list[CitationIssue] = field(default_factory=list)
    removed: list[CitationIssue] = field(default_factory=list)
    flagged: list[CitationIssue] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)      # passage numbers the final text cites, in order

    @property
    def clean(self) -> bool:
        return not (self.removed or self.flagged)

    def to_json(self) -> dict[str, Any]:
        return {"kept": [c.to_json() for c in self.kept], "removed": [c.to_json() for c in self.removed],
                "flagged": [c.to_json() for c in self.flagged], "cited": self.cited}


def parse_markers(text: str) -> list[int]:
    """Passage numbers cited as [n] or [n, m], in order of first appearance."""
    out: list[int] = []
    for m in _MARKER.finditer(text):
        for part in m.group(1).split(","):
            n = int(part)
            if n not in out:
                out.append(n)
    return out


def parse_law_references(text: str) -> list[LawReference]:
    text = unicodedata.normalize("NFC", text)
    refs = []
    for m in LAW_REF.finditer(text):
        article = article_label(m.group("num"), m.group("sub"))
        detail = re.sub(r"\s+", "", m.group("tail") or "")
        refs.append(LawReference(text=m.group(0).strip(), law=m.group("law").strip(), article=article, detail=detail))
    return refs


def split_units(text: str) -> list[tuple[str, str]]:
    """Split text into (sentence, following whitespace); a sentence keeps the [n] markers after it."""
    units: list[tuple[str, str]] = []
    for line_match in re.finditer(r"[^\n]*(?:\n|$)", text):
        line = line_match.group(0)
        if not line:
            continue
        pos = 0
        for m in _UNIT_END.finditer(line):
            if m.start() < pos:
                continue
            end = m.end()
            tail = _TRAILING_MARKERS.match(line, end)
            if tail:
                end = tail.end()
            ws = re.match(r"[ \t]*\n?", line[end:]).group(0)  # type: ignore[union-attr]
            units.append((line[pos:end], ws))
            pos = end + len(ws)
        rest = line[pos:]
        body = rest.rstrip("\n").strip()
        if body:
            units.append((rest.rstrip("\n"), "\n" if rest.endswith("\n") else ""))
        elif rest and units:
            units[-1] = (units[-1][0], units[-1][1] + rest)
    return units


def passage_articles(p: Passage) -> set[str]:
    """Article labels a passage *is* (its location/article fields and article headings in its text)."""
    fields = " ".join(x for x in (p.article or "", p.location) if x)
    labels = labels_in(fields)
    labels |= {re.sub(r"\s+", "", m.group(1)) for m in ARTICLE_HEADING_IN_TEXT.finditer(p.text)}
    return labels


def supports(p: Passage, ref: LawReference) -> bool:
    """Whether one passage supports a law reference (see the module docstring)."""
    law = law_key(ref.law)
    if law_key(p.title) == law and ref.article in passage_articles(p):
        return True
    squashed = re.sub(r"」\([^()]{0,60}\)", "」", squash(p.text))  # 「…법」(이하 "…법"이라 함) 제N조
    needle = f"「{law}」{ref.article}"
    start = squashed.find(needle)
    while start >= 0:
        after = squashed[start + len(needle): start + len(needle) + 2]
        if not (after[:1].isdigit() or (re.match(r"의\d", after) and "의" not in ref.article)):
            return True
        start = squashed.find(needle, start + 1)
    return False


def validate_citations(text: str, passages: Sequence[Passage], policy: Policy = "remove") -> CitationReport:
    """Remove markers to missing passages and remove (or flag) unsupported law references."""
    by_n = {p.n: p for p in passages}
    report = CitationReport(text="")
    out: list[str] = []
    for sentence, ws in split_units(unicodedata.normalize("NFC", text)):
        checked = _check_laws(_check_markers(sentence, by_n, report), passages, by_n, report, policy)
        if checked is not None:
            out.append(checked + ws)
    report.text = re.sub(r"[ \t]+\n", "\n", "".join(out)).strip()
    report.cited = [n for n in parse_markers(report.text) if n in by_n]
    return report


def _check_markers(sentence: str, by_n: dict[int, Passage], report: CitationReport) -> str:
    def fix(m: re.Match[str]) -> str:
        ok = []
        for part in m.group(1).split(","):
            n = int(part)
            if n in by_n:
                ok.append(str(n))
            else:
                report.removed.append(CitationIssue("marker", f"[{n}]", f"출처 [{n}]이(가) 없습니다."))
        return f"[{', '.join(ok)}]" if ok else ""

    fixed = _MARKER.sub(fix, sentence)
    return re.sub(r"\s+([.?!])", r"\1", fixed).rstrip() if fixed != sentence else sentence


def _check_laws(sentence: str, passages: Sequence[Passage], by_n: dict[int, Passage],
                report: CitationReport, policy: Policy) -> str | None:
    cited = [by_n[n] for n in parse_markers(sentence) if n in by_n]
    others = [p for p in passages if p not in cited]
    for ref in parse_law_references(sentence):
        backing = tuple(p.n for p in cited if supports(p, ref)) or tuple(p.n for p in others if supports(p, ref))
        if backing:
            report.kept.append(CitationIssue("law", ref.text, "출처에서 확인됨", backing))
            continue
        issue = CitationIssue("law", ref.text, "검색된 출처 어디에도 이 조문이 없습니다.")
        if policy == "remove":
            report.removed.append(issue)
            return None
        report.flagged.append(issue)
        sentence = sentence.replace(ref.text, ref.text + FLAG_NOTE, 1)
    return sentence


# ---------------------------------------------------------------- precise, renumbered citations

#: share of a source unit's character 3-grams an answer sentence must contain to count as quoting it
QUOTE_MIN_CONTAINMENT = 0.6


def precise_citations(text: str, passages: Sequence[Passage]) -> tuple[str, list[Passage]]:
    """Renumber the cited sources 1..n in order of first use and give each the precise place it is cited at.

    A citation is a (passage, location) pair: the answer sentence carrying ``[n]`` is matched against the
    units of passage n (sentences and statute items, assistant.generate.units), and the units it quotes give
    the location ("제14조제1호·제2호", "3쪽", "회답") and the exact quotes the source panel highlights. Two
    sentences citing different 항 of one passage become two citations. A sentence that quotes no unit closely
    (a model's paraphrase) cites the unit it overlaps most, or the passage as retrieved.
    """
    from assistant.generate.units import passage_units
    from assistant.korean.scoring import containment
    from assistant.korean.sentences import display_sentences

    by_n = {p.n: p for p in passages}
    units_of: dict[int, list[Any]] = {}
    keys: dict[tuple[int, str], int] = {}
    quotes: dict[tuple[int, str], list[str]] = {}
    out: list[str] = []
    pos = 0
    for sentence in display_sentences(text):
        at = text.find(sentence, pos)
        if at < 0:
            continue
        out.append(text[pos:at])
        pos = at + len(sentence)
        body = _MARKER.sub("", sentence)

        def renumber(m: re.Match[str], body: str = body) -> str:
            new: list[str] = []
            for part in m.group(1).split(","):
                n = int(part)
                if n not in by_n:
                    continue
                units = units_of.setdefault(n, passage_units(by_n[n]))
                location, quoted = _cited_place(units, body, by_n[n], containment)
                key = (n, location)
                if key not in keys:
                    keys[key] = len(keys) + 1
                    quotes[key] = []
                quotes[key] += [q for q in quoted if q not in quotes[key]]
                if str(keys[key]) not in new:
                    new.append(str(keys[key]))
            return f"[{', '.join(new)}]" if new else ""

        out.append(_MARKER.sub(renumber, sentence))
    out.append(text[pos:])
    cited = []
    for (n, location), new_n in sorted(keys.items(), key=lambda kv: kv[1]):
        p = by_n[n]
        place = location or p.location
        if _OCR_NOTE in p.location and _OCR_NOTE not in place:   # a page OCR read with low confidence stays flagged
            place = f"{place} ({_OCR_NOTE})"
        cited.append(replace(p, n=new_n, location=place, quotes=tuple(quotes[(n, location)])))
    return "".join(out), cited


def _cited_place(units: Sequence[Any], body: str, passage: Passage, containment: Any) -> tuple[str, list[str]]:
    """Where a sentence quotes a passage: the unit it contains best, with the items of the same rule it also
    quotes (statute boilerplate makes neighbouring articles look alike, so only near-exact quotes of the
    same article and 항 join)."""
    scored = [(containment(u.text, body), u) for u in units]
    if not scored:
        return passage.location, []
    best_c, best = max(scored, key=lambda x: (x[0], len(x[1].text)))
    if best_c < 0.3:
        return passage.location, []
    quoted = [best]
    if best_c >= QUOTE_MIN_CONTAINMENT:
        quoted += [u for c, u in scored if u is not best and c >= 0.9 and u.article == best.article
                   and u.paragraph == best.paragraph]
    quoted.sort(key=lambda u: u.idx)
    return _join_locations(quoted), [u.text for u in quoted]


def _join_locations(units: Sequence[Any]) -> str:
    """"제14조제1호·제2호" for a rule quoted with its items; distinct locations joined otherwise."""
    locations = list(dict.fromkeys(u.location for u in units if u.location))
    if len(locations) <= 1:
        return locations[0] if locations else ""
    items = [u for u in units if u.is_item and u.item]
    rules = [u for u in units if not u.is_item]
    if items and all(u.article == items[0].article and u.paragraph == items[0].paragraph for u in units):
        from assistant.korean.statute import location_label

        base = location_label(items[0].article, items[0].paragraph)
        nums = list(dict.fromkeys(u.item for u in items))
        return base + "·".join(f"제{x}호" for x in nums) if rules or len(nums) > 1 else items[0].location
    return ", ".join(locations)
