"""Retrieval evaluation: build (or reuse) an index per configuration with the real ingest pipeline, run
every gold question through the retriever, and score the ranking against the gold passages.

Indexes are cached under ``<work dir>/indexes/<corpus>-<key>`` where the key hashes everything that
changes what is indexed (embedder, chunking, the corpus files' names, sizes and mtimes, the parsers' and
chunker's source code). Retrieval-only
settings (mode, fusion weights) do not change the key, so bm25-only, dense-only and hybrid share one index.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.config import Settings
from eval.corpora import CorpusSpec
from eval.metrics import mrr_at_k, ndcg_at_k, recall_at_k
from eval.textmatch import GoldPassage, matched_gold

INDEX_FORMAT = 1
#: the code that decides what an index holds: a parser fix rebuilds the cached index instead of being
#: measured on the text the old parser produced
INGEST_CODE = Path(__file__).resolve().parents[1] / "assistant" / "ingest"
KS = (1, 5, 10)
#: settings that change the content of an index (and so its cache key)
INDEX_SETTINGS = ("embedder", "embedder_model", "embedder_url", "chunk_max_chars", "chunk_min_chars",
                  "chunk_overlap_sentences", "embed_max_chars")


class SearchBackend(Protocol):
    def search(self, query: str, k: int = 5, mode: str = "hybrid", flt: Any = None) -> list[Any]: ...


@dataclass
class IndexInfo:
    settings: Settings          # index_dir and index_name point at the cached index
    key: str
    seconds: float              # time spent (re)building; ~0 when reused
    chunks: int
    reused: bool


def index_key(settings: Settings, spec: CorpusSpec) -> str:
    payload = {"format": INDEX_FORMAT, "corpus": spec.name, "files": spec.fingerprint(), "ingest": ingest_code(),
               **{name: str(getattr(settings, name)) for name in INDEX_SETTINGS}}
    return hashlib.sha1(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:12]


def ingest_code() -> str:
    """A digest of the ingest package's source (parsers, chunking)."""
    digest = hashlib.sha1()
    for path in sorted(INGEST_CODE.rglob("*.py")):
        digest.update(path.relative_to(INGEST_CODE).as_posix().encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def ensure_index(settings: Settings, spec: CorpusSpec, work_dir: Path,
                 log: Callable[[str], None] = print) -> IndexInfo:
    """The cached index for (settings, corpus), built with :class:`assistant.ingest.pipeline.Ingestor`."""
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    key = index_key(settings, spec)
    name = f"{spec.name}-{key}"
    indexed = settings.with_overrides(index_dir=work_dir / "indexes", index_name=name)
    store = IndexStore(indexed.index_dir, name)
    reused = store.exists()
    t0 = time.perf_counter()
    if not reused:
        log(f"  색인 생성: {name} (문서 {len(spec.files)}개, 임베더 {settings.embedder})")
    report = Ingestor(indexed, store, make_embedder(indexed)).run(spec.paths())
    failed = [o for o in report.outcomes if o.status == "failed"]
    if failed:
        log(f"  경고: 색인하지 못한 파일 {len(failed)}개 — 예: {failed[0].path}: {failed[0].reason}")
    seconds = time.perf_counter() - t0
    from assistant.index.semantic import fill_index, semantic_enabled

    if semantic_enabled(indexed):
        t1 = time.perf_counter()
        filled = fill_index(indexed, store)
        if filled.done:
            log(f"  의미 검색 벡터: {filled.done}개 계산 ({time.perf_counter() - t1:.0f}초)")
    return IndexInfo(indexed, key, 0.0 if reused else seconds, store.manifest().chunk_count, reused)


@dataclass
class Retrieved:
    """One ranked result, reduced to what relevance needs."""

    source: str        # gold-style name ("korean-laws-admin/행정절차법_법률.md") or the raw path
    location: str
    text: str


@dataclass
class QuestionRun:
    id: str
    set: str
    split: str
    mode: str
    metrics: dict[str, float]
    latency_ms: float
    top: list[str] = field(default_factory=list)   # "source @ location" of the first results, for the report

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "set": self.set, "split": self.split, "mode": self.mode,
                **{k: round(v, 4) for k, v in self.metrics.items()}, "latency_ms": round(self.latency_ms, 2),
                "top": self.top}


def gold_passages(row: dict[str, Any]) -> list[GoldPassage]:
    return [GoldPassage(g.get("source", ""), g.get("location", ""), g.get("text", "")) for g in row.get("gold", [])]


def score_ranking(results: Sequence[Retrieved], golds: Sequence[GoldPassage], match: str = "any",
                  threshold: float | None = None) -> dict[str, float]:
    """Recall@1/5/10, MRR@10 and nDCG@10 of one ranked list."""
    kwargs = {} if threshold is None else {"threshold": threshold}
    hit_gold = [matched_gold(golds, r.source, r.location, r.text, **kwargs) for r in results]
    out = {f"recall@{k}": recall_at_k(hit_gold, len(golds), k, match) for k in KS}
    out["mrr@10"] = mrr_at_k(hit_gold, 10)
    out["ndcg@10"] = ndcg_at_k(hit_gold, len(golds), 10, match)
    return out


def to_retrieved(hits: Sequence[Any], spec: CorpusSpec) -> list[Retrieved]:
    """Assistant hits → :class:`Retrieved`, with sources mapped back to gold names and the section path
    in front of the text (headings such as "항공훈련기관 : 총 23개" live there, not in the body)."""
    out = []
    for h in hits:
        name = spec.gold_name(h.source) or h.source
        out.append(Retrieved(name, h.location or "", f"{getattr(h, 'section', '')}\n{h.text}"))
    return out


def run_questions(backend: SearchBackend, spec: CorpusSpec, rows: Sequence[dict[str, Any]], modes: Sequence[str],
                  k: int = 10, convert: Callable[[Sequence[Any], CorpusSpec], list[Retrieved]] = to_retrieved,
                  ) -> list[QuestionRun]:
    """Every answerable question × mode; latency is the wall-clock time of one ``search`` call."""
    runs = []
    for mode in modes:
        backend.search("워밍업 질의", k=k, mode=mode)  # first call loads models / warms caches: not timed
        for row in rows:
            golds = gold_passages(row)
            if not row.get("answerable", True) or not golds:
                continue
            t0 = time.perf_counter()
            hits = backend.search(row["question"], k=k, mode=mode)
            latency = (time.perf_counter() - t0) * 1000
            results = convert(hits, spec)
            metrics = score_ranking(results, golds, row.get("match", "any"))
            top = [f"{r.source.rsplit('/', 1)[-1]} @ {r.location}".strip() for r in results[:3]]
            runs.append(QuestionRun(row["id"], row["set"], row["split"], mode, metrics, latency, top))
    return runs
