"""The index manifest: what built an index, so a mismatch is detected instead of guessed."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import IndexMismatch

FORMAT_VERSION = 1


@dataclass
class DocumentEntry:
    source: str
    sha256: str
    title: str
    chunks: int


@dataclass
class Manifest:
    name: str
    embedder: dict[str, Any]
    chunking: dict[str, Any]
    dense_index: str = "flat"
    format_version: int = FORMAT_VERSION
    created: str = ""
    updated: str = ""
    generation: int = 0
    chunk_count: int = 0
    documents: dict[str, DocumentEntry] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["documents"] = {k: asdict(v) for k, v in sorted(self.documents.items())}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexMismatch(f"색인 형식 버전 {version}은 이 프로그램({FORMAT_VERSION})과 맞지 않습니다. "
                                "색인을 다시 만드세요.")
        docs = {k: DocumentEntry(**v) for k, v in data.get("documents", {}).items()}
        fields = {k: v for k, v in data.items() if k != "documents"}
        return cls(**fields, documents=docs)

    def check_embedder(self, identity: dict[str, Any]) -> None:
        """Refuse to search or extend an index with an embedder other than the one that built it."""
        built = {k: self.embedder.get(k) for k in ("name", "model", "dim")}
        want = {k: identity.get(k) for k in ("name", "model", "dim")}
        if built != want:
            raise IndexMismatch(
                f"색인 '{self.name}'은 임베더 {built['name']}({built['model']}, {built['dim']}차원)로 만들어졌는데 "
                f"지금 설정은 {want['name']}({want['model']}, {want['dim']}차원)입니다. "
                "ASSISTANT_EMBEDDER 설정을 색인과 맞추거나, 다른 --index 이름으로 새 색인을 만드세요.")


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_manifest(path: Path) -> Manifest:
    with open(path, encoding="utf-8") as fh:
        return Manifest.from_json(json.load(fh))
