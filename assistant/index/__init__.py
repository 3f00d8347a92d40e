"""Embedders, the Kiwi morpheme analyser, the FAISS + BM25 + SQLite index and its manifest."""
