"""Bulk ingest on a Dask cluster: workers parse, chunk, analyse and embed; this process alone commits.

An agency loading hundreds of thousands of files wants every core of several machines on the slow part
(parsing, Kiwi, embedding) while the index keeps one writer (its lock, its atomic commits). The unit of
work sent to a worker is a small batch of files (:meth:`assistant.ingest.pipeline.Ingestor.prepare`, the
same code a single-process ingest runs); what comes back is the batch's chunks, terms and vectors, which
the writer commits as soon as they arrive, so a stopped run keeps every batch it received.

Why Dask, measured on this 2-core machine with two worker processes (``bench/compare_task_engines.py``):

=================  ========  ===========  ================  ===========  ===========
engine             start     per task     per 20-chunk doc  memory       wheel size
=================  ========  ===========  ================  ===========  ===========
Dask distributed   2.8 s     2.8 ms       6.6 ms            199 MB       24 MB
Ray 2.60           4.0 s     0.7 ms       1.5 ms            714 MB       240 MB
=================  ========  ===========  ================  ===========  ===========

A batch of files takes hundreds of milliseconds to seconds to parse and analyse, so Ray's lower per-task
overhead is noise here, while its memory and its 240 MB install (to carry into a closed network) are not.
Celery was not measured: it needs a broker service (RabbitMQ or Redis) besides its wheel.
Dask also runs across hosts with nothing but its own ``dask scheduler`` / ``dask worker`` commands.

Rules a cluster must follow: every worker reads the files at the same absolute path (a shared folder
when workers are on other hosts), has this package and the embedder's model installed, and allows its
worker processes to start children (the per-file parse budget runs in a child process): start remote
workers with ``DASK_DISTRIBUTED__WORKER__DAEMON=False``. A local cluster is set up that way here.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.index.store import IndexStore, NewDocument
from assistant.ingest.base import nfc
from assistant.ingest.chunking import ChunkParams
from assistant.ingest.pipeline import FileOutcome, Ingestor, IngestReport, discover_all

log = logging.getLogger(__name__)

#: files per task: enough to amortise Kiwi's and the embedder's per-call cost, few enough to spread
FILES_PER_TASK = 4


@contextmanager
def cluster_client(scheduler: str = "", workers: int = 2, timeout: float = 30.0) -> Iterator[Any]:
    """A Dask client: connected to ``scheduler`` (tcp://host:8786), or to a local cluster of ``workers``
    single-threaded processes on loopback, closed on exit."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise AssistantError("분산 색인에는 dask가 필요합니다: pip install '.[distributed]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise AssistantError(f"Dask 스케줄러 {scheduler}에 연결할 수 없습니다: {exc}. 주소와 방화벽을 "
                                 "확인하세요.") from None
        try:
            yield client
        finally:
            client.close()
        return
    if workers < 1:
        raise AssistantError(f"작업자 수는 1 이상이어야 합니다 (입력: {workers}).")
    # Dask's nannies write their workers' settings (OMP_NUM_THREADS=1, PYTHONHASHSEED, ...) into this
    # process's environment before spawning them; put it back afterwards, or every later child process of a
    # long-lived caller (a server, a test run) inherits them
    environ = dict(os.environ)
    with dask.config.set({"distributed.worker.daemon": False, "distributed.logging.distributed": "error"}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
        os.environ.clear()
        os.environ.update(environ)


class DistributedIngestor(Ingestor):
    """An :class:`Ingestor` whose parsing, chunking, analysis and embedding run on a Dask cluster."""

    def __init__(self, settings: Settings, store: IndexStore, embedder: Any, client: Any,
                 access_level: str = "공개", department: str = "", files_per_task: int = FILES_PER_TASK) -> None:
        super().__init__(settings, store, embedder, access_level, department)
        self.client = client
        self.files_per_task = max(1, files_per_task)

    def run(self, paths: Iterable[Path], on_file: Callable[[FileOutcome], None] | None = None,
            total_hint: Callable[[int], None] | None = None, wait_merges: bool = True) -> IngestReport:
        from distributed import as_completed

        report, start, files = IngestReport(), time.perf_counter(), discover_all(paths, total_hint)
        outcomes: dict[int, FileOutcome] = {}

        def settle(i: int, outcome: FileOutcome) -> None:
            outcomes[i] = outcome
            if on_file:
                on_file(outcome)

        with self.store.write_lock():
            base, manifest = self._open_base()
            self._follow(manifest)
            known = dict(manifest.documents)
            seen: set[str] = set()
            batches: list[list[tuple[int, Path, str, str]]] = [[]]
            for i, (path, named) in enumerate(files):
                skipped, doc_id, digest = self.screen(path, named, known, seen)
                if skipped is not None:
                    settle(i, skipped)
                    continue
                if len(batches[-1]) >= self.files_per_task:
                    batches.append([])
                batches[-1].append((i, path, doc_id, digest))
            batches = [b for b in batches if b]
            futures = {self.client.submit(_prepare_on_worker, self.settings, self.params, self.embed_max_chars,
                                          self.access_level, self.department,
                                          [(p.resolve(), d, h) for _, p, d, h in batch], pure=False): batch
                       for batch in batches}
            for future in as_completed(list(futures)):
                batch = futures[future]
                try:
                    results, timings, identity = future.result()
                except Exception as exc:  # noqa: BLE001 — a lost worker fails its batch, not the run
                    log.warning("distributed batch failed: %s", exc)
                    for i, path, _, _ in batch:
                        settle(i, FileOutcome(nfc(str(path)), "failed",
                                              "작업자 프로세스가 이 파일 묶음을 처리하지 못했습니다 "
                                              f"({type(exc).__name__}). 다시 실행하면 이 파일들만 다시 처리합니다."))
                    continue
                if _model_of(identity) != _model_of(self.embedder.identity):
                    mine = self.embedder.identity.get("name")
                    raise AssistantError(f"작업자의 임베더가 색인의 임베더와 다릅니다 (작업자: {identity.get('name')}, "
                                         f"색인: {mine}). 모든 작업자에 같은 설정과 모델을 설치하세요.")
                for key in ("parse", "terms", "embed"):
                    report.timings[key] += timings.get(key, 0.0)
                pending: list[NewDocument] = []
                for (i, path, _, _), (outcome, doc) in zip(batch, results, strict=True):
                    outcome.path = nfc(str(path))   # as the user named it, not as the worker resolved it
                    settle(i, outcome)
                    if doc is not None:
                        pending.append(doc)
                if pending:  # committed as it arrives: a stopped run keeps every batch received
                    base, manifest = self._commit(base, manifest, pending, set(), report)
        if wait_merges:
            self.store.wait_merges()
        report.outcomes = [outcomes[i] for i in sorted(outcomes)]
        report.seconds = time.perf_counter() - start
        return report


def _model_of(identity: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(identity.get(k) for k in ("name", "model", "dim"))


_configured: Settings | None = None


def _prepare_on_worker(settings: Settings, params: ChunkParams, embed_max_chars: int, access_level: str,
                       department: str, files: Sequence[tuple[Path, str, str]]
                       ) -> tuple[list[tuple[FileOutcome, NewDocument | None]], dict[str, float], dict[str, Any]]:
    """Runs on a worker: one batch of files through :meth:`Ingestor.prepare`."""
    from assistant.index.embedders import shared_embedder

    _worker_setup(settings)
    embedder = shared_embedder(settings, settings.embedder)
    ingestor = Ingestor(settings, IndexStore(Path("."), "worker"), embedder, access_level, department)
    ingestor.params, ingestor.embed_max_chars = params, embed_max_chars   # as the index's manifest says
    report = IngestReport()
    results = ingestor.prepare(list(files), report)
    return results, dict(report.timings), dict(embedder.identity)


def _worker_setup(settings: Settings) -> None:
    """Once per worker process: one thread per pool (the cluster's parallelism is its processes)."""
    global _configured
    if multiprocessing.current_process().daemon:
        raise AssistantError("Dask 작업자가 자식 프로세스를 만들 수 없습니다 (파일별 처리 시간·메모리 제한에 필요). "
                             "작업자를 DASK_DISTRIBUTED__WORKER__DAEMON=False 로 시작하세요.")
    if _configured != settings:
        from assistant.runtime import configure

        configure(settings.with_overrides(threads=1))
        _configured = settings


class ClusterEmbedder:
    """An embedder whose batches are cut into slices embedded on the cluster's workers in parallel.

    Used for the semantic (e5) pass, the slowest part of a bulk load: ``fill`` hands it batches of
    ``slice_size`` x workers x 2 texts and stores each batch when every slice is back.
    """

    def __init__(self, client: Any, settings: Settings, name: str, slice_size: int = 32) -> None:
        self.client = client
        self.settings = settings
        self.slice_size = slice_size
        self.name, self.dim, self.identity = client.submit(_embedder_info, settings, name, pure=False).result()
        self.embedder_name = name

    @property
    def batch(self) -> int:
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        return self.slice_size * workers * 2

    def embed(self, texts: list[str], batch_size: int = 0) -> np.ndarray:
        slices = [texts[i:i + self.slice_size] for i in range(0, len(texts), self.slice_size)]
        futures = [self.client.submit(_embed_on_worker, self.settings, self.embedder_name, s, pure=False)
                   for s in slices]
        parts = self.client.gather(futures)
        return np.vstack(parts).astype(np.float32) if parts else np.zeros((0, self.dim), np.float32)


def _embedder_info(settings: Settings, name: str) -> tuple[str, int, dict[str, Any]]:
    from assistant.index.embedders import shared_embedder

    _worker_setup(settings)
    emb = shared_embedder(settings, name)
    return emb.name, emb.dim, dict(emb.identity)


def _embed_on_worker(settings: Settings, name: str, texts: list[str]) -> np.ndarray:
    from assistant.index.embedders import shared_embedder

    _worker_setup(settings)
    return np.asarray(shared_embedder(settings, name).embed(texts), dtype=np.float32)


def fill_semantic_on_cluster(client: Any, settings: Settings, store: IndexStore,
                             progress: Callable[[int, int], None] | None = None) -> Any:
    """The semantic pass of one index with the embedding spread over the cluster (the writer stores)."""
    from assistant.index.semantic import FillReport, SemanticStore, fill, semantic_enabled

    if not semantic_enabled(settings) or not store.exists():
        return FillReport()
    embedder = ClusterEmbedder(client, settings, settings.semantic_embedder)
    vectors = SemanticStore(store.path, embedder.name, embedder.dim)
    return fill(vectors, embedder, store.open().position_texts(), batch=embedder.batch, progress=progress)
