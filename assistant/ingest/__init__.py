"""Parsers (one module per format) and structure-aware chunking."""
