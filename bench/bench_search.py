"""Ingest throughput, search latency per mode, HNSW-vs-flat crossover, and the LangChain-defaults baseline.

    python bench/bench_search.py                 # full: sizes 10k,100k (several minutes)
    python bench/bench_search.py --quick         # smoke run, small sizes
    python bench/bench_search.py --sizes 10000,50000 --corpus /work/shared/corpus
    python bench/bench_search.py --filters-only --sizes 100000,1000000   # agency scale: filtered search at
                                                 # 100k and 1M, the LangChain peer at 100k in the same run

Prints tables and writes every figure to bench/out/bench_search-<time>.json. Large indexes are made of
synthetic passages composed from real corpus sentences (see bench/_corpus.py): passage vectors are the
L2-normalised mean of their sentences' USE vectors, not embeddings of the passage text. Queries are real:
every search() embeds the query and analyses it with Kiwi, as a user's search does.

Ingest is measured with the default settings — searchable after parsing, chunking and Kiwi/BM25, the e5
semantic vectors following in the background (bench/bench_semantic.py prices that pass) — and with the
previous default, which embedded every chunk with USE before the index could be searched.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import _corpus as corpus_mod  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.index.bm25 import FILES as BM25_FILES  # noqa: E402
from assistant.index.embedders import UseMultilingual, make_embedder  # noqa: E402
from assistant.index.semantic import SemanticLayer, SemanticStore, build_anns, segment_keys  # noqa: E402
from assistant.index.store import IndexStore, faiss_module  # noqa: E402
from assistant.ingest.pipeline import Ingestor  # noqa: E402
from assistant.korean.morph import content_terms, kiwi  # noqa: E402
from assistant.retrieve.filters import SearchFilter, position_mask  # noqa: E402
from assistant.retrieve.fusion import weighted_rrf  # noqa: E402
from assistant.retrieve.search import Retriever, open_retriever, retrieval_params  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
FILTERS = {"": None}
VARIANTS = (("bm25", "flat", ""), ("dense", "flat", ""), ("hybrid", "flat", ""), ("dense", "hnsw", ""),
            ("hybrid", "hnsw", ""))
# Access filters as the web app sends them (the synthetic documents are 60% 공개, 20% 내부, 10% 부서 for
# each of two departments, 10% HWP: bench/_corpus.py access_of), and a narrow metadata filter.
WEB_FILTER = "공개 (web default)"
#: the LangChain peer (rank_bm25 in pure Python, an exact FAISS scan) is run up to this size
PEER_MAX = 100_000
ACCESS_FILTERS = {WEB_FILTER: SearchFilter(clearance="공개"),
                  "부서, 복지정책과": SearchFilter(clearance="부서", department="복지정책과"),
                  "HWP only": SearchFilter(doc_types=("hwp",))}
DEFAULT_KIND = "bm25+semantic"  # the default configuration: BM25 and the semantic matrix, no FAISS layer
FILTER_VARIANTS = tuple((mode, kind) for kind, modes in ((DEFAULT_KIND, ("bm25", "dense", "hybrid")),
                                                         ("flat", ("dense", "hybrid")), ("hnsw", ("dense", "hybrid")))
                        for mode in modes)


def ms(values: list[float]) -> dict[str, float]:
    a = np.asarray(values) * 1000
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)), "mean": float(a.mean())}


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.is_dir() \
        else path.stat().st_size / 2**20


def bench_ingest(settings: Settings, embedder, paths: list[Path], root: Path) -> dict:
    s = settings.with_overrides(index_dir=root)
    store = IndexStore(root, "ingest")
    report = Ingestor(s, store, embedder).run(paths)
    failed = [(o.path, o.reason) for o in report.outcomes if o.status == "failed"]
    out = {"documents": report.count("ok"), "failed": failed[:10], "skipped": report.count("skipped"),
           "chunks": report.chunks, "seconds": report.seconds, "timings": dict(report.timings)}
    if report.chunks == 0:
        return out
    counts = [seg.db().execute("SELECT count(*), sum(length(text)) FROM chunks").fetchone()
              for seg in store.open().segments]
    n_chunks, chars = sum(r[0] for r in counts), sum(r[1] or 0 for r in counts)
    out.update(docs_per_s=out["documents"] / report.seconds, chunks_per_s=report.chunks / report.seconds,
               avg_chunk_chars=chars / max(n_chunks, 1), chunk_chars=int(chars), disk_mb=du_mb(store.path),
               source_chars=sum(len(p.read_text(encoding="utf-8")) for p in _md_files(paths)))
    return out


def segment_dir(store: IndexStore) -> Path:
    """The folder of an index's first segment (a synthetic index is written as one)."""
    return store.path / store.manifest().segments[0].name


