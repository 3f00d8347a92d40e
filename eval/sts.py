"""Embedder sanity check on KLUE-STS dev (519 human-rated Korean sentence pairs, CC BY-SA 4.0).

Spearman correlation between the cosine similarity of the two sentences' vectors and the 0–5 human
label. It says whether an embedder understands Korean similarity at all; it is not a retrieval score.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import bootstrap_ci, spearman

STS_FILE = Path("klue-sts-dev") / "klue-sts-v1.1_dev.json"


def load_pairs(corpus: Path) -> list[tuple[str, str, float, str]]:
    path = corpus / STS_FILE
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(d["sentence1"], d["sentence2"], float(d["labels"]["label"]), d.get("source", "")) for d in data]


def evaluate_embedder(embedder: Any, pairs: list[tuple[str, str, float, str]]) -> dict[str, Any]:
    """Spearman ρ overall and on the policy-briefing subset, with a bootstrap CI over pairs."""
    left = embedder.embed([p[0] for p in pairs], 128)
    right = embedder.embed([p[1] for p in pairs], 128)
    cos = np.sum(left * right, axis=1)
    labels = np.array([p[2] for p in pairs])
    policy = np.array([p[3].startswith("policy") for p in pairs])
    both = np.stack([cos, labels], axis=1)
    rho, lo, hi = bootstrap_ci(both, stat=lambda a: spearman(a[:, 0], a[:, 1]), n=500)
    return {"embedder": embedder.name, "model": getattr(embedder, "model", ""), "pairs": len(pairs),
            "spearman": rho, "ci": [lo, hi],
            "spearman_policy": spearman(cos[policy], labels[policy]) if policy.any() else float("nan")}
