"""A sentence-transformers model copied into a local folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.index.embedders import Embedder, register


class SentenceTransformerFolder(Embedder):
    """A sentence-transformers model loaded from a local folder (e.g. bge-m3, KURE copied in)."""

    name = "sentence-transformers"

    def __init__(self, folder: str, device: str = "cpu") -> None:
        path = Path(folder).expanduser()
        if not folder or not path.is_dir():
            raise ConfigError(
                f"sentence-transformers 모델 폴더가 없습니다: '{folder}'. ASSISTANT_EMBEDDER_MODEL에 "
                "모델을 복사한 로컬 폴더 경로를 지정하세요 (인터넷에서 내려받지 않습니다).")
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ConfigError(f"'{path}'는 sentence-transformers 모델 폴더가 아닙니다 (config.json/modules.json 없음). "
                              "ASSISTANT_EMBEDDER_MODEL을 확인하세요.")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("sentence-transformers가 설치되어 있지 않습니다: pip install '.[models]'") from exc
        self._folder = str(path.resolve())
        self._model = SentenceTransformer(self._folder, device=device, local_files_only=True)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)

    @property
    def model(self) -> str:
        return Path(self._folder).name

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                             show_progress_bar=False), dtype=np.float32)


@register("sentence-transformers")
def _st(settings: Settings) -> Embedder:
    return SentenceTransformerFolder(settings.embedder_model)