def _md_files(paths: list[Path]) -> list[Path]:
    return [f for p in paths for f in (sorted(p.rglob("*.md")) if p.is_dir() else [p])]


def bench_size(settings: Settings, embedder, pool, passages, n: int, root: Path, qs: list[str],
               filters_only: bool = False) -> dict:
    out: dict = {"n": n, "commit_s": {}, "disk_mb": {}}
    for kind in ("flat", "hnsw"):
        out["commit_s"][kind] = corpus_mod.write_index(root, f"n{n}-{kind}", pool, passages, n, embedder,
                                                      kind, settings.hnsw_m)
        seg = segment_dir(IndexStore(root, f"n{n}-{kind}"))   # written in one commit: one segment
        out["disk_mb"][kind] = {p.name: du_mb(p) for p in sorted(seg.iterdir())}
        out["disk_mb"][kind]["bm25"] = sum(du_mb(seg / f) for f in BM25_FILES)
        out["disk_mb"][kind]["total"] = du_mb(seg)
    # the synthetic passages have no e5 vectors: search them with the FAISS layer only
    s = settings.with_overrides(index_dir=root, semantic_embedder="none", embedder="use-multilingual")
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    retrievers = {"flat": open_retriever(s, f"n{n}-flat", embedder)}
    out["open_s"] = time.perf_counter() - t0
    out["rss_open_flat_mb"] = rss_mb() - before
    retrievers["hnsw"] = open_retriever(s, f"n{n}-hnsw", embedder)
    out["filters"] = bench_filters(s, retrievers, embedder, passages.vectors[:n], f"n{n}-flat", qs)
    if filters_only:
        return out
    groups = [list(VARIANTS)]
    if isinstance(embedder, UseMultilingual):  # same model, BLAS limited to 1 thread for the query embedding
        retrievers["flat, 1-thread query embed"] = open_retriever(s, f"n{n}-flat", UseMultilingual(threads=1))
        groups.append([(mode, "flat, 1-thread query embed", "") for mode in ("dense", "hybrid")])
    times: dict[str, list[float]] = {}
    for variants in groups:  # the 1-thread group runs alone: a 2-thread embedding just before would skew it
        time.sleep(0.5)
        for q in qs[:20]:  # warm-up
            for mode, kind, flt in variants:
                retrievers[kind].search(q, k=settings.top_k, mode=mode, flt=FILTERS[flt])
        for q in qs:  # interleaved, so drift hits every mode alike
            for mode, kind, flt in variants:
                t0 = time.perf_counter()
                retrievers[kind].search(q, k=settings.top_k, mode=mode, flt=FILTERS[flt])
                times.setdefault(f"{mode}/{kind}" + (f", {flt}" if flt else ""), []).append(time.perf_counter() - t0)
    out["latency_ms"] = {k: ms(v) for k, v in times.items()}
    out["stages_ms"], out["hnsw_recall"] = stages(retrievers, embedder, settings, qs)
    out["rss_mb"], out["peak_rss_mb"] = rss_mb(), peak_mb()
    del retrievers
    gc.collect()
    out["add_one_doc_s"] = {kind: corpus_mod.add_one_document(root, f"n{n}-{kind}", pool, passages, kind,
                                                              settings.hnsw_m) for kind in ("flat", "hnsw")}
    return out


class InlineVectors(SemanticStore):
    """The passages' vectors served as a semantic store, by the text key of each position (the synthetic
    passages have USE vectors, not stored e5 ones): what the production ANN build reads."""

    def __init__(self, index_path: Path, snapshot, vectors: np.ndarray) -> None:
        super().__init__(index_path, "bench-inline", vectors.shape[1])
        self.vectors = vectors
        self.rows: dict[str, int] = {}
        for i, seg in enumerate(snapshot.segments):
            for local, key in enumerate(segment_keys(seg)):
                self.rows.setdefault(key, int(snapshot.offsets[i]) + local)

    def present(self, keys) -> set[str]:
        return {k for k in keys if k in self.rows}

    def vectors_for(self, keys) -> tuple[list[str], np.ndarray]:
        found = [k for k in dict.fromkeys(keys) if k in self.rows]
        return found, self.vectors[[self.rows[k] for k in found]].reshape(len(found), self.dim)


