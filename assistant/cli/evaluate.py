"""``assistant eval``: the evaluation harness (the ``eval`` package) from the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError


def add_commands(sub: Any) -> None:
    ev = sub.add_parser("eval", help="골드셋으로 검색·답변 정확도를 평가하고 보고서(Markdown·JSON·PNG) 작성")
    ev.add_argument("--config", action="append", default=None, metavar="NAME",
                    help="평가 설정 이름 또는 YAML 경로 (여러 번 지정 가능; 기본: eval/configs의 전부)")
    ev.add_argument("--sets", nargs="+", default=None, metavar="SET",
                    help="골드셋 (기본: 전부) — moleg-interpretations-qa korean-laws-minwon korean-laws-admin "
                         "welfare-services-2023 allganize-public-docs")
    ev.add_argument("--split", default="test", choices=["dev", "test", "all"], help="평가할 분할 (기본 test)")
    ev.add_argument("--out", type=Path, default=None, help="보고서 폴더 (기본: eval/reports/<시각>)")
    ev.add_argument("--corpus", type=Path, default=None, help="말뭉치 루트 (기본: ../shared/corpus)")
    ev.add_argument("--work-dir", type=Path, default=Path("eval/reports/.cache"),
                    help="평가용 색인 캐시 폴더 (기본 eval/reports/.cache)")
    ev.add_argument("--limit", type=int, default=None, help="골드셋마다 앞에서부터 이 개수만 (빠른 점검용)")
    ev.add_argument("--no-answers", action="store_true", help="답변(ask) 평가 생략")
    ev.add_argument("--no-tasks", action="store_true", help="요약·민원 답변 평가 생략")
    ev.add_argument("--no-sts", action="store_true", help="KLUE-STS 임베더 점검 생략")
    ev.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace, settings: Any) -> int:
    from eval.report import write_report
    from eval.runner import RunOptions, run

    if args.limit is not None and args.limit <= 0:
        raise AssistantError("--limit은 1 이상이어야 합니다.")
    out = args.out or Path("eval/reports") / datetime.now().strftime("%Y%m%d-%H%M%S")
    opts = RunOptions(configs=args.config, sets=args.sets, split=args.split, corpus=args.corpus,
                      work_dir=args.work_dir, answers=not args.no_answers, tasks=not args.no_tasks,
                      sts=not args.no_sts, limit=args.limit)
    report = run(opts, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    files = write_report(report, out)
    print(f"보고서: {out / 'report.md'} (파일 {len(files)}개)")
    for t in report["targets"]:
        state = "–" if t["met"] is None else ("충족" if t["met"] else "미달")
        print(f"  {t['label']}: {t['achieved']} (목표 {t['goal']}, {state})")
    return 0
