"""Doors to the tools agencies already run.

- The OpenAI-compatible API lives in :mod:`assistant.web.routes_openai` (part of ``assistant serve``).
- :mod:`assistant.integrations.langchain` has a LangChain retriever and embeddings adapter; it needs the
  ``langchain`` extra and is never imported by the CLI or the web app.

This package's ``__init__`` imports nothing heavy, so the web app may use :func:`exposed_embedder_name`.
"""

from __future__ import annotations

from typing import Any

OFF = ("", "none")


def exposed_embedder_name(settings: Any) -> str | None:
    """The embedder a deployment offers to outside callers (``/v1/embeddings``, the LangChain adapter).

    The ingest-time dense embedder when one is configured (``embedder``); otherwise the semantic layer's
    (``semantic_embedder``, e5-small by default), which is what the default configuration searches with.
    None when both are off.
    """
    if settings.embedder not in OFF:
        return str(settings.embedder)
    if settings.semantic_embedder not in OFF:
        return str(settings.semantic_embedder)
    return None
