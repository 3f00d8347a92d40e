"""AI 행정비서 — a closed-network assistant for Korean public-sector documents."""

__version__ = "0.1.0"
