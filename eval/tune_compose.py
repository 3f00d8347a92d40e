"""Choose the answer composer's weights on the dev split: the share of answers whose first sentence
carries the fact the question asks for (the people-* gold sets' ``lead``).

    python -m eval.tune_compose            # current weights, then a small grid around them
    python -m eval.tune_compose --current  # current weights only

Retrieval runs once per question (default configuration, the evaluation's cached indexes with their
semantic vectors); only the composition is repeated per setting. The blind split is never read.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.generate.compose import ComposeOptions, compose_answer
from assistant.korean.sentences import first_sentence
from eval.corpora import SET_CORPUS, corpus_spec, default_corpus_root
from eval.evalconfig import load_config
from eval.gold.people import PEOPLE_SETS, lead_found
from eval.retrieval import ensure_index
from eval.runner import load_gold

GRID = {"w_coverage": (0.1, 0.2, 0.3), "w_fact": (0.3, 0.5), "w_passage": (0.1, 0.2), "rank_decay": (0.22, 0.4)}


def retrieved(work: Path) -> list[tuple[dict[str, Any], list[Any]]]:
    from assistant.generate.extractive import ExtractiveGenerator
    from assistant.retrieve.search import open_retriever
    from assistant.tasks.ask import AskService

    settings = load_config("default").make_settings()
    rows = [r for r in load_gold(list(PEOPLE_SETS), "dev") if r.get("answerable")]
    services = {}
    out = []
    for r in rows:
        corpus = SET_CORPUS[r["set"]]
        if corpus not in services:
            info = ensure_index(settings, corpus_spec(corpus, default_corpus_root(), work / "derived"), work)
            services[corpus] = AskService(open_retriever(info.settings, info.settings.index_name),
                                          ExtractiveGenerator(), info.settings)
        _, passages = services[corpus].evidence(r["question"])
        out.append((r, passages))
    return out


def answer_first(data: list[tuple[dict[str, Any], list[Any]]], opt: ComposeOptions) -> dict[str, float]:
    by: dict[str, list[bool]] = {}
    for r, passages in data:
        lead = first_sentence(" ".join(compose_answer(r["question"], passages, options=opt)))
        by.setdefault(SET_CORPUS[r["set"]], []).append(lead_found(r["lead"], lead))
    out = {c: round(sum(v) / len(v), 3) for c, v in by.items()}
    out["all"] = round(sum(sum(v) for v in by.values()) / sum(len(v) for v in by.values()), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="답변 구성 가중치 조정 (dev 분할)")
    ap.add_argument("--work-dir", type=Path, default=Path("eval/reports/.cache"))
    ap.add_argument("--current", action="store_true")
    args = ap.parse_args(argv)
    data = retrieved(args.work_dir)
    base = ComposeOptions()
    print("현재 가중치:", answer_first(data, base))
    if args.current:
        return 0
    results = []
    for values in itertools.product(*GRID.values()):
        opt = replace(base, **dict(zip(GRID, values, strict=True)))
        results.append((answer_first(data, opt), values))
    results.sort(key=lambda x: -x[0]["all"])
    for score, values in results[:10]:
        print(dict(zip(GRID, values, strict=True)), score)
    return 0


if __name__ == "__main__":
    sys.exit(main())
