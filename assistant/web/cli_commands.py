"""CLI commands of the web app: ``assistant serve`` and ``assistant user add|list|passwd``."""

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


def add_web_commands(sub: Any) -> None:
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
    add.set_defaults(func=cmd_user_add)
    ls = uss.add_parser("list", help="사용자 목록")
    ls.set_defaults(func=cmd_user_list)
    pw = uss.add_parser("passwd", help="비밀번호 바꾸기")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(func=cmd_user_passwd)


def _sessions(settings: Settings) -> Any:
    from assistant.web.db import database_url, make_engine, session_factory, upgrade

    engine = make_engine(database_url(settings))
    upgrade(engine)
    return session_factory(engine)


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
                           department=args.department, display_name=args.display_name)
        name = user.username
    role = "관리자" if args.admin else "사용자"
    dept = f", 부서 {args.department}" if args.department else ""
    print(f"{role} '{name}'을(를) 추가했습니다 (열람 등급 {clearance}{dept}).")
    if generated:
        print(f"임시 비밀번호: {password}\n(한 번만 표시됩니다. "
              f"'assistant user passwd {name}'로 바꿀 수 있습니다.)")
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
    from sqlalchemy import delete, select

    from assistant.web.auth import check_password_strength, hash_password
    from assistant.web.db import User, WebSession

    password, generated = _read_password(args.password_stdin)
    check_password_strength(password)
    with _sessions(settings).begin() as db:
        user = db.scalar(select(User).where(User.username == args.name))
        if user is None:
            raise AssistantError(f"사용자 '{args.name}'이(가) 없습니다. 'assistant user list'로 확인하세요.")
        user.password_hash = hash_password(password)
        db.execute(delete(WebSession).where(WebSession.user_id == user.id))
    print(f"'{args.name}'의 비밀번호를 바꿨습니다. 기존 로그인은 모두 끝났습니다.")
    if generated:
        print(f"새 임시 비밀번호: {password}")
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
                    display_name="관리자")
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
            print("로그인한 뒤 '관리' 화면에서 직원 계정을 만드세요.")
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
