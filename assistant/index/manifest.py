"""The index manifest: what built an index, so a mismatch is detected instead of guessed."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import IndexMismatch

#: 2: a generation names segments (see assistant.index.store); 1: a generation is one whole index, still
#: readable (it opens as a single segment and is extended with segments by the next commit)
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


@dataclass
class DocumentEntry:
    source: str
    sha256: str
    title: str
    chunks: int


@dataclass
class SegmentRef:
    """A segment a generation uses: its folder, its chunk count, its deleted documents (tombstones) and how
    many chunks those hold (so the merge policy needs no file of the segment)."""

    name: str
    size: int
    deleted: list[str] = field(default_factory=list)
    dead_chunks: int = 0


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
    segments: list[SegmentRef] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["documents"] = {k: asdict(v) for k, v in sorted(self.documents.items())}
        data["segments"] = [asdict(s) for s in self.segments]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        version = data.get("format_version")
        if version not in READABLE_VERSIONS:
            raise IndexMismatch(f"색인 형식 버전 {version}은 이 프로그램({FORMAT_VERSION})과 맞지 않습니다. "
                                "색인을 다시 만드세요.")
        docs = {k: DocumentEntry(**v) for k, v in data.get("documents", {}).items()}
        segments = [SegmentRef(**s) for s in data.get("segments", [])]
        fields = {k: v for k, v in data.items() if k not in ("documents", "segments")}
        return cls(**fields, documents=docs, segments=segments)

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
