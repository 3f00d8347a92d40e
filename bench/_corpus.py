"""Bench data: the real documents to ingest, a pool of real corpus sentences, synthetic passages, queries.

Large indexes are built from real sentences without embedding every passage: each *unique* sentence is
embedded once and analysed by Kiwi once; a synthetic passage of 2–5 sentences (~300 chars) then gets the
L2-normalised mean of its sentences' vectors and the concatenation of their content morphemes.
The sentence pool is cached in bench/out/cache/ (keyed on the files and the embedder).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.index.embedders import Embedder
from assistant.index.manifest import Manifest
from assistant.index.store import DocumentRecord, IndexStore, NewDocument
from assistant.ingest.base import parse_file
from assistant.korean.morph import content_terms_batch
from assistant.korean.sentences import split_sentences
from assistant.types import Chunk

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "bench" / "out" / "cache"
PASSAGES_PER_DOC = 20


def default_corpus() -> Path:
    shared = REPO.parent / "shared" / "corpus"
    return shared if shared.is_dir() else REPO / "samples"


def _md(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.md") if p.name != "README.md") if folder.is_dir() else []


def ingest_paths(corpus: Path) -> list[Path]:
    """Folders for the end-to-end ingest: the welfare docs and the repo's samples (laws + 법제처 cases)."""
    paths = [p for p in (corpus / "welfare-services-2023" / "docs",) if p.is_dir()]
    return paths + [REPO / "samples" / "laws", REPO / "samples" / "interpretations"]


def pool_files(corpus: Path) -> list[Path]:
    files = []
    for sub in ("welfare-services-2023/docs", "allganize-public-docs", "moleg-interpretations-qa/docs",
                "korean-laws-admin", "korean-laws-minwon"):
        files += _md(corpus / sub)
    files += _md(REPO / "samples")
    return files


@dataclass
class SentencePool:
    sentences: list[str]
    vectors: np.ndarray            # (n, dim), unit rows
    terms: list[list[str]]
    docs: list[tuple[str, list[int]]]   # (title, sentence ids in document order)
    title_terms: list[list[str]]
    seconds: dict[str, float]


def _usable(s: str) -> bool:
    return 10 <= len(s) <= 500 and "intentionally omitted" not in s and "picture text" not in s


def build_pool(corpus: Path, embedder: Embedder, limit_files: int | None = None) -> SentencePool:
    files = pool_files(corpus)[:limit_files] if limit_files else pool_files(corpus)
    stamp = [(str(f), f.stat().st_size, int(f.stat().st_mtime)) for f in files]
    key = hashlib.sha1(json.dumps([stamp, embedder.identity]).encode()).hexdigest()[:12]
    cached = CACHE / f"pool-{key}"
    if (cached / "pool.json").is_file():
        meta = json.loads((cached / "pool.json").read_text(encoding="utf-8"))
        vectors = np.load(cached / "vectors.npy")
        return SentencePool(meta["sentences"], vectors, meta["terms"], [(t, ids) for t, ids in meta["docs"]],
                            meta["title_terms"], {**meta["seconds"], "cached": 1.0})
    t0 = time.perf_counter()
    index: dict[str, int] = {}
    sentences: list[str] = []
    docs: list[tuple[str, list[int]]] = []
    for f in files:
        parsed = parse_file(f)
        ids = []
        for block in parsed.blocks:
            for s in split_sentences(block.text):
                if _usable(s):
                    ids.append(index.setdefault(s, len(index)))
                    if ids[-1] == len(sentences):
                        sentences.append(s)
        if len(ids) >= 2:
            docs.append((parsed.title, ids))
    t1 = time.perf_counter()
    vectors = embedder.embed(sentences, 256)
    t2 = time.perf_counter()
    terms = content_terms_batch(sentences)
    title_terms = content_terms_batch([t for t, _ in docs])
    t3 = time.perf_counter()
    seconds = {"split": t1 - t0, "embed": t2 - t1, "terms": t3 - t2}
    cached.mkdir(parents=True, exist_ok=True)
    np.save(cached / "vectors.npy", vectors)
    (cached / "pool.json").write_text(json.dumps({"sentences": sentences, "terms": terms, "docs": docs,
                                                  "title_terms": title_terms, "seconds": seconds},
                                                 ensure_ascii=False), encoding="utf-8")
    return SentencePool(sentences, vectors, terms, docs, title_terms, seconds)