def semantic_retriever(settings: Settings, name: str, embedder, vectors: np.ndarray) -> tuple[Retriever, dict]:
    """The default configuration over a synthetic index: BM25 and the semantic layer, no FAISS layer.

    The synthetic passages have no e5 vectors, so the layer's matrix is loaded with the passages' USE
    vectors directly instead of from a filled vector store. The HNSW indexes of big segments
    (semantic_ann_min_chunks) are built by the function a fill ends with (build_anns) and loaded as a
    server's refresh loads them; the search is the production code.
    """
    store = IndexStore(settings.index_dir, name)
    snapshot = store.open()
    snapshot.faiss = None
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    inline = InlineVectors(store.path, snapshot, vectors)
    t0 = time.perf_counter()
    built = build_anns(settings, store, snapshot, inline, embedder.identity)
    ann = {"build_s": time.perf_counter() - t0, "segments": built.built if built else [],
           "min_chunks": settings.semantic_ann_min_chunks}
    layer = SemanticLayer(snapshot, inline, embedder, refresh_s=1e12, ann_min_chunks=settings.semantic_ann_min_chunks,
                          ef_search=settings.semantic_ann_ef_search)
    layer._keys, layer._checked = {}, time.monotonic()
    layer._matrix = vectors
    layer._have[:] = True
    layer.load_anns()
    ann["loaded"] = len(layer.anns.names())
    return Retriever(snapshot, embedder, retrieval_params(settings), layer), ann


def semantic_recall(layer: SemanticLayer, qs: list[str], mask: np.ndarray | None) -> float:
    """Mean recall@10 of the semantic layer's search (ANN where built) against one exact product."""
    found = []
    for q in qs:
        scores = layer._matrix @ layer.query_vector(q)
        if mask is not None:
            scores[~mask] = -np.inf
        exact = set(np.argsort(-scores)[:10].tolist())
        found.append(len(exact & {p for p, _ in layer.search(q, 10, mask)}) / 10)
    return float(np.mean(found))


def bench_filters(settings: Settings, retrievers: dict, embedder, vectors: np.ndarray, flat_name: str,
                  qs: list[str]) -> dict:
    """Filtered vs unfiltered search, every mode and index kind, interleaved query by query."""
    default, ann = semantic_retriever(settings, flat_name, embedder, vectors)
    kinds = {DEFAULT_KIND: default, "flat": retrievers["flat"], "hnsw": retrievers["hnsw"]}
    snap = kinds["flat"].snapshot
    out: dict = {"share": {}, "semantic_ann": ann}
    for label, flt in ACCESS_FILTERS.items():  # first, while no mask is cached yet
        t0 = time.perf_counter()
        mask = position_mask(snap, flt)
        out["share"][label] = {"allowed": 1.0 if mask is None else float(mask.mean()),
                               "resolve_ms": (time.perf_counter() - t0) * 1000}
    out["overhead_ms"] = overhead(snap)
    filters = [("", None), *ACCESS_FILTERS.items()]
    layer = kinds[DEFAULT_KIND].semantic
    times: dict[str, list[float]] = {}
    time.sleep(0.5)
    warm = qs[:20]
    for i, q in enumerate(warm + qs):  # the first 20 warm up
        for mode, kind in FILTER_VARIANTS:
            # filtered and unfiltered take turns going first: whoever follows a mode switch pays for it
            for label, flt in filters[i % len(filters):] + filters[:i % len(filters)]:
                layer._queries.clear()  # every search embeds its query, as a new question does
                t0 = time.perf_counter()
                kinds[kind].search(q, k=settings.top_k, mode=mode, flt=flt)
                if i >= len(warm):
                    times.setdefault(f"{mode}|{kind}|{label}", []).append(time.perf_counter() - t0)
    out["latency_ms"] = {k: ms(v) for k, v in times.items()}
    if ann["loaded"]:   # after the timings: recall needs the filter's mask, whose first resolve is timed above
        public = position_mask(snap, ACCESS_FILTERS["공개 (web default)"])
        ann["recall@10"], ann["recall@10 공개"] = (semantic_recall(layer, qs, m) for m in (None, public))
    return out


def overhead(snap) -> dict[str, float]:
    """Per-query cost of turning the web's access filter into something the search layers take: the
    previous way (SQL over documents + np.isin every query, a hash-set selector for FAISS) vs now."""
    faiss = faiss_module()
    flt = ACCESS_FILTERS[WEB_FILTER]
    where, params = flt.sql()

    def old_mask() -> np.ndarray:
        return np.isin(snap.pos_doc, snap.doc_rowids(where, params))

    def new_mask() -> np.ndarray:
        mask = position_mask(snap, flt)
        return np.ones(snap.size, dtype=bool) if mask is None else mask

    def old_selector(mask: np.ndarray) -> None:
        faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))

    def new_selector(mask: np.ndarray) -> None:
        bits = np.packbits(mask, bitorder="little")
        faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))

    old, new = old_mask(), new_mask()
    out: dict[str, float] = {}
    for key, call in (("old: SQL + np.isin mask", old_mask), ("old: IDSelectorBatch build", lambda: old_selector(old)),
                      ("new: cached mask", new_mask), ("new: bitmap selector build", lambda: new_selector(new))):
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
        out[key] = float(np.median(times)) * 1000
    return out


