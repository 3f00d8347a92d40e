"""Build (and check) the gold JSONL files from the hand-written question modules and the 법제처 QA data.

    python -m eval.gold.author            # rewrite eval/gold/*.jsonl
    python -m eval.gold.author --check    # verify every gold excerpt against the real parser's chunks

The check parses each gold document with ``assistant.ingest`` and requires a chunk at the gold location
that contains the excerpt (character-3-gram containment ≥ 0.9): a typo in an excerpt or a wrong article
or page fails loudly instead of silently lowering recall.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from eval import GOLD_DIR
from eval.gold import questions_allganize, questions_laws, questions_welfare
from eval.metrics import conclusion_polarity
from eval.textmatch import char_ngrams, containment, location_matches

MOLEG_SET = "moleg-interpretations-qa"
MOLEG_DERIVED = "moleg-interpretations-qa/관계법령"  # derived view: one file per case with only its 관계 법령
DEV_SHARE = 40  # percent of questions in the dev split


def split_for(qid: str) -> str:
    """Stable dev/test assignment from the id (about 40/60)."""
    return "dev" if int(hashlib.sha1(qid.encode("utf-8")).hexdigest()[:8], 16) % 100 < DEV_SHARE else "test"


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _record(set_name: str, n: int, prefix: str, row: tuple, root: str = "") -> dict[str, Any]:
    question, doc, location, excerpt, reference = row
    qid = f"{prefix}-{n:03d}"
    gold = []
    if doc is not None:
        locations = location.split("|") if location else [""]
        excerpts = excerpt.split(" ‖ ")
        for i, loc in enumerate(locations):
            text = excerpts[min(i, len(excerpts) - 1)]
            gold.append({"source": _nfc(root + doc), "location": loc, "text": _nfc(text)})
    return {"id": qid, "set": set_name, "split": split_for(qid), "question": _nfc(question),
            "answerable": doc is not None, "gold": gold, "match": "any", "reference": _nfc(reference)}


def handwritten() -> dict[str, list[dict[str, Any]]]:
    sets: dict[str, list[dict[str, Any]]] = {}
    sets[questions_welfare.SET] = [_record(questions_welfare.SET, i, "welfare", r, questions_welfare.ROOT)
                                   for i, r in enumerate(questions_welfare.ROWS, 1)]
    un = questions_laws.UNANSWERABLE_ROWS
    minwon = questions_laws.MINWON_ROWS + un[: len(un) // 2] + questions_laws.MINWON_MORE_UNANSWERABLE
    admin = questions_laws.ADMIN_ROWS + un[len(un) // 2:] + questions_laws.ADMIN_MORE_UNANSWERABLE
    sets["korean-laws-minwon"] = [_record("korean-laws-minwon", i, "minwon", r) for i, r in enumerate(minwon, 1)]
    sets["korean-laws-admin"] = [_record("korean-laws-admin", i, "admin", r) for i, r in enumerate(admin, 1)]
    sets[questions_allganize.SET] = [_record(questions_allganize.SET, i, "allganize", r, questions_allganize.ROOT)
                                     for i, r in enumerate(questions_allganize.ROWS, 1)]
    return sets


# ---------------------------------------------------------------- 법제처 interpretations

_ARTICLE_START = re.compile(r"^\s*제\d+조(의\d+)?\s*\(")
_OMITTED = re.compile(r"^\s*([①-⑳\d.·∼~ ]+)?\(\s*생\s*략\s*\)\s*$")


def statute_segments(related: str, law_names: list[str], limit: int = 6, chars: int = 240) -> list[str]:
    """The statute articles quoted in a case's 관계 법령 block, one excerpt per article ("(생 략)" lines
    dropped), for text-overlap relevance: the same article indexed elsewhere counts as found."""
    names = {n.strip() for n in law_names}
    segments: list[list[str]] = []
    for line in related.splitlines():
        s = line.strip()
        if not s or _OMITTED.match(s) or s in names:
            continue
        if _ARTICLE_START.match(s) or not segments:
            segments.append([])
        segments[-1].append(s)
    out = [" ".join(seg)[:chars] for seg in segments if len(" ".join(seg)) >= 40]
    return out[:limit]


def _minwon_gold(refs: list[str]) -> list[dict[str, str]]:
    out = []
    for ref in refs:
        m = re.search(r"제\d+조(의\d+)?", ref)
        if m:
            out.append({"source": "korean-laws-minwon/민원처리에관한법률_법률.md", "location": m.group(0), "text": ""})
    return out


def moleg(corpus: Path) -> list[dict[str, Any]]:
    """Questions, gold statutes and reference conclusions straight from ``qa.jsonl`` (written by 법제처)."""
    rows = []
    for line in (corpus / MOLEG_SET / "qa.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        qid = d["id"]
        related = d.get("related_laws_text") or ""
        gold = [{"source": f"{MOLEG_DERIVED}/{qid}.md", "location": "", "text": ""}]
        gold += [{"source": "", "location": "", "text": seg}
                 for seg in statute_segments(related, d.get("related_law_names") or [])]
        gold += _minwon_gold(d.get("gold_articles_in_korean_laws_minwon") or [])
        tags = ["행정사"] if "행정사" in (d.get("title") or "") and "「행정사법」" in d["answer"] else []
        rows.append({
            "id": qid, "set": MOLEG_SET, "split": split_for(qid), "question": _nfc(d["question"]),
            "answerable": True, "gold": gold, "match": "any", "reference": _nfc(d["answer"]),
            "polarity": conclusion_polarity(d["answer"]), "requester": d.get("requester", ""),
            "multi_part": bool(d.get("multi_part")), "tags": tags,
        })
    return rows


# ---------------------------------------------------------------- check


def _chunks_of(path: Path):
    from assistant.config import load_settings
    from assistant.ingest.base import parse_file
    from assistant.ingest.chunking import chunk_blocks
    from assistant.ingest.pipeline import chunk_params
    from assistant.korean.sentences import split_sentences

    settings = load_settings()
    parsed = parse_file(path)
    return chunk_blocks("check", parsed.title, parsed.blocks, chunk_params(settings),
                        split_sentences)


def _seen(chunk) -> str:
    """What relevance compares: the section heading path and the passage (as :func:`eval.retrieval` does)."""
    return f"{chunk.section}\n{chunk.text}"


def check_gold_passage(rid: str, g: dict[str, str], corpus: Path, cache: dict[str, list]) -> tuple[list[str], list]:
    """Problems with one gold passage (missing file, location, excerpt) and the chunks at its location."""
    path = corpus / g["source"]
    if not path.is_file():
        return [f"{rid}: 파일 없음 {g['source']}"], []
    chunks = cache.setdefault(g["source"], _chunks_of(path))
    at = [c for c in chunks if location_matches(g["location"], c.location)]
    if not at:
        return [f"{rid}: 위치 {g['location']} 없음 ({g['source']})"], []
    if g["text"] and len(char_ngrams(g["text"])) and max(containment(g["text"], _seen(c)) for c in at) < 0.9:
        best = max(chunks, key=lambda c: containment(g["text"], _seen(c)))
        score = containment(g["text"], _seen(best))
        where = g["location"] or "문서"
        return [f"{rid}: 발췌문이 {where}에 없음 (가장 비슷한 곳: {best.location or '-'} {score:.2f})"], at
    return [], at


def check(sets: dict[str, list[dict[str, Any]]], corpus: Path) -> list[str]:
    """Problems found: missing files, excerpts not found at their location."""
    problems = []
    cache: dict[str, list] = {}
    for rows in sets.values():
        for row in rows:
            for g in row["gold"]:
                if not g["source"] or g["source"].startswith(MOLEG_DERIVED):
                    continue
                problems += check_gold_passage(row["id"], g, corpus, cache)[0]
    return problems


def write(sets: dict[str, list[dict[str, Any]]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in sets.items():
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    from eval.corpora import default_corpus_root

    ap = argparse.ArgumentParser(description="골드셋 JSONL 생성·검증")
    ap.add_argument("--corpus", type=Path, default=None, help="말뭉치 루트 (기본: ../shared/corpus)")
    ap.add_argument("--check", action="store_true", help="발췌문을 실제 파서 청크와 대조")
    args = ap.parse_args(argv)
    corpus = args.corpus or default_corpus_root()
    sets = handwritten()
    sets[MOLEG_SET] = moleg(corpus)
    if args.check:
        problems = check(sets, corpus)
        for p in problems:
            print(p)
        print(f"검사한 질문 {sum(len(r) for r in sets.values())}개, 문제 {len(problems)}개")
        return 1 if problems else 0
    write(sets, GOLD_DIR)
    for name, rows in sets.items():
        print(f"{name}: {len(rows)}문항 (dev {sum(r['split'] == 'dev' for r in rows)}, "
              f"답 없음 {sum(not r['answerable'] for r in rows)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