@dataclass
class Passages:
    texts: list[str]
    terms: list[list[str]]
    vectors: np.ndarray
    doc_of: np.ndarray      # source document (index into pool.docs) of each passage


def compose(pool: SentencePool, n: int, seed: int = 7, target_chars: int = 300) -> Passages:
    """n passages of 2–5 sentences (~target_chars): a run of 1–3 consecutive sentences from one document,
    then random sentences of the same document (70%) or of the whole pool (30%), so passages rarely repeat."""
    rng = np.random.default_rng(seed)
    lens = np.array([len(ids) for _, ids in pool.docs], dtype=np.float64)
    doc_pick = rng.choice(len(pool.docs), size=n, p=lens / lens.sum())
    slen = [len(s) for s in pool.sentences]
    u = rng.random((n, 10)).tolist()  # drawn up front: a Python loop of rng calls is ~10x slower
    anywhere = rng.integers(len(slen), size=(n, 4)).tolist()
    members: list[list[int]] = []
    for j, d in enumerate(doc_pick.tolist()):
        ids, r = pool.docs[d][1], u[j]
        start = int(r[0] * len(ids))
        chosen = ids[start:start + 1 + int(r[1] * 3)]
        size = sum(slen[i] for i in chosen)
        while len(chosen) < 5 and (len(chosen) < 2 or size < target_chars):
            m = len(chosen)
            sid = ids[int(r[2 * m] * len(ids))] if r[2 * m + 1] < 0.7 else anywhere[j][m - 1]
            chosen.append(sid)
            size += slen[sid]
        members.append(chosen)
    texts = [" ".join(pool.sentences[i] for i in m) for m in members]
    terms = [list(pool.title_terms[d]) + [t for i in m for t in pool.terms[i]]
             for d, m in zip(doc_pick, members, strict=True)]
    return Passages(texts, terms, mean_vectors(pool.vectors, members), doc_pick)


def mean_vectors(vectors: np.ndarray, members: list[list[int]]) -> np.ndarray:
    """Unit-length mean of each passage's sentence vectors (grouped by passage length, for speed)."""
    out = np.empty((len(members), vectors.shape[1]), dtype=np.float32)
    sizes = np.array([len(m) for m in members])
    for size in np.unique(sizes):
        same = np.flatnonzero(sizes == size)
        for lo in range(0, len(same), 20_000):
            rows = same[lo:lo + 20_000]
            sums = vectors[np.array([members[i] for i in rows], dtype=np.int64)].sum(axis=1)
            out[rows] = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return out


