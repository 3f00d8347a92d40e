"""An embedding server speaking OpenAI's API (TEI, vLLM, Ollama)."""

from __future__ import annotations

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.index.embedders import Embedder, register


class OpenAICompatible(Embedder):
    """Any server speaking OpenAI's ``POST /v1/embeddings`` (TEI, vLLM, Ollama)."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0) -> None:
        if not base_url or not model:
            raise ConfigError("OpenAI 호환 임베딩 서버를 쓰려면 ASSISTANT_EMBEDDER_URL과 "
                              "ASSISTANT_EMBEDDER_MODEL을 지정하세요.")
        import httpx

        self._url = base_url.rstrip("/") + "/embeddings"
        self._model_name = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self.dim = int(self.embed_batch(["차원 확인"]).shape[1])

    @property
    def model(self) -> str:
        return self._model_name

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        import httpx

        try:
            resp = self._client.post(self._url, json={"model": self._model_name, "input": texts})
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise ConfigError(f"임베딩 서버 {self._url}에 연결할 수 없습니다: {exc}. "
                              "ASSISTANT_EMBEDDER_URL을 확인하세요.") from exc
        data = sorted(resp.json()["data"], key=lambda d: d["index"])
        return np.asarray([d["embedding"] for d in data], dtype=np.float32)


@register("openai")
def _openai(settings: Settings) -> Embedder:
    return OpenAICompatible(settings.embedder_url, settings.embedder_model, settings.embedder_api_key)
