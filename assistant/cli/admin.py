"""CLI commands for operators: ``assistant backup <folder>`` and ``assistant restore <folder>``.

The work is in :mod:`assistant.backup`; this module parses, prints in Korean and records both in the audit
log as "(명령줄)" — a backup in the live log it copied, a restore in the log it put back (so the restored
chain shows when and from which backup it was restored).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings


def add_commands(sub: Any) -> None:
    bk = sub.add_parser("backup", help="웹 앱 데이터베이스·비밀 키·모든 색인·업로드 파일을 한 폴더로 백업")
    bk.add_argument("target", type=Path, help="만들 백업 폴더 (없거나 비어 있어야 함)")
    bk.add_argument("--lock-wait", type=float, default=300.0,
                    help="색인에 다른 작업이 쓰는 중일 때 기다릴 최대 초 (기본 300)")
    bk.set_defaults(func=cmd_backup)

    rs = sub.add_parser("restore", help="백업 폴더에서 복원 (서버를 멈춘 뒤 실행; 무결성을 먼저 확인)")
    rs.add_argument("source", type=Path, help="'assistant backup'이 만든 폴더")
    rs.add_argument("--force", action="store_true",
                    help="기존 데이터가 있어도 복원 (기존 폴더는 '…before-restore-시각'으로 옆에 남김)")
    rs.add_argument("--check", action="store_true", help="복원하지 않고 백업의 무결성만 확인")
    rs.set_defaults(func=cmd_restore)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _record(settings: Settings, action: str, detail: str, result: str = "ok") -> None:
    from assistant.cli.web import _sessions
    from assistant.web.deps import audit

    with _sessions(settings).begin() as db:
        audit(db, None, action, "", [], detail, username="(명령줄)", result=result)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.backup import BackupError, backup

    try:
        summary = backup(settings, args.target, lock_wait_s=args.lock_wait, progress=_say)
    except BackupError as exc:
        try:
            _record(settings, "backup", f"{args.target}: {exc}"[:500], result="failed")
        except Exception:  # noqa: BLE001 - the backup's own error is the one to show
            pass
        raise
    _record(settings, "backup", f"{summary.path} (파일 {summary.files}개, {_mb(summary.bytes)})")
    counts = summary.counts
    print(f"백업을 만들었습니다: {summary.path}")
    print(f"  데이터베이스 {summary.database}: 사용자 {counts.get('users', 0)}명, "
          f"감사 기록 {counts.get('audit_log', 0)}개, 작업 {counts.get('jobs', 0)}개, "
          f"대화 {counts.get('conversations', 0)}개")
    print(f"  색인 {len(summary.indexes)}개: {', '.join(summary.indexes) or '(없음)'}")
    print(f"  파일 {summary.files}개, {_mb(summary.bytes)}, {summary.seconds:.1f}초")
    print("이 폴더에는 비밀 키가 들어 있습니다. 다른 저장 장치로 옮기고 접근을 제한하세요.")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.backup import read_manifest, restore

    if args.check:
        manifest = read_manifest(args.source)
        print(f"백업 {args.source}: 파일 {len(manifest['files'])}개가 모두 온전합니다 "
              f"(만든 때 {manifest['created']}, 데이터베이스 {manifest['database']}).")
        return 0
    summary = restore(settings, args.source, force=args.force, progress=_say)
    _record(settings, "restore", f"{summary.path} (백업 시각 {summary.created})")
    counts = summary.counts
    print(f"복원했습니다: {summary.path} (백업 시각 {summary.created}, {summary.seconds:.1f}초)")
    print(f"  사용자 {counts.get('users', 0)}명, 감사 기록 {counts.get('audit_log', 0)}개, "
          f"색인 {', '.join(summary.indexes) or '(없음)'}")
    if summary.moved_from:
        print(f"주의: 백업은 데이터 폴더 {summary.moved_from}에서 만들었고 지금은 {settings.data_dir}에 복원했습니다. "
              "데이터베이스와 색인에는 업로드 원본·작업 결과가 원래 경로로 적혀 있어 원문·결과 내려받기가 되지 "
              f"않습니다. 같은 경로({summary.moved_from})에 데이터 폴더를 두거나 그 경로로 링크를 만드세요.")
    for folder in summary.set_aside:
        print(f"  이전 폴더를 남겨 두었습니다: {folder} (확인이 끝나면 지워도 됩니다)")
    print("서버를 시작한 뒤 'assistant audit verify'로 감사 기록을 확인하세요.")
    return 0