def access_of(i: int) -> tuple[str, str, str]:
    """(access level, department, file type) of synthetic document i, as an agency's mix might be:
    60% 공개, 20% 내부, 10% 부서 for each of two departments; one document in ten is an HWP file."""
    level, dept = [("공개", ""), ("내부", ""), ("부서", "복지정책과"), ("부서", "민원봉사과")][
        (0, 0, 0, 0, 0, 0, 1, 1, 2, 3)[i % 10]]
    return level, dept, "hwp" if (i // 10) % 10 == 3 else "md"


def _documents(pool: SentencePool, passages: Passages, lo: int, hi: int, prefix: str = "syn") -> list[NewDocument]:
    """Passages lo..hi as synthetic documents of PASSAGES_PER_DOC consecutive chunks."""
    docs = []
    for start in range(lo, hi, PASSAGES_PER_DOC):
        end = min(start + PASSAGES_PER_DOC, hi)
        doc_id = f"{prefix}{start // PASSAGES_PER_DOC:06d}"
        title = f"{pool.docs[passages.doc_of[start]][0]} (합성 {doc_id})"
        chunks = [Chunk(doc_id, i - start, passages.texts[i], title, "", f"문단 {i - start + 1}")
                  for i in range(start, end)]
        level, dept, kind = access_of(start // PASSAGES_PER_DOC)
        record = DocumentRecord(doc_id, f"/bench/synthetic/{doc_id}.{kind}", title, kind,
                                hashlib.sha256(doc_id.encode()).hexdigest(), sum(len(c.text) for c in chunks),
                                access_level=level, department=dept)
        docs.append(NewDocument(record, chunks, passages.vectors[start:end], passages.terms[start:end]))
    return docs


def write_index(root: Path, name: str, pool: SentencePool, passages: Passages, n: int,
                embedder: Embedder, dense_kind: str, hnsw_m: int) -> float:
    """Commit the first n passages as a new index; return the seconds store.commit took."""
    new_docs = _documents(pool, passages, 0, n)
    store = IndexStore(root, name)
    manifest = Manifest(name=name, embedder=embedder.identity, chunking={"synthetic": True})
    t0 = time.perf_counter()
    with store.write_lock():
        store.commit(manifest, None, set(), new_docs, dense_kind, hnsw_m)
    return time.perf_counter() - t0


def add_one_document(root: Path, name: str, pool: SentencePool, passages: Passages, dense_kind: str,
                     hnsw_m: int) -> float:
    """What ingesting one more file costs: commit the existing index plus one new document; seconds."""
    store = IndexStore(root, name)
    new_docs = _documents(pool, passages, 0, PASSAGES_PER_DOC, prefix="extra")
    t0 = time.perf_counter()
    with store.write_lock():
        base = store.open()
        store.commit(base.manifest, base, set(base.manifest.documents), new_docs, dense_kind, hnsw_m)
    return time.perf_counter() - t0


# ~40 questions a 주무관 might type, about 민원 / 복지 / 법령
QUESTIONS = """
민원 처리기간은 어떻게 계산하나요?
정보공개 청구를 하면 며칠 안에 공개 여부를 결정해야 하나요?
기초생활수급자 생계급여 신청 방법을 알려주세요
긴급복지 생계지원은 누가 받을 수 있나요?
장애인 활동지원 서비스 신청 자격은?
한부모가족 아동양육비 지원 금액은 얼마인가요?
민원인이 신청을 취하하면 어떻게 처리하나요?
행정처분 전에 사전통지를 해야 하는 경우
청문을 실시해야 하는 처분은 무엇인가요?
전자문서로 민원을 신청할 수 있나요?
비공개 대상 정보에는 어떤 것이 있나요?
정보공개 결정에 대한 이의신청 기간은?
반복 민원은 어떻게 종결 처리할 수 있나요?
민원 처리 결과를 문자로 통지해도 되나요?
첫만남이용권은 얼마나 지원되나요?
부모급여 신청은 어디서 하나요?
노인 일자리 사업 참여 조건
기초연금 수급 자격과 소득인정액 기준
의료급여 수급권자의 본인부담금은?
청년 월세 지원 신청 방법
국민취업지원제도 구직촉진수당은 얼마인가요?
에너지바우처 지원 대상은 누구인가요?
주거급여 임차가구 지원 기준
다문화가족 자녀 언어발달 지원 서비스
행정절차법상 처분의 이유 제시 의무
민원 접수를 거부할 수 있는 경우는?
복합민원 처리 절차는 어떻게 되나요?
민원 처리기간을 연장할 때 통지 방법
고충민원과 일반민원의 차이
전자정부법에 따른 행정정보 공동이용
행정예고 기간은 며칠인가요?
과태료 부과 전 의견제출 절차
산모 신생아 건강관리 지원 신청 자격
장애인 연금 신청 시 필요한 서류
희귀질환자 의료비 지원 대상과 신청처
아동수당은 몇 살까지 받을 수 있나요?
법령해석 요청은 누가 할 수 있나요?
위임된 사무의 처리 기준을 조례로 정할 수 있나요?
민원 서류 보완을 요구할 수 있는 기간
재난적 의료비 지원 기준 소득은?
""".split("\n")

_PREFIXES = ("저희 구청에 문의가 왔는데 ", "주민센터 담당자입니다. ", "민원인이 묻습니다: ")
_SUFFIXES = (" 관련 규정도 알려주세요", " 근거 법령은 무엇인가요?", " 예외가 있나요?")


def queries(corpus: Path, limit: int | None = None) -> list[str]:
    """Handwritten questions, two variants of each, and 법제처 question texts cut to ~100 chars."""
    base = [q.strip() for q in QUESTIONS if q.strip()]
    out = list(base)
    out += [_PREFIXES[i % 3] + q for i, q in enumerate(base)]
    out += [q.rstrip("?") + _SUFFIXES[i % 3] for i, q in enumerate(base)]
    qa = corpus / "moleg-interpretations-qa" / "qa.jsonl"
    if qa.is_file():
        for line in qa.read_text(encoding="utf-8").splitlines():
            text = " ".join(json.loads(line).get("question", "").split())
            if text:
                out.append(text[:100])
    return out[:limit] if limit else out
