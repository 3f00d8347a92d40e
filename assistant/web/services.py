"""The web app's bridge to the assistant: indexes, retrieval, answers, summaries and reply drafts.

Every retrieval a user triggers goes through :meth:`Principal.search_filter` — clearance and department
become a :class:`~assistant.retrieve.filters.SearchFilter` applied inside the retriever — so a document
above a user's level is invisible in search results, answers, citations, summaries and downloads alike.

Indexes are opened read-only and cached per generation: when ingestion switches an index to a new
generation (``CURRENT``), the next request opens the new one. Index writes inside this process are
serialised by one lock (the store's own file lock guards against other processes).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import AssistantError, IndexNotFound
from assistant.index.store import IndexStore, list_indexes
from assistant.web.auth import Principal

if TYPE_CHECKING:   # the parts load lazily (models, indexes): only their types are needed here
    from assistant.generate.base import Generator
    from assistant.index.embedders import Embedder
    from assistant.retrieve.search import Retriever
    from assistant.tasks.ask import AskService
    from assistant.types import Hit

MODES = {"ask": "질의응답", "summarize": "문서 요약", "draft": "민원 답변 초안"}


class NotVisible(AssistantError):
    """A document is missing or the user may not see it (reported the same way, so nothing leaks)."""


@dataclass
class _Cached:
    generation: str
    retriever: Retriever
    ask: AskService | None = None


class Core:
    """Shared, thread-safe parts of the app: embedder, generator, retrievers per index."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 generator: Generator | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._generator = generator
        self._lock = threading.Lock()
        self._cache: dict[str, _Cached] = {}
        self.write_lock = threading.Lock()
        from assistant.web.semantic_fill import SemanticFiller

        self.filler = SemanticFiller(settings, Path(settings.data_dir) / "logs")

    # ------------------------------------------------------------------ parts
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from assistant.index.embedders import make_embedder

                self._embedder = make_embedder(self.settings)
            return self._embedder

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                self._generator = _make_generator(self.settings)
            return self._generator

    def store(self, index_name: str | None = None) -> IndexStore:
        return IndexStore(self.settings.index_dir, index_name or self.settings.index_name)

    def indexes(self) -> list[str]:
        return list_indexes(self.settings.index_dir)

    def retriever(self, index_name: str | None = None) -> Retriever:
        return self._entry(index_name).retriever

    def _entry(self, index_name: str | None) -> _Cached:
        from assistant.retrieve.search import Retriever, retrieval_params, semantic_layer

        store = self.store(index_name)
        gen_dir = store.current_dir()
        with self._lock:
            cached = self._cache.get(store.name)
            if cached is not None and cached.generation == gen_dir.name:
                return cached
        embedder = self.embedder
        snapshot = store.open()
        previous = cached.retriever.semantic if cached is not None else None   # its segments' rows are reused
        retriever = Retriever(snapshot, embedder, retrieval_params(self.settings),
                              semantic_layer(self.settings, store, snapshot, previous))
        entry = _Cached(gen_dir.name, retriever)
        with self._lock:
            self._cache[store.name] = entry
        return entry

    def ask_service(self, index_name: str | None = None) -> AskService:
        entry = self._entry(index_name)
        if entry.ask is None:
            from assistant.tasks.ask import AskService

            entry.ask = AskService(entry.retriever, self.generator, self.settings)
        return entry.ask

    def warm_up(self) -> None:
        """Load the embedder, the morphological analyser and the default index before the first user."""
        from assistant.korean.morph import content_terms

        # Kiwi (~2 s) and the embedder + index load independently: overlap them
        kiwi = threading.Thread(target=content_terms, args=("준비",), daemon=True)
        kiwi.start()
        if self.settings.index_name in self.indexes():
            retriever = self.retriever()
            retriever.embedder.embed(["준비"])
            if retriever.semantic is not None:
                retriever.semantic.refresh(force=True)
                retriever.semantic.query_vector("준비")
        _ = self.generator
        kiwi.join()
        if self.settings.index_name in self.indexes():
            self.retriever().search("민원 처리기간", k=1)
            self.ask_service()
        for name in self.indexes():
            self.filler.request(name)   # compute missing semantic vectors in a low-priority worker

    def on_merged(self, index_path: Path, chunks: int) -> None:
        """A background merge made a segment big enough for an approximate semantic index: have the filler
        build it (until then that segment's semantic search is exact, correct but slower)."""
        threshold = self.settings.semantic_ann_min_chunks
        if threshold and chunks >= threshold and \
                Path(index_path).resolve().parent == Path(self.settings.index_dir).resolve():
            self.filler.request(Path(index_path).name)

    # ------------------------------------------------------------------ documents
    def documents(self, user: Principal, index_name: str | None = None) -> list[dict[str, Any]]:
        """Documents the user may see, in one index or all of them (with the pages OCR read unsurely)."""
        from assistant.ocr import low_confidence_pages

        where, params = user.search_filter().sql()
        return [{"index": name, "doc_id": r["doc_id"], "title": r["title"], "doc_type": r["doc_type"],
                 "size": r["size"], "date": r["date"], "ingested_at": r["ingested_at"],
                 "access_level": r["access_level"], "department": r["department"], "source": r["source"],
                 "chunks": r["chunks"], "ocr_low_pages": sorted(low_confidence_pages(r.get("metadata") or {}))}
                for name, r in self._document_rows(where, params, index_name)]

    def _document_rows(self, where: str, params: Sequence[Any],
                       index_name: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """(index name, document row) for the documents matching an access condition, one index or all."""
        for name in [index_name] if index_name else self.indexes():
            try:
                rows = self.retriever(name).snapshot.find_documents(where, params)
            except IndexNotFound:
                continue
            for r in rows:
                yield name, r

    def find_document(self, user: Principal, doc_id: str, index_name: str | None = None) -> dict[str, Any]:
        """One document the user may see, or :class:`NotVisible`."""
        names = [index_name] if index_name else self.indexes()
        where, params = user.search_filter(doc_ids=(doc_id,)).sql()
        for name in names:
            try:
                snap = self.retriever(name).snapshot
            except IndexNotFound:
                continue
            found = snap.document(doc_id, where, params)
            if found is not None and found["doc_id"] == doc_id:
                return {"index": name, **found}
        raise NotVisible(f"문서 '{doc_id}'를 찾을 수 없거나 열람 권한이 없습니다.")

    def doc_meta(self, doc_ids: Sequence[str]) -> dict[str, Any]:
        """Title and access level of each document, whoever may see it — for the audit log only, which
        records what was acted on (and shows it only to readers cleared for it)."""
        from assistant.retrieve.filters import SearchFilter
        from assistant.web.audit import DocMeta

        wanted = tuple(dict.fromkeys(d for d in doc_ids if d))
        found: dict[str, Any] = {}
        if not wanted:
            return found
        for _, r in self._document_rows(*SearchFilter(doc_ids=wanted).sql()):
            found.setdefault(r["doc_id"], DocMeta(r["title"], r["access_level"], r["department"] or ""))
        return found

    def visible_ids(self, user: Principal, doc_ids: Sequence[str]) -> set[str]:
        """Which of these documents the user may see (any index)."""
        wanted = tuple(dict.fromkeys(d for d in doc_ids if d))
        if not wanted:
            return set()
        return {r["doc_id"] for _, r in self._document_rows(*user.search_filter(doc_ids=wanted).sql())}

    def indexes_holding(self, doc_id: str) -> list[str]:
        return [n for n in self.indexes() if doc_id in self.store(n).manifest().documents]

    # ------------------------------------------------------------------ model tasks
    def search(self, user: Principal, query: str, *, k: int | None = None, mode: str | None = None,
               index_name: str | None = None, doc_ids: Sequence[str] = ()) -> list[Hit]:
        retriever = self.retriever(index_name)
        return retriever.search(query, k=k or self.settings.top_k, mode=mode or self.settings.search_mode,
                                flt=user.search_filter(tuple(doc_ids)))

    def ask_stream(self, user: Principal, question: str, *, index_name: str | None = None,
                   doc_ids: Sequence[str] = (), history: Sequence[tuple[str, str]] = (),
                   detail: bool = False) -> Iterator[dict[str, Any]]:
        service = self.ask_service(index_name)
        yield from service.ask_stream(question, flt=user.search_filter(tuple(doc_ids)), history=tuple(history),
                                      detail=detail)

    def ask(self, user: Principal, question: str, *, index_name: str | None = None, doc_ids: Sequence[str] = (),
            history: Sequence[tuple[str, str]] = (), detail: bool = False) -> dict[str, Any]:
        service = self.ask_service(index_name)
        answer = service.ask(question, flt=user.search_filter(tuple(doc_ids)), history=tuple(history), detail=detail)
        return answer.to_json()

    def summarize_indexed(self, user: Principal, doc_id: str, *, index_name: str | None = None,
                          length: str | int | None = None, scope: str | None = None) -> dict[str, Any]:
        from assistant.tasks.summarize import summarize_indexed

        doc = self.find_document(user, doc_id, index_name)  # NotVisible before any work
        summary = summarize_indexed(doc_id, settings=self.settings, index_name=doc["index"], generator=self.generator,
                                    length=length, flt=user.search_filter(), scope=scope)
        return summary.to_json()

    def summarize_file(self, path: Path, *, length: str | int | None = None) -> dict[str, Any]:
        from assistant.tasks.summarize import summarize_document

        return summarize_document(path, settings=self.settings, generator=self.generator, length=length).to_json()

    def draft_reply(self, user: Principal, text: str, *, index_name: str | None = None,
                    doc_ids: Sequence[str] = (), received: str | None = None) -> dict[str, Any]:
        from assistant.tasks.draft_reply import draft_reply

        draft = draft_reply(text, settings=self.settings, retriever=self.retriever(index_name),
                            generator=self.generator, received=received or None,
                            flt=user.search_filter(tuple(doc_ids)))
        return draft.to_json()


def _make_generator(settings: Settings) -> Generator:
    from assistant.generate.factory import make_generator

    return make_generator(settings)