def recall(exact: list[tuple[int, float]], approx: list[tuple[int, float]], k: int) -> float:
    """Share of the approximate top k scoring at least the exact k-th score (ties count as found)."""
    if not exact:
        return 1.0
    kth = exact[:k][-1][1]
    return sum(1 for _, sc in approx[:k] if sc >= kth - 1e-5) / len(exact[:k])


def stages(retrievers, embedder, settings: Settings, qs: list[str]) -> tuple[dict, dict]:
    """Hybrid search on the flat index, stage by stage (same calls Retriever.search makes)."""
    r, h = retrievers["flat"], retrievers["hnsw"]
    depth = max(retrieval_params(settings).depth, settings.top_k * 3)
    p = r.params
    st: dict[str, list[float]] = {k: [] for k in ("query embed", "query kiwi", "bm25 score", "faiss", "fusion",
                                                  "hits (sqlite+merge)")}
    rec10, rec50 = [], []
    for q in qs:
        t0 = time.perf_counter()
        embedder.embed([q])
        t1 = time.perf_counter()
        content_terms(q)
        t2 = time.perf_counter()
        sparse = r.sparse(q, depth, None)
        t3 = time.perf_counter()
        dense = r.dense(q, depth, None)
        t4 = time.perf_counter()
        fused = weighted_rrf([(p.weight_bm25, [x for x, _ in sparse]), (p.weight_dense, [x for x, _ in dense])],
                             k=p.fusion_k)
        t5 = time.perf_counter()
        r._hits(fused[:depth], settings.top_k)
        t6 = time.perf_counter()
        for key, dt in zip(st, (t1 - t0, t2 - t1, (t3 - t2) - (t2 - t1), (t4 - t3) - (t1 - t0), t5 - t4, t6 - t5),
                           strict=True):
            st[key].append(dt)
        approx = h.dense(q, depth, None)
        rec10.append(recall(dense, approx, 10))
        rec50.append(recall(dense, approx, depth))
    return ({k: float(np.median(v)) * 1000 for k, v in st.items()},
            {"recall@10": float(np.mean(rec10)), "recall@50": float(np.mean(rec50))})


def sweep(vectors: np.ndarray, qvecs: np.ndarray, checkpoints: list[int], settings: Settings, efc: int) -> list[dict]:
    """Raw FAISS: flat vs HNSW single-query search as both grow (HNSW built incrementally, as one add would)."""
    faiss = faiss_module()
    depth = retrieval_params(settings).depth
    dim = vectors.shape[1]
    flat = faiss.IndexFlatIP(dim)
    hnsw = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = efc
    params = faiss.SearchParametersHNSW(efSearch=max(settings.hnsw_ef_search, depth))
    rows, built, build_s = [], 0, 0.0
    for cp in checkpoints:
        t0 = time.perf_counter()
        hnsw.add(vectors[built:cp])
        build_s += time.perf_counter() - t0
        flat.add(vectors[built:cp])
        built = cp
        tf, th, rec = [], [], []
        for i in range(-5, len(qvecs)):  # 5 warm-up searches
            q = qvecs[i:i + 1] if i >= 0 else qvecs[:1]
            t0 = time.perf_counter()
            fs, _ = flat.search(q, depth)
            t1 = time.perf_counter()
            hs, _ = hnsw.search(q, depth, params=params)
            t2 = time.perf_counter()
            if i >= 0:
                tf.append(t1 - t0)
                th.append(t2 - t1)
                rec.append(float(np.mean(hs[0] >= fs[0][-1] - 1e-5)))
        rows.append({"n": cp, "flat": ms(tf), "hnsw": ms(th), "recall@50": float(np.mean(rec)),
                     "hnsw_build_s": build_s})
    return rows


def run_baseline(embedder, settings, paths, passages, sizes, qs) -> dict:
    import _baseline

    out = {"ingest": _baseline.ingest(paths, embedder, settings.chunk_max_chars, settings.top_k),
           "search": peer_search(embedder, settings, passages, sizes, qs)}
    out["peak_rss_mb"] = peak_mb()
    return out


