"""LangChain adapters: our Korean retrieval as a ``BaseRetriever``, our embedders as ``Embeddings``.

For a team that builds its own LangChain or LangGraph flow and wants this project's index (BM25 with Kiwi
morphemes, the e5 semantic layer, rank fusion) and its access rules underneath::

    from assistant.integrations.langchain import AssistantRetriever

    retriever = AssistantRetriever(clearance="내부", department="민원과", k=3)
    docs = retriever.invoke("민원 처리기간은 어떻게 계산하나요?")

Access works as in the web app: ``clearance`` (공개 < 내부 < 부서) and ``department`` become the same
:class:`~assistant.retrieve.filters.SearchFilter` a logged-in user's requests go through, so a document above
the caller's level is never returned. The default is the least privilege (공개).

Needs the ``langchain`` extra (``pip install 'ai-haengjeong-biseo[langchain]'``); the CLI and the web app
never import this module.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.retrievers import BaseRetriever
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("LangChain 연동에는 langchain 추가 패키지가 필요합니다: "
                      "pip install 'ai-haengjeong-biseo[langchain]'") from exc
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from assistant.config import Settings, load_settings
from assistant.errors import AssistantError, ConfigError
from assistant.integrations import exposed_embedder_name
from assistant.retrieve.filters import ACCESS_LEVELS, SearchFilter
from assistant.tasks.pii import mask_pii
from assistant.types import Hit

__all__ = ["AssistantEmbeddings", "AssistantRetriever", "AssistantServerRetriever", "hit_document"]


class AssistantRetriever(BaseRetriever):
    """Passages of one index for a query, as LangChain ``Document``s with where they come from.

    ``settings`` defaults to the environment (``ASSISTANT_*``, ``.env``), like the CLI. A prepared
    :class:`~assistant.retrieve.search.Retriever` can be handed in as ``backend`` to share an open index.
    The query is masked for personal data (주민등록번호, phone numbers, …) before it is searched or logged.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    settings: Settings = Field(default_factory=load_settings)
    index_name: str | None = Field(None, description="index name (default: the settings' index_name)")
    k: int = Field(5, ge=1, le=50)
    search_mode: str | None = Field(None, description="hybrid, dense or bm25 (default: the settings')")
    clearance: str = Field("공개", description="highest access level the caller may read: 공개, 내부 or 부서")
    department: str | None = Field(None, description="the caller's department (needed for 부서 documents)")
    doc_ids: tuple[str, ...] = Field((), description="only these documents")
    doc_types: tuple[str, ...] = Field((), description="only these document types (law, pdf, hwp, …)")
    source_prefix: str = Field("", description="only documents whose stored path starts with this")
    backend: Any = Field(None, exclude=True, description="an open assistant Retriever to use instead")
    _opened: Any = PrivateAttr(None)

    @field_validator("clearance")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value not in ACCESS_LEVELS:
            raise ValueError(f"알 수 없는 열람 등급 '{value}'. 가능한 값: {', '.join(ACCESS_LEVELS)}")
        return value

    def search_filter(self) -> SearchFilter:
        """The access and scope filter every search of this retriever goes through."""
        return SearchFilter(source_prefix=self.source_prefix, doc_types=tuple(self.doc_types),
                            doc_ids=tuple(self.doc_ids), clearance=self.clearance,
                            department=self.department or None)

    def _backend(self) -> Any:
        if self.backend is not None:
            return self.backend
        if self._opened is None:
            from assistant.retrieve.search import open_retriever

            self._opened = open_retriever(self.settings, self.index_name)
        return self._opened

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        masked = mask_pii(unicodedata.normalize("NFC", query)).text
        hits = self._backend().search(masked, k=self.k, mode=self.search_mode or self.settings.search_mode,
                                      flt=self.search_filter())
        return [hit_document(h, rank) for rank, h in enumerate(hits, 1)]


