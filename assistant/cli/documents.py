"""``assistant ingest | remove | index | semantic``: what goes into an index, and the index itself."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.runtime import configure


def add_commands(sub: Any) -> None:
    from assistant.ingest.base import supported_extensions

    kinds = ", ".join(e.lstrip(".").upper() for e in supported_extensions())
    ing = sub.add_parser("ingest", help=f"파일·폴더를 색인에 추가 ({kinds})")
    ing.add_argument("paths", nargs="+", type=Path)
    ing.add_argument("--index", help="색인 이름 (기본: default)")
    ing.add_argument("--access-level", default="공개", help="열람 등급: 공개 | 내부 | 부서")
    ing.add_argument("--department", default="", help="담당 부서 (부서 등급 문서에 필수)")
    ing.add_argument("--prune", action="store_true", help="지정한 폴더에서 사라진 파일의 문서를 색인에서 삭제")
    ing.add_argument("--quiet", action="store_true", help="진행 표시줄 없이 요약만 출력")
    ing.add_argument("--semantic", choices=["now", "later"], default="now",
                     help="의미 검색 벡터(e5): now = 색인 직후 이어서 계산(기본, Ctrl-C로 멈춰도 검색 가능), "
                          "later = 건너뜀 (assistant semantic fill 또는 웹 앱이 나중에 채움)")
    ing.add_argument("--workers", type=int, default=0,
                     help="분산 색인: 이 컴퓨터에 작업자 프로세스 N개를 띄워 파싱·분석·임베딩을 나눠 처리 "
                          "(0 = 쓰지 않음)")
    ing.add_argument("--scheduler", default="",
                     help="분산 색인: 이미 실행 중인 Dask 스케줄러 주소 (예: tcp://10.0.0.5:8786); "
                          "파일은 모든 작업자가 같은 경로로 읽을 수 있어야 함")
    ing.set_defaults(func=cmd_ingest)

    sem = sub.add_parser("semantic", help="의미 검색 벡터(e5) 채우기·상태")
    sems = sem.add_subparsers(metavar="ACTION")
    sfill = sems.add_parser("fill", help="색인의 빠진 의미 검색 벡터를 계산")
    sfill.add_argument("--index")
    sfill.add_argument("--quiet", action="store_true")
    sfill.add_argument("--background", action="store_true",
                       help="낮은 우선순위·1스레드로 실행 (웹 앱이 쓰는 방식)")
    sfill.set_defaults(func=cmd_semantic_fill)
    sstat = sems.add_parser("status", help="의미 검색 벡터가 준비된 청크 수")
    sstat.add_argument("--index")
    sstat.set_defaults(func=cmd_semantic_status)

    rm = sub.add_parser("remove", help="문서를 색인에서 삭제 (문서 ID, 파일 경로 또는 폴더)")
    rm.add_argument("targets", nargs="+")
    rm.add_argument("--index")
    rm.set_defaults(func=cmd_remove)

    ix = sub.add_parser("index", help="색인 목록·정보·삭제")
    ixs = ix.add_subparsers(metavar="ACTION")
    ls = ixs.add_parser("list", help="색인 목록")
    ls.set_defaults(func=cmd_index_list)
    info = ixs.add_parser("info", help="색인 정보")
    info.add_argument("name", nargs="?")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=cmd_index_info)
    mrg = ixs.add_parser("merge", help="색인 세그먼트 합치기 (보통은 색인할 때 자동으로 합쳐짐)")
    mrg.add_argument("name", nargs="?")
    mrg.add_argument("--all", action="store_true", help="모든 세그먼트를 하나로 합치고 삭제된 청크를 비움")
    mrg.set_defaults(func=cmd_index_merge)
    rmi = ixs.add_parser("remove", help="색인 전체 삭제")
    rmi.add_argument("name")
    rmi.add_argument("--yes", action="store_true", help="확인 없이 삭제")
    rmi.set_defaults(func=cmd_index_remove)


def _store(settings: Settings, name: str | None):
    from assistant.index.store import IndexStore

    return IndexStore(settings.index_dir, name or settings.index_name)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from assistant.index.embedders import make_embedder
    from assistant.ingest.pipeline import Ingestor

    store = _store(settings, args.index)
    if args.workers or args.scheduler:
        return _ingest_distributed(args, settings, store)
    ingestor = Ingestor(settings, store, make_embedder(settings), args.access_level, args.department)
    bar = tqdm(total=0, unit="파일", file=sys.stderr, disable=args.quiet or None, dynamic_ncols=True)

    def on_file(outcome) -> None:
        bar.update(1)
        if outcome.status == "failed":
            # tqdm.write keeps the bar intact and still prints when the bar is disabled (--quiet)
            bar.write(f"실패: {outcome.path} — {outcome.reason}", file=sys.stderr)
        for warning in outcome.warnings:   # read, but something was replaced, skipped or reshaped
            bar.write(f"주의: {outcome.path} — {warning}", file=sys.stderr)

    def set_total(n: int) -> None:
        if args.quiet:  # one line even when quiet: scripts (and tests) can tell the work has begun
            print(f"색인 시작: 파일 {n}개", file=sys.stderr, flush=True)
        bar.total = n
        bar.refresh()

    try:
        report = ingestor.run(args.paths, on_file=on_file, total_hint=set_total)
    finally:
        bar.close()
    removed = 0
    if args.prune:
        removed = len(_prune(ingestor, store, args.paths))
    print(f"색인 '{store.name}': 성공 {report.count('ok')}개, 실패 {report.count('failed')}개, "
          f"건너뜀 {report.count('skipped')}개, 청크 {report.chunks}개"
          + (f", 삭제 {removed}개" if args.prune else "") + f", {report.seconds:.1f}초 (검색 가능)")
    if args.semantic == "now" and store.exists():
        _fill_semantic(settings, store, args.quiet)
    return 0 if report.ok else 1


def _ingest_distributed(args: argparse.Namespace, settings: Settings, store: Any) -> int:
    """``ingest --workers N`` / ``--scheduler ADDRESS``: the cluster parses, analyses and embeds; this
    process commits (assistant/ingest/distributed.py)."""
    from assistant.index.embedders import make_embedder
    from assistant.ingest.distributed import DistributedIngestor, cluster_client, fill_semantic_on_cluster

    def on_file(outcome: Any) -> None:
        if outcome.status == "failed":
            print(f"실패: {outcome.path} — {outcome.reason}", file=sys.stderr)

    with cluster_client(args.scheduler, args.workers or 2) as client:
        workers = len(client.scheduler_info().get("workers", {}))
        print(f"분산 색인: 작업자 {workers}개", file=sys.stderr, flush=True)
        ingestor = DistributedIngestor(settings, store, make_embedder(settings), client, args.access_level,
                                       args.department)
        report = ingestor.run(args.paths, on_file=on_file,
                              total_hint=lambda n: print(f"색인 시작: 파일 {n}개", file=sys.stderr, flush=True))
        print(f"색인 '{store.name}': 성공 {report.count('ok')}개, 실패 {report.count('failed')}개, "
              f"건너뜀 {report.count('skipped')}개, 청크 {report.chunks}개, {report.seconds:.1f}초 (검색 가능)")
        if args.prune:
            print(f"삭제 {len(_prune(ingestor, store, args.paths))}개")
        if args.semantic == "now" and store.exists():
            filled = fill_semantic_on_cluster(client, settings, store)
            if filled.todo:
                print(f"의미 검색 벡터 {filled.done:,}개 계산 (작업자 {workers}개), {filled.seconds:.1f}초")
    return 0 if report.ok else 1


def _fill_semantic(settings: Settings, store, quiet: bool) -> None:
    """Compute the semantic vectors the index lacks, with a progress bar; Ctrl-C keeps what is done."""
    import threading

    from tqdm import tqdm

    from assistant.index.semantic import fill_index, semantic_enabled

    if not semantic_enabled(settings):
        return
    stop = threading.Event()
    bar = tqdm(total=0, unit="청크", desc="의미 검색 벡터", file=sys.stderr, disable=quiet or None, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        report = fill_index(settings, store, stop=stop, progress=progress)
    except KeyboardInterrupt:
        stop.set()
        bar.close()
        print("의미 검색 벡터 계산을 멈췄습니다. 검색은 그대로 되며, 남은 벡터는 "
              f"'assistant semantic fill --index {store.name}' 또는 웹 앱이 채웁니다.", file=sys.stderr)
        return
    finally:
        bar.close()
    if report.busy:
        print("다른 작업이 의미 검색 벡터를 계산하고 있어 건너뜁니다.", file=sys.stderr)
    elif report.todo:
        print(f"의미 검색 벡터 {report.done:,}개 계산, {report.seconds:.1f}초")


def cmd_semantic_fill(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings, args.index)
    store.manifest()  # clear error if the index does not exist
    if args.background:
        os.nice(10)
        settings = settings.with_overrides(threads=1)
        configure(settings)   # a background helper of the server: one thread everywhere
    _fill_semantic(settings, store, args.quiet)
    return 0


def cmd_semantic_status(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.index.semantic import coverage

    store = _store(settings, args.index)
    have, total = coverage(settings, store)
    print(f"색인 '{store.name}': 의미 검색 벡터 {have:,}/{total:,}개 준비됨 ({settings.semantic_embedder})")
    return 0


def _prune(ingestor, store, roots: Sequence[Path]) -> list[str]:
    if not store.exists():
        return []
    prefixes = [str(Path(r).resolve()).rstrip("/") + "/" for r in roots if Path(r).is_dir()]
    gone = [doc_id for doc_id, e in store.manifest().documents.items()
            if any(e.source.startswith(p) for p in prefixes) and not Path(e.source).exists()]
    return ingestor.remove(gone) if gone else []


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.index.embedders import make_embedder
    from assistant.ingest.pipeline import Ingestor

    store = _store(settings, args.index)
    store.manifest()  # clear error if the index does not exist
    removed = Ingestor(settings, store, make_embedder(settings)).remove(args.targets)
    print(f"색인 '{store.name}'에서 문서 {len(removed)}개를 삭제했습니다.")
    return 0 if removed else 1


def cmd_index_list(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.index.store import IndexStore, list_indexes

    names = list_indexes(settings.index_dir)
    if not names:
        print(f"색인이 없습니다 ({settings.index_dir}).")
    for name in names:
        m = IndexStore(settings.index_dir, name).manifest()
        print(f"{name}\t문서 {len(m.documents)}개\t청크 {m.chunk_count}개\t{m.embedder['name']}\t{m.updated}")
    return 0


def cmd_index_info(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings, args.name)
    m = store.manifest()
    data = m.to_json()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    folders = [store.current_dir(), *(store.path / s.name for s in m.segments)]
    size = sum(f.stat().st_size for d in folders for f in d.rglob("*") if f.is_file())
    print(f"색인: {m.name} ({store.current_dir()})\n"
          f"형식 버전: {m.format_version}, 세대: {m.generation}, 세그먼트 {len(m.segments) or 1}개, 갱신: {m.updated}")
    if m.embedder.get("dim"):
        e = m.embedder
        print(f"임베더: {e['name']} ({e['model']}, {e['dim']}차원), 밀집 색인: {m.dense_index}")
    else:   # embedder none: BM25 and the semantic layer only
        print(f"임베더: {m.embedder['name']} (색인 시 밀집 벡터 없음: BM25와 의미 검색 벡터만 사용)")
    print(f"청킹: {m.chunking}\n문서 {len(m.documents)}개, 청크 {m.chunk_count}개, 디스크 {size / 1e6:.1f} MB")
    return 0


def cmd_index_merge(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings, args.name)
    store.manifest()  # clear error if the index does not exist
    before, after = store.merge(force=args.all, hnsw_m=settings.hnsw_m)
    print(f"색인 '{store.name}': 세그먼트 {before}개 → {after}개")
    return 0


def cmd_index_remove(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings, args.name)
    if not args.yes and sys.stdin.isatty():
        if input(f"색인 '{store.name}'을 삭제할까요? [y/N] ").strip().lower() not in ("y", "yes", "예"):
            print("취소했습니다.")
            return 1
    store.remove()
    print(f"색인 '{store.name}'을 삭제했습니다.")
    return 0