def peer_search(embedder, settings, passages, sizes, qs) -> dict:
    """The LangChain-defaults hybrid retriever over the same passages and vectors: build time and latency."""
    import _baseline

    out = {}
    for n in sizes:
        retriever, build = _baseline.build(passages.texts[:n], passages.vectors[:n], embedder, settings.top_k)
        out[n] = {**build, "hybrid_ms": ms(_baseline.time_queries(retriever, qs))}
        del retriever
        gc.collect()
    return out


def peer_report(res: dict) -> str:
    """Ours (with the 공개 filter every web request carries) against the unfiltered LangChain peer."""
    rows = []
    for n, peer in res.get("peer", {}).items():
        lat = res["search"][n]["filters"]["latency_ms"]
        for mode, kind in FILTER_VARIANTS:
            if mode != "hybrid":
                continue
            ours = lat[f"{mode}|{kind}|{WEB_FILTER}"]["p50"]
            rows.append([int(n), kind, peer["hybrid_ms"]["p50"], ours, f"{peer['hybrid_ms']['p50'] / ours:.1f}x"])
    if not rows:
        return ""
    return fmt_table("Hybrid search against the LangChain peer, p50 ms (same run, same passages and vectors)",
                     ["chunks", "ours: index", "LangChain peer (no filter)", f"ours ({WEB_FILTER})",
                      "ours faster"], rows)


