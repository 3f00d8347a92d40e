"""``assistant summarize | draft-reply | draft-report``: the writing tasks from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError


def add_commands(sub: Any) -> None:
    sm = sub.add_parser("summarize", help="문서를 개조식으로 요약 (파일 하나, 여러 파일 또는 폴더 일괄)")
    sm.add_argument("paths", nargs="+", help="파일·폴더 (--index와 함께 쓰면 색인의 문서 ID 또는 원본 경로도 가능)")
    sm.add_argument("--index", help="색인 이름: 디스크에 없는 대상을 이 색인에 저장된 문서로 요약")
    sm.add_argument("--out", type=Path, help="출력 폴더 (일괄 요약 기본: ASSISTANT_SUMMARY_OUT_DIR)")
    sm.add_argument("--length", help="분량: one-page | five-lines | 'N lines' (기본: ASSISTANT_SUMMARY_LENGTH)")
    sm.add_argument("--scope", help="요약 범위: 법령의 '제3장', '제2장 제1절', '제10조~제20조' 또는 보고서의 절 제목")
    sm.add_argument("--format", dest="formats", help="출력 형식, 쉼표로 구분: md,docx,hwpx (기본: md)")
    sm.add_argument("--json", action="store_true", help="JSON으로 출력")
    sm.add_argument("--quiet", action="store_true", help="진행 표시줄 없이 결과만 출력")
    sm.set_defaults(func=cmd_summarize)

    dr = sub.add_parser("draft-reply", help="민원 답변서 초안 작성 (개인정보 가림, 민원 유형·처리기한, 근거 법령)")
    src = dr.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="민원 내용")
    src.add_argument("--file", type=Path, help="민원 내용이 담긴 파일 (TXT, HWP, HWPX, DOCX, PDF)")
    dr.add_argument("--index", help="근거를 찾을 색인 이름 (기본: default)")
    dr.add_argument("--received", help="접수일시 YYYY-MM-DD 또는 YYYY-MM-DDTHH:MM (기본: 지금)")
    dr.add_argument("--json", action="store_true", help="JSON으로 출력")
    dr.add_argument("--out", type=Path, help="답변서 파일로 저장 (확장자 .md/.docx/.hwpx 또는 --format)")
    dr.add_argument("--format", dest="formats", help="저장 형식, 쉼표로 구분: md,docx,hwpx")
    dr.set_defaults(func=cmd_draft_reply)

    rp = sub.add_parser("draft-report", help="보고서·보도자료 초안 작성 (고른 문서나 검색 범위에서, 출처 번호 포함)")
    rp.add_argument("topic", help="주제나 지시 (예: \"2024년 2월 재정동향 보고\")")
    rp.add_argument("--doc", dest="docs", action="append", default=[],
                    help="출처 문서: 파일 경로, 또는 --index 색인의 문서 ID·원본 경로 (여러 번 지정 가능)")
    rp.add_argument("--scope", help="출처를 찾을 검색어 (색인에서 검색한 문서를 출처로 씀)")
    rp.add_argument("--kind", default="보고서", help="문서 종류: 보고서 | 보도자료 (기본: 보고서)")
    rp.add_argument("--index", help="색인 이름 (--scope나 문서 ID를 쓸 때, 기본: default)")
    rp.add_argument("--agency", default="", help="보도자료의 기관명 (없으면 【기관명】 빈칸)")
    rp.add_argument("--release", help="보도 일시 YYYY-MM-DD 또는 YYYY-MM-DDTHH:MM (없으면 【보도 일시】 빈칸)")
    rp.add_argument("--contact", default="", help="보도자료의 담당 부서·담당자 (없으면 빈칸)")
    rp.add_argument("--format", dest="formats", help="저장 형식, 쉼표로 구분: md,docx,hwpx (-o의 확장자가 우선)")
    rp.add_argument("-o", "--out", type=Path, help="초안 파일로 저장 (확장자 .md/.docx/.hwpx 또는 --format)")
    rp.add_argument("--json", action="store_true", help="JSON으로 출력")
    rp.set_defaults(func=cmd_draft_report)


# --------------------------------------------------------------------------------------- summarize

def cmd_summarize(args: argparse.Namespace, settings: Settings) -> int:
    targets = [Path(p) for p in args.paths]
    try:
        if args.index and not any(t.exists() for t in targets):
            return _summarize_indexed(args, settings)
        if len(targets) == 1 and targets[0].is_file():
            return _summarize_one(args, settings, targets[0])
        return _summarize_batch(args, settings, targets)
    except KeyboardInterrupt:
        print("\n중단되었습니다. 끝난 파일은 저장되어 있으며, 같은 명령을 다시 실행하면 이어서 요약합니다.",
              file=sys.stderr)
        return 130


def _formats(args: argparse.Namespace, settings: Settings) -> list[str]:
    from assistant.output import parse_formats

    return parse_formats(args.formats or settings.summary_formats)


def _print_summary(summary: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
        return
    print(f"{summary.title}\n")
    print(summary.text)
    for w in summary.warnings:
        print(f"경고: {w}", file=sys.stderr)


def _summarize_one(args: argparse.Namespace, settings: Settings, path: Path) -> int:
    from assistant.output import write_outputs
    from assistant.tasks.summarize import summarize_document
    from assistant.tasks.summarize_batch import output_names, summary_output_document

    summary = summarize_document(path, settings=settings, length=args.length, scope=args.scope)
    _print_summary(summary, args.json)
    if args.out:
        written = write_outputs(summary_output_document(summary), args.out / output_names([path])[path],
                                _formats(args, settings))
        print("저장: " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


def _summarize_indexed(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.output import write_outputs
    from assistant.tasks.summarize import summarize_indexed
    from assistant.tasks.summarize_batch import summary_output_document

    summaries = [summarize_indexed(t, settings=settings, index_name=args.index, length=args.length,
                                   scope=args.scope) for t in args.paths]
    if args.json:
        data: Any = [s.to_json() for s in summaries]
        print(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2))
    else:
        for s in summaries:
            _print_summary(s, False)
            print()
    if args.out:
        for s in summaries:
            write_outputs(summary_output_document(s), args.out / (s.doc_id or "summary"), _formats(args, settings))
    return 0


def _summarize_batch(args: argparse.Namespace, settings: Settings, targets: list[Path]) -> int:
    from tqdm import tqdm

    from assistant.tasks.summarize_batch import summarize_batch

    missing = [t for t in targets if not t.exists()]
    if missing:
        raise AssistantError(f"파일이나 폴더가 없습니다: {', '.join(map(str, missing))}")
    out = args.out or settings.summary_out_dir
    bar = tqdm(total=0, unit="파일", file=sys.stderr, disable=args.quiet or None, dynamic_ncols=True)

    def on_progress(item: Any) -> None:
        bar.update(1)
        if item.status == "failed":
            bar.write(f"실패: {item.file} — {item.error}", file=sys.stderr)

    def set_total(n: int) -> None:
        bar.total = n
        bar.refresh()

    try:
        report = summarize_batch(targets, out, settings=settings, formats=_formats(args, settings),
                                 length=args.length, on_progress=on_progress, total_hint=set_total)
    finally:
        bar.close()
    if args.json:
        print(json.dumps({"out_dir": str(report.out_dir), "index_csv": str(report.index_csv),
                          "items": [{**i.csv_row(), "outputs": i.outputs} for i in report.items]},
                         ensure_ascii=False, indent=2))
    print(f"요약 '{report.out_dir}': 성공 {report.count('ok')}개, 실패 {report.count('failed')}개, "
          f"이전 실행에서 완료 {report.count('skipped')}개, 지원하지 않는 형식 {report.count('unsupported')}개, "
          f"{report.seconds:.1f}초 — 목록: {report.index_csv}", file=sys.stderr if args.json else sys.stdout)
    return 0 if report.ok else 1


# --------------------------------------------------------------------------------------- draft-reply

def _draft_targets(out: Path, formats: str | None) -> list[tuple[str, Path]]:
    from assistant.output import FORMATS, parse_formats

    suffix = out.suffix.lower().lstrip(".")
    if not formats and suffix in FORMATS:
        return [(suffix, out)]
    fmts = parse_formats(formats or "md")
    base = out.with_suffix("") if suffix in FORMATS else out
    return [(f, base.with_name(base.name + f".{f}")) for f in fmts]


def cmd_draft_reply(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.output import writer_for
    from assistant.tasks.draft_reply import draft_output_document, draft_reply, read_complaint_file

    text = args.text if args.text is not None else read_complaint_file(args.file, settings)
    draft = draft_reply(text, settings=settings, received=args.received, index_name=args.index)
    if args.json:
        print(json.dumps(draft.to_json(), ensure_ascii=False, indent=2))
    else:
        from datetime import date, datetime

        from assistant.output.notation import format_date, format_datetime

        dl = draft.deadline
        # the official notation ("2026. 12. 9." / "2026. 12. 9. 14:00"), as in the written draft
        due = (format_datetime(datetime.fromisoformat(dl["due_at"])) if dl.get("due_at")
               else format_date(date.fromisoformat(dl["due"])))
        print(f"민원 유형: {draft.complaint_type_label}\n처리기한: {due} ({dl['period_article']})")
        if draft.masked:
            kinds = sorted({m["kind"] for m in draft.masked})
            print(f"가린 개인정보: {len(draft.masked)}건 ({', '.join(kinds)})")
        print("\n" + draft.reply)
    if args.out:
        doc = draft_output_document(draft)
        for fmt, path in _draft_targets(args.out, args.formats):
            writer_for(fmt)(doc, path)
            print(f"저장: {path}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------- draft-report

def cmd_draft_report(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.output import writer_for
    from assistant.tasks.draft_report import draft_report, report_output_document

    retriever = None
    if args.index and (args.scope or not all(Path(d).is_file() for d in args.docs) or not args.docs):
        from assistant.retrieve.search import open_retriever

        retriever = open_retriever(settings, args.index)
    draft = draft_report(args.topic, settings=settings, docs=args.docs, scope=args.scope, kind=args.kind,
                         retriever=retriever, index_name=args.index, agency=args.agency, released=args.release,
                         contact=args.contact)
    if args.json:
        print(json.dumps(draft.to_json(), ensure_ascii=False, indent=2))
    else:
        print(f"{draft.title}\n")
        print(draft.text)
    for w in draft.warnings:
        print(f"경고: {w}", file=sys.stderr)
    if args.out:
        doc = report_output_document(draft)
        for fmt, path in _draft_targets(args.out, args.formats):
            writer_for(fmt)(doc, path)
            print(f"저장: {path}", file=sys.stderr)
    return 0
