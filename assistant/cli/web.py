"""CLI commands of the web app: ``assistant serve``, ``assistant user add|list|passwd|unlock`` and
``assistant audit verify|prune``. User changes made here are recorded in the audit log as "(명령줄)"."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import logging
import os
import sys
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.retrieve.filters import ACCESS_LEVELS


def add_commands(sub: Any) -> None:
    sv = sub.add_parser("serve", help="웹 앱 실행 (기본: 이 컴퓨터에서만 접속 127.0.0.1:8000)")
    sv.add_argument("--host", default="127.0.0.1", help="바인딩 주소 (다른 컴퓨터에서 접속하게 하려면 명시적으로 지정)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1,
                    help="서버 프로세스 수 (CPU 코어 수까지; 각 프로세스가 형태소 분석기와 색인을 따로 올림)")
    sv.add_argument("--init-admin", action="store_true",
                    help="사용자가 하나도 없으면 관리자 'admin'을 만들고 임시 비밀번호를 한 번 출력")
    sv.set_defaults(func=cmd_serve)

    us = sub.add_parser("user", help="웹 앱 사용자 관리")
    uss = us.add_subparsers(metavar="ACTION")
    add = uss.add_parser("add", help="사용자 추가")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="관리자 권한")
    add.add_argument("--clearance", default=None, help="열람 등급: 공개 | 내부 | 부서 (기본: 관리자 내부, 그 외 공개)")
    add.add_argument("--department", default="", help="소속 부서 (부서 등급 문서를 보려면 필요)")
    add.add_argument("--display-name", default="", help="화면에 보일 이름")
    add.add_argument("--password-stdin", action="store_true", help="비밀번호를 표준 입력에서 읽음 (스크립트용)")
    add.add_argument("--keep-password", action="store_true",
                     help="첫 로그인 때 비밀번호를 바꾸게 하지 않음 (본인이 정한 비밀번호, 서비스 계정)")
    add.set_defaults(func=cmd_user_add)
    ls = uss.add_parser("list", help="사용자 목록")
    ls.set_defaults(func=cmd_user_list)
    pw = uss.add_parser("passwd", help="비밀번호 바꾸기")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    pw.add_argument("--keep-password", action="store_true", help="다음 로그인 때 다시 바꾸게 하지 않음")
    pw.set_defaults(func=cmd_user_passwd)
    ul = uss.add_parser("unlock", help="로그인 실패로 생긴 대기를 모든 접속 주소에서 풂")
    ul.add_argument("name")
    ul.set_defaults(func=cmd_user_unlock)

    au = sub.add_parser("audit", help="감사 기록 점검")
    aus = au.add_subparsers(metavar="ACTION")
    ver = aus.add_parser("verify",
                         help="해시 연결을 다시 계산해 지워지거나 고쳐진 기록을 찾음 (문제가 있으면 종료 코드 1)")
    ver.set_defaults(func=cmd_audit_verify)
    pr = aus.add_parser("prune", help="보존기간(ASSISTANT_AUDIT_RETENTION_DAYS)이 지난 기록 삭제")
    pr.add_argument("--days", type=int, default=None, help="보존 일수 (기본: 설정값)")
    pr.set_defaults(func=cmd_audit_prune)


def _sessions(settings: Settings) -> Any:
    from assistant.web.audit import chain_key
    from assistant.web.auth import load_secret_key
    from assistant.web.db import database_url, make_engine, prepare_data_dir, session_factory, upgrade

    engine = make_engine(database_url(settings))
    upgrade(engine)
    secret = load_secret_key(settings.secret_key_file or prepare_data_dir(settings.data_dir) / "secret_key")
    return session_factory(engine, audit_key=chain_key(secret), secret=secret)


def _audit_cli(db: Any, action: str, detail: str) -> None:
    from assistant.web.deps import audit

    audit(db, None, action, "", [], detail, username="(명령줄)")


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated). stdin for scripts; a prompt on a terminal; otherwise a generated one."""
    from assistant.web.auth import generated_password

    if from_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
        if not pw:
            raise AssistantError("표준 입력에서 비밀번호를 읽지 못했습니다 (빈 줄).")
        return pw, False
    if sys.stdin.isatty():
        pw = getpass.getpass("비밀번호 (8자 이상): ")
        if pw != getpass.getpass("비밀번호 확인: "):
            raise AssistantError("두 비밀번호가 다릅니다. 다시 실행하세요.")
        return pw, False
    return generated_password(), True


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.web.auth import create_user

    clearance = args.clearance or ("내부" if args.admin else "공개")
    if clearance not in ACCESS_LEVELS:
        raise AssistantError(f"열람 등급은 {', '.join(ACCESS_LEVELS)} 중 하나여야 합니다 (입력: {clearance}).")
    password, generated = _read_password(args.password_stdin)
    with _sessions(settings).begin() as db:
        user = create_user(db, args.name, password, is_admin=args.admin, clearance=clearance,
                           department=args.department, display_name=args.display_name,
                           must_change_password=not args.keep_password)
        name = user.username
        _audit_cli(db, "user_add", f"{name} ({clearance}, {args.department or '부서 없음'}"
                                   f"{', 관리자' if args.admin else ''})")
    role = "관리자" if args.admin else "사용자"
    dept = f", 부서 {args.department}" if args.department else ""
    print(f"{role} '{name}'을(를) 추가했습니다 (열람 등급 {clearance}{dept}).")
    if generated:
        print(f"임시 비밀번호: {password}\n(한 번만 표시됩니다.)")
    if not args.keep_password:
        print("첫 로그인 때 '내 계정'에서 비밀번호를 바꾸도록 안내됩니다.")
    return 0