def hit_document(hit: Hit, rank: int) -> Document:
    """A search hit as a ``Document``: the passage text, and in metadata what a citation needs."""
    metadata = {"doc_id": hit.doc_id, "title": hit.title, "source": hit.source, "location": hit.location,
                "section": hit.section, "page": hit.page, "article": hit.article, "doc_type": hit.doc_type,
                "access_level": hit.access_level, "department": hit.department, "score": float(hit.score),
                "rank": rank, "citation": f"{hit.title}, {hit.location}" if hit.location else hit.title}
    return Document(page_content=hit.text, metadata=metadata, id=f"{hit.doc_id}#{min(hit.ordinals, default=0)}")


class AssistantServerRetriever(BaseRetriever):
    """Passages from a running ``assistant serve`` through its search API, with a user's API token.

    Here the server decides what the token's user may read (the in-process :class:`AssistantRetriever` trusts
    the clearance it is given, which suits code that may read the index files anyway). ``base_url`` is the
    server's address (a trailing ``/v1`` is accepted, so the OpenAI base URL works too).
    """

    base_url: str
    api_key: SecretStr
    index_name: str | None = None
    k: int = Field(5, ge=1, le=50)
    search_mode: str | None = Field(None, description="hybrid, dense or bm25 (default: the server's)")
    doc_ids: tuple[str, ...] = ()
    timeout: float = 60.0

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        import httpx

        body: dict[str, Any] = {"query": mask_pii(unicodedata.normalize("NFC", query)).text, "k": self.k,
                                "doc_ids": list(self.doc_ids)}
        if self.index_name:
            body["index"] = self.index_name
        if self.search_mode:
            body["mode"] = self.search_mode
        root = self.base_url.rstrip("/").removesuffix("/v1")
        response = httpx.post(f"{root}/api/search", json=body, timeout=self.timeout,
                              headers={"Authorization": f"Bearer {self.api_key.get_secret_value()}"})
        if response.status_code != 200:
            raise AssistantError(f"검색 서버({root})가 {response.status_code} 오류를 돌려주었습니다: "
                                 f"{_detail(response)} 주소와 API 토큰을 확인하세요.")
        return [_server_document(h) for h in response.json().get("hits", [])]


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail", ""))[:300]
    except ValueError:
        return response.text[:300]


def _server_document(hit: dict[str, Any]) -> Document:
    keys = ("doc_id", "title", "location", "section", "access_level", "file_name", "file_url", "score", "rank")
    metadata = {k: hit.get(k) for k in keys}
    metadata["source"] = hit.get("file_name", "")
    metadata["citation"] = f"{hit.get('title', '')}, {hit['location']}" if hit.get("location") else hit.get("title")
    return Document(page_content=hit.get("text", ""), metadata=metadata)


class AssistantEmbeddings(Embeddings):
    """This deployment's embedder behind LangChain's ``Embeddings``.

    By default the one the server exposes at ``/v1/embeddings``: the dense embedder when one is configured,
    otherwise the semantic layer's e5-small. e5 is asymmetric — ``embed_query`` adds its "query: " prefix,
    ``embed_documents`` its "passage: " prefix — which is what a vector store expects of the two calls.
    """

    def __init__(self, settings: Settings | None = None, name: str | None = None, embedder: Any = None) -> None:
        self.settings = settings or load_settings()
        if embedder is None:
            from assistant.index.embedders import shared_embedder

            name = name or exposed_embedder_name(self.settings)
            if name is None:
                raise ConfigError("임베더가 설정되어 있지 않습니다 (ASSISTANT_EMBEDDER와 ASSISTANT_SEMANTIC_EMBEDDER가 "
                                  "모두 none). 둘 중 하나를 정하거나 name으로 임베더 이름을 주세요.")
            embedder = shared_embedder(self.settings, name)
        self.embedder = embedder

    @property
    def dimension(self) -> int:
        return int(self.embedder.dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._lists(self.embedder.embed(_nfc(texts)))

    def embed_query(self, text: str) -> list[float]:
        return self._lists(self.embedder.embed_query(_nfc([text])))[0]

    @staticmethod
    def _lists(vectors: Any) -> list[list[float]]:
        return [[float(x) for x in row] for row in vectors]


def _nfc(texts: Sequence[str]) -> list[str]:
    return [unicodedata.normalize("NFC", t) for t in texts]