def fmt_table(title: str, header: list[str], rows: list[list], note: str = "") -> str:
    cells = [[str(c) for c in header]] + [[f"{c:,.1f}" if isinstance(c, float) else
                                            f"{c:,}" if isinstance(c, int) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [f"\n== {title} =="] + ["  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in
                                              enumerate(zip(r, widths, strict=True))) for r in cells]
    return "\n".join(lines + ([note] if note else []))


def report(res: dict) -> str:
    parts = []
    ing, base = res.get("ingest", {}), res.get("baseline", {})
    rows = []
    for label, run in (("ours, until searchable (default)", ing),
                       ("ours, with USE embedded at ingest", res.get("ingest_use", {}))):
        if not run.get("chunks"):
            continue
        t = run["timings"]
        sh = [f"{100 * t[k] / run['seconds']:.0f}%" for k in ("parse", "terms", "embed", "write")]
        other = f"{100 * (1 - sum(t.values()) / run['seconds']):.0f}%"
        rows.append([label, run["documents"], run["chunks"], run["seconds"], run["docs_per_s"],
                     run["chunks_per_s"], run["avg_chunk_chars"], *sh, other])
    if base:
        b = base["ingest"]
        st = b["stages"]
        sh = [f"{100 * st[k] / b['seconds']:.0f}%" for k in ("load+split", "bm25", "embed", "faiss")]
        rows.append(["LangChain baseline", b["documents"], b["chunks"], b["seconds"], b["docs_per_s"],
                     b["chunks_per_s"], b["avg_chunk_chars"], *sh, "-"])
    note = (f"ours: parse+chunk / morphemes / embedding / writing = IngestReport.timings; baseline: load+split / "
            f"BM25 build / embedding / FAISS add. Not included: Kiwi load {res['load_s']['kiwi']:.1f} s + "
            f"first analysis {res['load_s']['kiwi_first_call']:.1f} s (paid once per process).")
    if ing.get("chunks") and base:
        note += (f"\nratio ours/baseline chunks/s: {ing['chunks_per_s'] / base['ingest']['chunks_per_s']:.2f}x; "
                 f"source chars/s: {ing['source_chars'] / ing['seconds']:,.0f} vs "
                 f"{base['ingest']['source_chars'] / base['ingest']['seconds']:,.0f}")
    if not ing.get("chunks"):
        note += f"\nours: no chunks ingested ({ing.get('skipped', 0)} skipped, failed: {ing.get('failed')})"
    parts.append(fmt_table(f"Ingest, end to end (real documents, default embedder, threads={res['threads']})",
                           ["pipeline", "docs", "chunks", "s", "docs/s", "chunks/s", "avg chars",
                            "parse+chunk", "morph", "embed", "write", "other"], rows, note))
    rows = []
    for n, r in res["search"].items():
        for key, v in r["latency_ms"].items():
            rows.append([int(n), key, v["p50"], v["p95"], v["mean"]])
    parts.append(fmt_table(f"Search latency, ms (Retriever.search, {res['queries']} queries, k={res['top_k']}, "
                           "incl. query embedding + Kiwi)", ["chunks", "mode/index", "p50", "p95", "mean"], rows,
                           "chunks = synthetic passages of real sentences; vectors = L2-normalised mean of "
                           "their sentences' USE vectors"))
    keys = list(next(iter(res["search"].values()))["stages_ms"]) if res["search"] else []
    raw = {r["n"]: r["flat"]["p50"] for r in res["sweep"]}
    rows = [[int(n), *[round(r["stages_ms"][k], 2) for k in keys], round(raw.get(int(n), float("nan")), 2)]
            for n, r in res["search"].items()]
    parts.append(fmt_table("Hybrid (flat) stage breakdown, p50 ms", ["chunks", *keys, "faiss alone"], rows,
                           "faiss = Retriever.dense minus its query embedding; 'faiss alone' = the same flat search "
                           "timed with no embedding just before it (sweep below)"))
    rows = [[int(n), r["commit_s"]["flat"], r["commit_s"]["hnsw"], r["commit_s"]["hnsw"] - r["commit_s"]["flat"],
             r["disk_mb"]["flat"]["total"], r["disk_mb"]["flat"]["dense.faiss"], r["disk_mb"]["flat"]["bm25"],
             r["disk_mb"]["flat"]["meta.sqlite"], r["disk_mb"]["hnsw"]["total"], r["open_s"],
             r["rss_open_flat_mb"], f"{r['hnsw_recall']['recall@10']:.3f}/{r['hnsw_recall']['recall@50']:.3f}",
             f"{r['add_one_doc_s']['flat']:.1f}/{r['add_one_doc_s']['hnsw']:.1f}"]
            for n, r in res["search"].items()]
    parts.append(fmt_table("Index build / size / memory", ["chunks", "commit flat s", "commit hnsw s",
                           "hnsw extra s", "disk MB", "faiss", "bm25", "sqlite", "disk hnsw MB", "open s",
                           "RSS+ open MB", "hnsw recall@10/@50", "+1 doc flat/hnsw s"], rows,
                           "+1 doc = commit of the existing index plus one new 20-chunk document (every ingest "
                           "rewrites the whole generation); recall counts ties with the exact k-th score as found"))
    rows = [[r["n"], r["flat"]["p50"], r["hnsw"]["p50"], f"{r['flat']['p50'] / r['hnsw']['p50']:.1f}x",
             f"{r['recall@50']:.3f}", r["hnsw_build_s"]] for r in res["sweep"]]
    faster = next((r["n"] for r in res["sweep"] if r["hnsw"]["p50"] < r["flat"]["p50"]), None)
    parts.append(fmt_table(f"HNSW vs flat, raw FAISS single-query k=50 (M={res['hnsw_m']}, efSearch="
                           f"{res['ef_search']})", ["vectors", "flat p50 ms", "hnsw p50 ms", "speedup",
                                                    "recall@50", "hnsw build s"], rows,
                           f"HNSW faster from {faster:,} vectors" if faster else "HNSW never faster here"))
    if base:
        rows = []
        for n, b in base["search"].items():
            ours = res["search"][n]["latency_ms"]["hybrid/flat"]["p50"]
            rows.append([int(n), b["faiss_s"] + b["bm25_s"], b["hybrid_ms"]["p50"], b["hybrid_ms"]["p95"], ours,
                         f"{b['hybrid_ms']['p50'] / ours:.1f}x"])
        parts.append(fmt_table("Hybrid: LangChain EnsembleRetriever (BM25Okapi + FAISS, 0.5/0.5) vs ours",
                               ["chunks", "build s", "baseline p50", "baseline p95", "ours p50", "ours faster"],
                               rows))
    parts.append(filter_report(res))
    parts.append(targets(res))
    return "\n".join(parts)


def filter_report(res: dict) -> str:
    """Filtered vs unfiltered latency per size, index and mode, with the ratio, and where the time went."""
    rows = []
    for n, r in res["search"].items():
        lat, share = r["filters"]["latency_ms"], r["filters"]["share"]
        for mode, kind in FILTER_VARIANTS:
            base = lat[f"{mode}|{kind}|"]
            for label in ACCESS_FILTERS:
                v = lat[f"{mode}|{kind}|{label}"]
                rows.append([int(n), kind, mode, f"{label} ({100 * share[label]['allowed']:.0f}%)", base["p50"],
                             base["p95"], v["p50"], v["p95"], f"{v['p50'] / base['p50']:.2f}x"])
    parts = [fmt_table(f"Filtered vs unfiltered search, ms (Retriever.search, {res['queries']} queries, "
                       f"k={res['top_k']}, interleaved)", ["chunks", "index", "mode", "filter (allowed)",
                                                           "unfiltered p50", "p95", "filtered p50", "p95",
                                                           "p50 ratio"], rows,
                       f"{DEFAULT_KIND} = the default configuration (BM25 + the semantic matrix, no FAISS layer); "
                       "flat/hnsw = BM25 + the ingest-time FAISS layer")]
    rows = [[int(n), *[round(v, 3) for v in r["filters"]["overhead_ms"].values()],
             *[round(r["filters"]["share"][f]["resolve_ms"], 1) for f in ACCESS_FILTERS]]
            for n, r in res["search"].items()]
    keys = list(next(iter(res["search"].values()))["filters"]["overhead_ms"]) if res["search"] else []
    parts.append(fmt_table("Filter overhead per query, median ms", ["chunks", *keys,
                           *[f"first resolve: {f}" for f in ACCESS_FILTERS]], rows,
                           "old = what every filtered search paid before; new = a mask resolved once per "
                           "(index generation, filter) and a FAISS bitmap selector"))
    for n, r in res["search"].items():
        ann = r["filters"].get("semantic_ann", {})
        parts.append(f"\n{DEFAULT_KIND} at {int(n):,}: semantic HNSW over {ann.get('loaded', 0)} segment(s) of >= "
                     f"{ann.get('min_chunks', 0):,} chunks, built in {ann.get('build_s', 0.0):.1f} s "
                     f"(the rest searched exactly); recall@10 against the exact product "
                     f"{ann.get('recall@10', 1.0):.3f}, with the 공개 filter {ann.get('recall@10 공개', 1.0):.3f}")
    worst = [(v[-1], v[0], v[1], v[2], v[3]) for v in rows_ratio(res)]
    if worst:
        ratio, n, kind, mode, label = max(worst)
        parts.append(f"\nfiltered p50 <= 1.2x unfiltered (worst case: {mode}/{kind} at {n:,}, {label}): "
                     f"{ratio:.2f}x -> {'PASS' if ratio <= 1.2 else 'FAIL'}")
    return "\n".join(parts)


def rows_ratio(res: dict) -> list[tuple[int, str, str, str, float]]:
    out = []
    for n, r in res["search"].items():
        lat = r["filters"]["latency_ms"]
        for mode, kind in FILTER_VARIANTS:
            for label in ACCESS_FILTERS:
                out.append((int(n), kind, mode, label,
                            lat[f"{mode}|{kind}|{label}"]["p50"] / lat[f"{mode}|{kind}|"]["p50"]))
    return out


def targets(res: dict) -> str:
    lines = ["\n== Targets =="]
    ing, base = res.get("ingest", {}), res.get("baseline")
    if ing.get("chunks"):
        v = ing["chunks_per_s"]
        lines.append(f"ingest >= 150 chunks/s until the index is searchable: {v:.0f} -> "
                     f"{'PASS' if v >= 150 else 'FAIL'}")
    big = max(res["search"], key=int) if res["search"] else None
    if big is not None:
        p50 = res["search"][big]["latency_ms"]["hybrid/flat"]["p50"]
        lines.append(f"hybrid p50 at {int(big):,} <= 30 ms: {p50:.1f} -> {'PASS' if p50 <= 30 else 'FAIL'}")
        if base:
            ratio = base["search"][big]["hybrid_ms"]["p50"] / p50
            lines.append(f"hybrid >= 5x faster than baseline at {int(big):,}: {ratio:.1f}x -> "
                         f"{'PASS' if ratio >= 5 else 'FAIL'}")
    lines.append(f"peak RSS of the whole run: {res['peak_rss_mb']:,.0f} MB")
    return "\n".join(lines)


def filters_only(res: dict, settings: Settings, embedder, args, sizes: list[int], qs: list[str], root: Path) -> None:
    pool = corpus_mod.build_pool(args.corpus, embedder, 80 if args.quick else None)
    passages = corpus_mod.compose(pool, max(sizes))
    for n in sizes:
        print(f"filtered search at {n:,} chunks ...", flush=True)
        res["search"][n] = bench_size(settings, embedder, pool, passages, n, root, qs, filters_only=True)
        shutil.rmtree(root, ignore_errors=True)  # one size at a time on disk
    peer_sizes = [n for n in sizes if n <= PEER_MAX]
    if peer_sizes and not args.no_baseline:
        print(f"LangChain peer at {', '.join(f'{n:,}' for n in peer_sizes)} chunks ...", flush=True)
        res["peer"] = peer_search(embedder, settings, passages, peer_sizes, qs)
    res["peak_rss_mb"] = peak_mb()
    text = filter_report(res) + peer_report(res) + f"\npeak RSS of the whole run: {res['peak_rss_mb']:,.0f} MB"
    print(text)
    save(res, text, "-filters")


def save(res: dict, text: str, suffix: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    dest = OUT / f"bench_search-{time.strftime('%Y%m%d-%H%M%S')}{suffix}.json"
    dest.write_text(json.dumps({**res, "table": text}, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"\nsaved {dest}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and a document subset (smoke run)")
    ap.add_argument("--sizes", help="comma-separated chunk counts (default 10000,100000; quick 2000,5000)")
    ap.add_argument("--corpus", type=Path, default=corpus_mod.default_corpus())
    ap.add_argument("--queries", type=int, help="limit the number of queries")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--filters-only", action="store_true",
                    help="only build the sized indexes and compare filtered with unfiltered search")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else ([2000, 5000] if args.quick else
                                                                        [10_000, 100_000])
    settings = Settings()
    t0 = time.perf_counter()
    # the synthetic large indexes keep a dense FAISS layer (USE) to measure FAISS and fusion at scale
    embedder = UseMultilingual(threads=settings.threads)
    embedder.embed(["워밍업 문장"])
    t1 = time.perf_counter()
    kiwi()
    t2 = time.perf_counter()
    content_terms("워밍업 문장입니다.")  # Kiwi's first analysis pays a one-time setup
    res: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": args.quick, "corpus": str(args.corpus),
                 "threads": settings.threads, "top_k": settings.top_k, "hnsw_m": settings.hnsw_m,
                 "ef_search": settings.hnsw_ef_search, "embedder": embedder.identity,
                 "load_s": {"embedder": t1 - t0, "kiwi": t2 - t1, "kiwi_first_call": time.perf_counter() - t2},
                 "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform()}, "search": {}}
    paths = corpus_mod.ingest_paths(args.corpus)
    if args.quick:
        welfare = [p for p in paths if "welfare" in str(p)]
        paths = [f for p in welfare for f in sorted(p.rglob("*.md"))[:40]] + [corpus_mod.REPO / "samples" / "laws"]
    qs = corpus_mod.queries(args.corpus, args.queries or (60 if args.quick else None))
    res["queries"] = len(qs)
    root = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        if args.filters_only:
            return filters_only(res, settings, embedder, args, sizes, qs, root)
        print(f"ingesting {len(paths)} paths ...", flush=True)
        res["ingest"] = bench_ingest(settings, make_embedder(settings), paths, root / "ingest")
        print(f"  {res['ingest'].get('chunks', 0)} chunks in {res['ingest']['seconds']:.1f} s", flush=True)
        res["ingest_use"] = bench_ingest(settings.with_overrides(embedder="use-multilingual"), embedder, paths,
                                         root / "ingest-use")
        print(f"  with USE: {res['ingest_use']['seconds']:.1f} s", flush=True)
        print("sentence pool (cached after the first run) ...", flush=True)
        pool = corpus_mod.build_pool(args.corpus, embedder, 80 if args.quick else None)
        res["pool"] = {"sentences": len(pool.sentences), "documents": len(pool.docs), "seconds": pool.seconds}
        sweep_max = 2 * max(sizes)
        passages = corpus_mod.compose(pool, sweep_max)
        res["pool"]["avg_passage_chars"] = float(np.mean([len(t) for t in passages.texts[:max(sizes)]]))
        print(f"  {len(pool.sentences):,} unique sentences -> {sweep_max:,} passages", flush=True)
        for n in sizes:
            print(f"search at {n:,} chunks ...", flush=True)
            res["search"][n] = bench_size(settings, embedder, pool, passages, n, root, qs)
        efc = int(faiss_module().read_index(str(segment_dir(IndexStore(root, f"n{sizes[-1]}-hnsw"))
                                                / "dense.faiss")).hnsw.efConstruction)
        checkpoints = sorted({c for c in (1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 150_000, 200_000,
                                          300_000, 400_000, *sizes) if c <= sweep_max})
        print(f"HNSW/flat sweep to {sweep_max:,} vectors ...", flush=True)
        res["sweep"] = sweep(passages.vectors, embedder.embed(qs), checkpoints, settings, efc)
        if not args.no_baseline:
            print("LangChain baseline ...", flush=True)
            res["baseline"] = run_baseline(embedder, settings, paths, passages, sizes, qs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    res["peak_rss_mb"] = peak_mb()
    text = report(res)
    print(text)
    save(res, text, "-quick" if args.quick else "")


if __name__ == "__main__":
    main()
