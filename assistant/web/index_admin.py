"""Index metadata changes the web app needs and the index store does not offer directly.

Changing a document's access level must change what retrieval filters on — the ``documents`` row in the
index's SQLite — and generations are immutable, so the change is written as a new generation through the
store's ordinary ``commit``: the document is re-added with its stored chunks, vectors (reconstructed from
FAISS) and BM25 terms, and only its record differs. Nothing is re-parsed or re-embedded.
"""

from __future__ import annotations

import json

import numpy as np

from assistant.errors import AssistantError
from assistant.index.store import DocumentRecord, IndexStore, NewDocument
from assistant.retrieve.filters import ACCESS_LEVELS
from assistant.types import Chunk


def set_access_level(store: IndexStore, doc_id: str, access_level: str, department: str = "") -> bool:
    """Set one document's access level (and department) in a new generation. False if the doc is absent."""
    if access_level not in ACCESS_LEVELS:
        raise AssistantError(f"열람 등급은 {', '.join(ACCESS_LEVELS)} 중 하나여야 합니다 (입력: {access_level}).")
    if access_level == "부서" and not department.strip():
        raise AssistantError("'부서' 등급으로 바꾸려면 담당 부서를 지정해야 합니다.")
    with store.write_lock():
        base = store.open()
        manifest = base.manifest
        db = base.db()
        row = db.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            return False
        if row["access_level"] == access_level and row["department"] == department.strip():
            return True
        record = DocumentRecord(
            doc_id=row["doc_id"], source=row["source"], title=row["title"], doc_type=row["doc_type"],
            sha256=row["sha256"], size=row["size"], access_level=access_level, department=department.strip(),
            date=row["date"], metadata=json.loads(row["metadata"] or "{}"), ingested_at=row["ingested_at"])
        rows = db.execute("SELECT * FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc_id,)).fetchall()
        chunks = [Chunk(doc_id=r["doc_id"], ordinal=r["ordinal"], text=r["text"], title=r["title"],
                        section=r["section"], location=r["location"], page=r["page"], article=r["article"])
                  for r in rows]
        positions = np.array([r["pos"] for r in rows], dtype=np.int64)
        dim = int(manifest.embedder["dim"])
        vectors = (base.faiss.reconstruct_batch(positions) if len(positions)
                   else np.zeros((0, dim), dtype=np.float32))
        terms = [r["terms"].split(" ") if r["terms"] else [] for r in rows]
        keep = set(manifest.documents) - {doc_id}
        store.commit(manifest, base, keep, [NewDocument(record, chunks, vectors, terms)], manifest.dense_index)
    return True
