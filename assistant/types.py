"""Plain data types shared by every layer. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Block:
    """One unit of text as a parser found it, with where it came from.

    ``heading_path`` is the chain of headings above the block (outermost first);
    ``article`` is a law article label such as "제10조" or "제8조의2" when the block is
    (part of) a statute article; ``page`` is 1-based for paginated formats.
    ``kind`` is one of "paragraph", "heading", "table", "article", "list".
    """

    text: str
    kind: str = "paragraph"
    page: int | None = None
    heading_path: tuple[str, ...] = ()
    article: str | None = None


@dataclass
class ParsedDocument:
    """What a parser returns: the document's blocks and what it knows about it."""

    source: str
    title: str
    doc_type: str
    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage. ``ordinal`` is its position within the document."""

    doc_id: str
    ordinal: int
    text: str
    title: str
    section: str
    location: str
    page: int | None = None
    article: str | None = None

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.ordinal}"

    def heading(self) -> str:
        """Title and section path, e.g. ``민원 처리에 관한 법률 > 제1장 총칙``."""
        return " > ".join(p for p in (self.title, self.section) if p)

    def indexed_text(self) -> str:
        """The text the embedder and BM25 see: the passage with its title and section."""
        head = self.heading()
        return f"{head}\n{self.text}" if head else self.text


@dataclass
class Hit:
    """A search result, understandable on its own."""

    doc_id: str
    title: str
    source: str
    location: str
    score: float
    text: str
    section: str = ""
    doc_type: str = ""
    access_level: str = "공개"
    department: str = ""
    ordinals: tuple[int, ...] = ()
    page: int | None = None
    article: str | None = None
    positions: tuple[int, ...] = ()   # index positions of the merged chunks (same order as ``ordinals``)

    def to_json(self, rank: int) -> dict[str, Any]:
        return {
            "rank": rank,
            "score": round(float(self.score), 6),
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "location": self.location,
            "section": self.section,
            "text": self.text,
        }
