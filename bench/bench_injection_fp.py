"""False positives of the prompt-injection filter on real documents: how many legitimate sentences it would drop.

    python bench/bench_injection_fp.py            # every sentence of ../shared/corpus and samples/
    python bench/bench_injection_fp.py --quiet    # figures only, not the flagged sentences

Every sentence (a line cut at sentence ends, as :func:`assistant.korean.injection.strip_instructions` cuts them)
of the statutes, the 법제처 interpretations, the welfare guides and the public reports goes through
``instruction_rule``; none of these documents addresses an AI, so every flagged sentence is a false positive.
The flagged sentences are printed with the rule that caught them, for review.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "corpus"
SETS = {
    "statutes": [CORPUS / "korean-laws-admin", CORPUS / "korean-laws-minwon", REPO / "samples" / "laws"],
    "interpretations": [CORPUS / "moleg-interpretations-qa" / "docs", REPO / "samples" / "interpretations"],
    "welfare guides": [CORPUS / "welfare-services-2023" / "docs"],
    "public reports": [CORPUS / "allganize-public-docs"],
}


def sentences_of(folders: list[Path]) -> list[str]:
    from assistant.korean.injection import sentence_pieces

    out: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.md")):
            if path.name != "README.md":
                out.extend(sentence_pieces(path.read_text(encoding="utf-8")))
    return out


def main() -> int:
    from assistant.korean.injection import instruction_rule

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quiet", action="store_true", help="print the figures only")
    args = parser.parse_args()
    total = flagged_total = 0
    seconds = 0.0
    for name, folders in SETS.items():
        sents = sentences_of(folders)
        t0 = time.perf_counter()
        flagged = [(s, rule) for s in sents if (rule := instruction_rule(s))]
        seconds += time.perf_counter() - t0
        total += len(sents)
        flagged_total += len(flagged)
        print(f"{name:16s} {len(sents):7,d} sentences, {len(flagged):3d} flagged")
        if not args.quiet:
            for s, rule in flagged:
                print(f"    [{rule}] {s[:160]}")
    if not total:
        print(f"no documents found under {CORPUS}")
        return 1
    print(f"{'all':16s} {total:7,d} sentences, {flagged_total:3d} flagged "
          f"({100 * flagged_total / total:.3f} %), {total / max(seconds, 1e-9):,.0f} sentences/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
