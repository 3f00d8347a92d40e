"""Which documents each gold set is searched over, and how index sources map back to gold sources.

Gold passages name documents by their path relative to the corpus root (``korean-laws-admin/행정절차법_법률.md``).
An index stores absolute paths; :class:`CorpusSpec` keeps the mapping so relevance never depends on
where the corpus lies on disk.

The 법제처 set is searched over the statutes plus a *derived* view of the 101 cases: one file per case
holding only its 관계 법령 block (the statute text 법제처 relied on). The case files themselves contain the
question verbatim, so indexing them would make retrieval trivially easy and measure nothing.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError

REPO = Path(__file__).resolve().parent.parent
MOLEG_DERIVED = "moleg-interpretations-qa/관계법령"

#: gold set → the corpus (index) it is evaluated on
SET_CORPUS = {
    "moleg-interpretations-qa": "laws",
    "korean-laws-minwon": "laws",
    "korean-laws-admin": "laws",
    "welfare-services-2023": "welfare",
    "allganize-public-docs": "allganize",
    "people-laws": "laws",
    "people-welfare": "welfare",
    "people-allganize": "allganize",
}

LAW_FILES = (
    "korean-laws-minwon/민원처리에관한법률_법률.md",
    "korean-laws-admin/민원처리에관한법률_시행령.md",
    "korean-laws-admin/행정절차법_법률.md",
    "korean-laws-admin/공공기관의정보공개에관한법률_법률.md",
    "korean-laws-admin/전자정부법_법률.md",
)


def default_corpus_root() -> Path:
    return REPO.parent / "shared" / "corpus"


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


@dataclass
class CorpusSpec:
    """Files of one evaluation corpus: gold name (relative path) → file on disk."""

    name: str
    files: dict[str, Path] = field(default_factory=dict)

    def paths(self) -> list[Path]:
        return [self.files[k] for k in sorted(self.files)]

    def gold_name(self, absolute_source: str) -> str:
        """The gold-style name of an indexed file ("" when the file is not part of this corpus)."""
        return self._by_path().get(_nfc(absolute_source), "")

    def _by_path(self) -> dict[str, str]:
        cache = getattr(self, "_cache", None)
        if cache is None:
            cache = {_nfc(str(p.resolve())): k for k, p in self.files.items()}
            self._cache = cache
        return cache

    def fingerprint(self) -> list[tuple[str, int, int]]:
        """Names, sizes and mtimes: part of the index cache key, so an edited file rebuilds the index."""
        return [(k, p.stat().st_size, int(p.stat().st_mtime)) for k, p in sorted(self.files.items())]


def _md_files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*.md") if p.name != "README.md")


def write_moleg_derived(corpus: Path, out_root: Path) -> dict[str, Path]:
    """One Markdown file per 법제처 case with only its 관계 법령 (rewritten only when its text changed)."""
    qa = corpus / "moleg-interpretations-qa" / "qa.jsonl"
    files: dict[str, Path] = {}
    folder = out_root / MOLEG_DERIVED
    folder.mkdir(parents=True, exist_ok=True)
    for line in qa.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        related = (d.get("related_laws_text") or "").strip()
        if not related:
            continue
        name = f"{MOLEG_DERIVED}/{d['id']}.md"
        path = out_root / name
        text = f"# {d['id']} 관계 법령\n\n{related}\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        files[_nfc(name)] = path
    return files


def corpus_spec(name: str, corpus: Path, derived_root: Path) -> CorpusSpec:
    """The files of corpus ``name`` (laws | statutes | welfare | allganize) under ``corpus``."""
    if not corpus.is_dir():
        raise AssistantError(f"평가 말뭉치 폴더가 없습니다: {corpus}. --corpus로 ../shared/corpus 위치를 지정하세요.")
    spec = CorpusSpec(name)
    if name in ("laws", "statutes"):  # statutes: the five law files only (small; CI and reply drafts)
        for rel in LAW_FILES:
            if (corpus / rel).is_file():
                spec.files[_nfc(rel)] = corpus / rel
        if name == "laws" and (corpus / "moleg-interpretations-qa" / "qa.jsonl").is_file():
            spec.files.update(write_moleg_derived(corpus, derived_root))
    elif name == "welfare":
        root = corpus / "welfare-services-2023" / "docs"
        for p in _md_files(root):
            spec.files[_nfc(str(p.relative_to(corpus)))] = p
    elif name == "allganize":
        for p in _md_files(corpus / "allganize-public-docs"):
            spec.files[_nfc(str(p.relative_to(corpus)))] = p
    else:
        raise AssistantError(f"알 수 없는 평가 말뭉치 '{name}'. 가능한 값: laws, statutes, welfare, allganize")
    if not spec.files:
        raise AssistantError(f"평가 말뭉치 '{name}'의 문서를 {corpus}에서 찾지 못했습니다.")
    return spec
