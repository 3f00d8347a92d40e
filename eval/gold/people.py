"""The ``people-*`` gold sets: questions written the way three kinds of people type them.

    python -m eval.gold.people --check            # every people-*.jsonl: schema, split, gold excerpts, lead facts
    python -m eval.gold.people --stats            # counts per set, persona, type and split (no question text)

Written after the lesson that gold sets in one style, used for tuning, overstated Recall@5 (0.99 on the
team's own questions, 0.63 on independent ones). Each question is phrased by a *citizen* (시민), a *new
주무관* or a *팀장 in a hurry*, with key words that differ from the document's (며칠/기간, 돈/비용,
내다/제출하다, 늘리다/연장하다, 알려주다/통지하다), and names the fact that must lead the answer (``lead``).

The split is fixed by a hash of the id (:func:`people_split`): about 40 % ``dev`` (for tuning) and 60 %
``blind`` (never used to choose a setting, reported beside dev). The checker refuses a row whose split
does not follow the hash, so no question can be moved between the two after the fact.

Record fields beyond the common schema (eval/README.md): ``persona`` (citizen | officer | lead),
``qtype`` (see :data:`QTYPES`), ``lead`` (list of alternative strings; the answer's first sentence must
contain one of them, spacing ignored), ``paraphrase`` (which of the question's words differ from the
document's, for the reader).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from eval import GOLD_DIR
from eval.textmatch import normalise

PEOPLE_SETS = ("people-laws", "people-welfare", "people-allganize")
PERSONAS = ("citizen", "officer", "lead")
QTYPES = ("기간", "금액", "대상", "방법", "가능여부", "장소", "서류", "정의", "기타")
BLIND_SHARE = 60  # percent of questions in the blind split
REQUIRED = ("id", "set", "split", "question", "answerable", "gold", "match", "reference", "persona", "qtype", "lead")


def people_split(qid: str) -> str:
    """Stable dev/blind assignment from the id (about 40/60); a different hash salt from the old sets."""
    h = int(hashlib.sha256(("people:" + qid).encode("utf-8")).hexdigest()[:8], 16)
    return "blind" if h % 100 < BLIND_SHARE else "dev"


def lead_found(lead: list[str], text: str) -> bool:
    """True when one of the lead alternatives occurs in ``text`` (NFC, spacing and markup ignored)."""
    t = normalise(text)
    return any(normalise(x) and normalise(x) in t for x in lead)


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: JSON 오류 {exc.msg}") from None
    return rows


def check_rows(rows: list[dict[str, Any]], corpus: Path, set_name: str) -> list[str]:
    from eval.gold.author import check_gold_passage

    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_q: set[str] = set()
    cache: dict[str, list[Any]] = {}
    for row in rows:
        rid = row.get("id", "?")
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            problems.append(f"{rid}: 필드 없음 {missing}")
            continue
        if rid in seen_ids:
            problems.append(f"{rid}: id 중복")
        seen_ids.add(rid)
        q = unicodedata.normalize("NFC", row["question"])
        if q != row["question"]:
            problems.append(f"{rid}: 질문이 NFC가 아님")
        if normalise(q) in seen_q:
            problems.append(f"{rid}: 같은 질문이 이미 있음")
        seen_q.add(normalise(q))
        if row["set"] != set_name:
            problems.append(f"{rid}: set={row['set']} (파일은 {set_name})")
        if row["split"] != people_split(rid):
            problems.append(f"{rid}: split={row['split']}인데 해시 규칙은 {people_split(rid)}")
        if row["persona"] not in PERSONAS:
            problems.append(f"{rid}: persona {row['persona']!r} (가능: {PERSONAS})")
        if row["qtype"] not in QTYPES:
            problems.append(f"{rid}: qtype {row['qtype']!r} (가능: {QTYPES})")
        if row["answerable"]:
            if not row["gold"] or not isinstance(row["lead"], list) or not row["lead"]:
                problems.append(f"{rid}: 답이 있는 질문에 gold 또는 lead가 없음")
                continue
        else:
            if row["gold"]:
                problems.append(f"{rid}: 답 없는 질문에 gold가 있음")
            continue
        lead_ok = False
        for g in row["gold"]:
            found, at = check_gold_passage(rid, g, corpus, cache)
            problems += found
            if any(lead_found(row["lead"], c.text) for c in at):
                lead_ok = True
        if not lead_ok:
            problems.append(f"{rid}: lead {row['lead']}가 gold 위치의 본문에 없음")
    return problems


def main(argv: list[str] | None = None) -> int:
    from eval.corpora import default_corpus_root

    ap = argparse.ArgumentParser(description="people-* 골드셋 검증과 통계")
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--stats", action="store_true")
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args(argv)
    corpus = args.corpus or default_corpus_root()
    files = args.files or [GOLD_DIR / f"{s}.jsonl" for s in PEOPLE_SETS if (GOLD_DIR / f"{s}.jsonl").is_file()]
    status = 0
    for path in files:
        rows = load(path)
        if args.check:
            problems = check_rows(rows, corpus, path.stem)
            for p in problems:
                print(f"{path.name}: {p}")
            print(f"{path.name}: {len(rows)}문항, 문제 {len(problems)}개")
            status |= bool(problems)
        if args.stats or not args.check:
            c = Counter((r["split"], r["persona"], r["answerable"]) for r in rows)
            types = Counter(r["qtype"] for r in rows)
            print(f"{path.name}: {len(rows)}문항 · " + ", ".join(f"{k}: {v}" for k, v in sorted(c.items(), key=str))
                  + " · 유형 " + ", ".join(f"{k} {v}" for k, v in types.most_common()))
    return status


if __name__ == "__main__":
    sys.exit(main())