def cmd_user_list(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import select

    from assistant.web.db import User

    with _sessions(settings)() as db:
        users = db.scalars(select(User).order_by(User.username)).all()
        if not users:
            print("사용자가 없습니다. 'assistant user add 이름 --admin'으로 첫 관리자를 만드세요.")
        for u in users:
            flags = ", ".join(x for x in ("관리자" if u.is_admin else "", "" if u.active else "정지") if x)
            print(f"{u.username}\t{u.clearance}\t{u.department or '-'}\t{flags}")
    return 0


def cmd_user_passwd(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.web.auth import find_user, set_password
    from assistant.web.ratelimit import LoginGuard

    password, generated = _read_password(args.password_stdin)
    sessions = _sessions(settings)
    with sessions.begin() as db:
        user = find_user(db, args.name)
        if user is None:
            raise AssistantError(f"사용자 '{args.name}'이(가) 없습니다. 'assistant user list'로 확인하세요.")
        set_password(db, user, password, chosen_by_user=args.keep_password)
        LoginGuard(sessions.kw["info"]["secret"]).clear_account(db, user.username)
        _audit_cli(db, "user_change", f"{user.username}: 비밀번호 재설정")
    print(f"'{args.name}'의 비밀번호를 바꿨습니다. 기존 로그인은 모두 끝났습니다.")
    if generated:
        print(f"새 임시 비밀번호: {password}")
    if not args.keep_password:
        print("다음 로그인 때 비밀번호를 다시 바꾸도록 안내됩니다.")
    return 0


def cmd_user_unlock(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.web.auth import find_user
    from assistant.web.ratelimit import LoginGuard

    sessions = _sessions(settings)
    with sessions.begin() as db:
        user = find_user(db, args.name)
        if user is None:
            raise AssistantError(f"사용자 '{args.name}'이(가) 없습니다. 'assistant user list'로 확인하세요.")
        cleared = LoginGuard(sessions.kw["info"]["secret"]).clear_account(db, user.username)
        _audit_cli(db, "user_change", f"{user.username}: 로그인 대기 해제")
    print(f"'{user.username}'의 로그인 대기를 풀었습니다 (접속 주소 {cleared}곳).")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.web.audit import verify

    sessions = _sessions(settings)
    with sessions() as db:
        report = verify(db, sessions.kw["info"]["audit_key"])
    print(f"감사 기록 {report.checked}개를 확인했습니다.", end=" ")
    if report.legacy:
        print(f"(연결 도입 이전 또는 보존기간 정리 이전의 기록 {report.legacy}개는 검증 대상이 아닙니다.)", end=" ")
    if report.ok:
        print("지워지거나 고쳐진 기록이 없습니다.")
        return 0
    print(f"문제 {len(report.problems)}건:")
    for problem in report.problems[:50]:
        print(f"  - {problem}")
    if len(report.problems) > 50:
        print(f"  … 외 {len(report.problems) - 50}건")
    return 1


def cmd_audit_prune(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.web.audit import prune

    days = settings.audit_retention_days if args.days is None else args.days
    if days <= 0:
        print("보존기간이 0(영구 보관)이라 지울 기록이 없습니다.")
        return 0
    sessions = _sessions(settings)
    with sessions.begin() as db:
        removed = prune(db, sessions.kw["info"]["audit_key"], days)
    print(f"보존기간 {days}일이 지난 감사 기록 {removed}개를 지웠습니다.")
    return 0


def ensure_first_admin(settings: Settings) -> str | None:
    """Create 'admin' with a generated password when no user exists; return the password (else None)."""
    from sqlalchemy import func, select

    from assistant.web.auth import create_user, generated_password
    from assistant.web.db import User

    with _sessions(settings).begin() as db:
        if db.scalar(select(func.count()).select_from(User)):
            return None
        password = generated_password()
        create_user(db, "admin", password, is_admin=True, clearance="부서", department="관리부서",
                    display_name="관리자", must_change_password=True)
        return password


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from assistant.web.app import create_app

    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    if args.init_admin:
        password = ensure_first_admin(settings)
        if password:
            print("=" * 64)
            print("처음 실행입니다. 관리자 계정을 만들었습니다 (비밀번호는 지금 한 번만 표시됩니다):")
            print(f"  주소: {url}\n  사용자 이름: admin\n  비밀번호: {password}")
            print("첫 로그인 때 비밀번호를 바꾼 뒤, '관리' 화면에서 직원 계정을 만드세요.")
            print("=" * 64, flush=True)
    if not _is_loopback(args.host):
        print(f"주의: {args.host}에 바인딩합니다. 같은 망의 다른 컴퓨터에서 접속할 수 있습니다.", file=sys.stderr)
    _check_port(args.host, args.port)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    common = {"host": args.host, "port": args.port, "log_level": "warning", "access_log": False,
              "timeout_graceful_shutdown": 5}
    if args.workers > 1:
        from assistant.web.auth import load_secret_key

        _sessions(settings)  # migrate once here, before the workers start
        load_secret_key(settings.secret_key_file or settings.data_dir / "secret_key")
        os.environ["ASSISTANT_INDEX_DIR"] = str(settings.index_dir)  # workers read settings from the environment
        print(f"AI 행정비서 웹 앱: {url}  (프로세스 {args.workers}개, 끝내려면 Ctrl-C)", flush=True)
        uvicorn.run("assistant.web.app:create_app_from_env", factory=True, workers=args.workers, **common)
        return 0
    app = create_app(settings)
    print(f"AI 행정비서 웹 앱: {url}  (끝내려면 Ctrl-C)", flush=True)
    uvicorn.run(app, **common)
    return 0


def _check_port(host: str, port: int) -> None:
    """Fail with a clear message before loading anything when the address is taken."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise AssistantError(f"{host}:{port}에서 서버를 시작할 수 없습니다 ({exc.strerror or exc}). "
                                 "이미 실행 중인 서버가 있는지 확인하거나 --port로 다른 포트를 지정하세요.") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
