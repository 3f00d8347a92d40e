"""Dense, sparse and hybrid retrieval with metadata and access filters."""
