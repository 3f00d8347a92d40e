"""Back up and restore everything an installation keeps: the web database, the secret key, every index,
uploaded originals and the batch-job files the database still refers to.

A backup is a plain folder (copy it anywhere, tar it, put it on tape)::

    backup.json          what, when, from where; size and sha256 of every file below
    database/assistant.db       SQLite, copied with the online backup API (never a raw copy of a live file)
    database/postgresql.dump    or pg_dump's custom format when the app runs on PostgreSQL
    secret_key           signs sessions and keys the audit chain: without it the restored chain cannot verify
    data/uploads/…       originals uploaded through the web app
    data/jobs/<id>/…     batch-job folders of jobs still in the database
    indexes/<name>/…     each index folder as its write lock saw it (generations, CURRENT, semantic vectors)

Why this shape:

- The backup is written under a temporary name and renamed at the end, so a folder called ``target`` is
  always a complete backup; an interrupted one leaves ``target.tmp-<pid>`` that nothing mistakes for one.
- The database is copied first, then files. Uploads and job results are written before the row that names
  them is committed, so files copied later are a superset of what the copied database refers to.
- Each index is captured under its write lock (readers go on), held only while its files are hard-linked
  into a staging folder beside it and its SQLite files copied; the copy to the backup disk follows after.
  The layout inside is not interpreted: every file except locks and temporaries is taken, and SQLite
  files — the semantic vectors are filled without that lock — go through the backup API. A change of the
  index format needs no change here; a restore is checked by opening the indexes, not by file names.
- Restore verifies every checksum first, builds the new data and index folders next to the live ones, and
  only then swaps them in with renames (PostgreSQL: one ``pg_restore --single-transaction``). A failure
  before the swap leaves everything as it was; the previous folders are kept as ``…before-restore-<time>``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.ingest.pipeline import sha256_of

FORMAT = 1
MANIFEST = "backup.json"
#: the staging folder a backup makes inside the index folder (same file system, so hard links work)
STAGE_PREFIX = ".backup-snapshot-"
SQLITE_FILE = "database/assistant.db"
PG_FILE = "database/postgresql.dump"
SQLITE_MAGIC = b"SQLite format 3\x00"
#: never copied: locks, half-written temporaries, SQLite side files (the backup API copy is complete alone)
_SKIP_SUFFIXES = (".lock", ".tmp", "-wal", "-shm", "-journal")


class BackupError(AssistantError):
    """A backup or restore could not be done; the message names the file, the problem and what to do."""


@dataclass
class Summary:
    """What a backup holds (also what a restore put back)."""

    path: Path
    created: str
    database: str
    files: int
    bytes: int
    indexes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    set_aside: list[Path] = field(default_factory=list)
    #: the data folder the backup was made from, when it differs from where it was restored
    moved_from: str = ""


# ------------------------------------------------------------------------------------------------ backup

def backup(settings: Settings, target: Path, *, lock_wait_s: float = 300.0,
           progress: Callable[[str], None] | None = None) -> Summary:
    """Write a complete backup to ``target`` (which must not exist or be an empty folder)."""
    started = time.monotonic()
    say = progress or (lambda _msg: None)
    target = Path(target).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"백업 위치 {target}에 이미 파일이 있습니다. 비어 있는 새 폴더 이름을 지정하세요.")
    data_dir, index_dir = _abs(settings.data_dir), _abs(settings.index_dir)
    if _inside(target, data_dir) or _inside(target, index_dir):
        raise BackupError(f"백업 위치 {target}이(가) 데이터 폴더나 색인 폴더 안에 있습니다. "
                          "다른 디스크나 폴더를 지정하세요 (복원 때 함께 지워질 수 있습니다).")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    try:
        say("데이터베이스를 복사하는 중…")
        kind = _backup_database(settings, work)
        counts, job_ids = _database_facts(work, kind, settings)
        say("비밀 키와 업로드 파일을 복사하는 중…")
        _copy_secret(settings, work)
        _copy_data_files(data_dir, work / "data", job_ids)
        say("색인을 복사하는 중…")
        indexes = _copy_indexes(index_dir, work / "indexes", lock_wait_s, say)
        files = _checksums(work)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {
            "format": FORMAT, "created": created, "host": socket.gethostname(), "database": kind,
            "from": {"data_dir": str(data_dir), "index_dir": str(index_dir),
                     "secret_key_file": str(_secret_path(settings))},
            "indexes": indexes, "counts": counts, "files": files,
            "bytes": sum(f["size"] for f in files),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_tree(work)
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Summary(target, created, kind, len(files), manifest["bytes"], [i["name"] for i in indexes], counts,
                   time.monotonic() - started)


def _backup_database(settings: Settings, work: Path) -> str:
    url = _database_url(settings)
    (work / "database").mkdir()
    if url.startswith("sqlite"):
        src = _sqlite_path(url)
        if not src.is_file():
            raise BackupError(f"웹 앱 데이터베이스 {src}이(가) 없습니다. 데이터 폴더(ASSISTANT_DATA_DIR) 설정을 "
                              "확인하세요. 웹 앱을 한 번도 실행하지 않았다면 백업할 데이터가 없습니다.")
        sqlite_copy(src, work / SQLITE_FILE)
        return "sqlite"
    if url.startswith("postgresql"):
        _pg_run("pg_dump", url, ["--format=custom", "--no-owner", f"--file={work / PG_FILE}"])
        return "postgresql"
    raise BackupError(f"이 데이터베이스 종류는 백업할 수 없습니다 ({url.split(':', 1)[0]}). "
                      "SQLite 또는 PostgreSQL만 지원합니다; 데이터베이스 자체 도구로 백업하세요.")


def sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of a (possibly live, WAL-mode) SQLite file as one self-contained file."""
    try:
        source = sqlite3.connect(src, timeout=60)   # read-only URIs cannot open a WAL file without its -shm
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 파일 {src}을(를) 열 수 없습니다 ({exc}).") from exc
    dest = sqlite3.connect(dst)
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")   # no -wal file needed beside the copy
        dest.commit()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 파일 {src}을(를) 복사하지 못했습니다 ({exc}). "
                          "파일이 손상되었는지 확인하세요.") from exc
    finally:
        dest.close()
        source.close()


def _database_facts(work: Path, kind: str, settings: Settings) -> tuple[dict[str, int], set[str]]:
    """Row counts for the manifest and the job ids whose folders are still referenced — read from the copy
    (SQLite) or the live database right after the dump (PostgreSQL)."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{work / SQLITE_FILE}" if kind == "sqlite" else _database_url(settings)
    engine = create_engine(url)
    counts: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            for table in ("users", "sessions", "conversations", "messages", "audit_log", "jobs", "documents"):
                counts[table] = int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
            job_ids = {str(r[0]) for r in conn.execute(text("SELECT id FROM jobs"))}
    except Exception as exc:  # noqa: BLE001 - any driver error means the same thing here
        raise BackupError(f"백업한 데이터베이스를 읽을 수 없습니다 ({type(exc).__name__}: {exc}). "
                          "웹 앱을 한 번 실행해 데이터베이스를 준비한 뒤 다시 백업하세요.") from exc
    finally:
        engine.dispose()
    return counts, job_ids


def _copy_secret(settings: Settings, work: Path) -> None:
    path = _secret_path(settings)
    if not path.is_file():
        raise BackupError(f"비밀 키 파일 {path}이(가) 없습니다. 이 키가 없으면 로그인 정보와 감사 기록 검증을 "
                          "복원할 수 없습니다. ASSISTANT_SECRET_KEY_FILE 설정을 확인하세요.")
    shutil.copyfile(path, work / "secret_key")
    os.chmod(work / "secret_key", 0o600)


def _copy_data_files(data_dir: Path, out: Path, job_ids: set[str]) -> None:
    """Uploaded originals (all of them) and the folders of jobs the database still has."""
    uploads = data_dir / "uploads"
    if uploads.is_dir():
        _copy_tree(uploads, out / "uploads")
    jobs = data_dir / "jobs"
    if jobs.is_dir():
        for folder in sorted(jobs.iterdir()):
            if folder.is_dir() and folder.name in job_ids:
                _copy_tree(folder, out / "jobs" / folder.name)


def _copy_indexes(index_dir: Path, out: Path, lock_wait_s: float,
                  say: Callable[[str], None]) -> list[dict[str, Any]]:
    """Every index folder as of one moment under its write lock.

    The lock is held only while the files are hard-linked into a staging folder beside them (generation
    files are immutable: a link is a snapshot) and SQLite files are copied; the slow copy to the backup
    disk runs after it is released, so ingests and upload jobs are kept out for as short a time as possible.
    """
    from assistant.index.store import IndexStore

    out.mkdir(parents=True)
    if not index_dir.is_dir():
        return []
    found: list[dict[str, Any]] = []
    stage = index_dir / f"{STAGE_PREFIX}{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        for entry in sorted(index_dir.iterdir()):
            if _skipped(entry) or entry.name.startswith(STAGE_PREFIX):
                continue
            if entry.is_file():
                shutil.copy2(entry, out / entry.name)
                continue
            if not (entry / "CURRENT").is_file():
                _copy_tree(entry, out / entry.name)
                continue
            store = IndexStore(index_dir, entry.name)
            with _index_lock(store, lock_wait_s, say), store.publish_lock():   # no merge switches meanwhile
                _snapshot_tree(entry, stage / entry.name)
                current = (entry / "CURRENT").read_text(encoding="utf-8").strip()
            _copy_tree(stage / entry.name, out / entry.name, sqlite_api=False)
            shutil.rmtree(stage / entry.name, ignore_errors=True)
            found.append({"name": entry.name, "current": current})
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return found


def _snapshot_tree(src: Path, dst: Path) -> None:
    """Hard links of the files (a copy where the file system refuses), SQLite files through the backup API."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        if _skipped(entry) or entry.is_symlink():
            continue
        if entry.is_dir():
            _snapshot_tree(entry, dst / entry.name)
        elif _is_sqlite(entry):
            sqlite_copy(entry, dst / entry.name)
        else:
            try:
                os.link(entry, dst / entry.name)
            except OSError:
                shutil.copy2(entry, dst / entry.name)


@contextmanager
def _index_lock(store: Any, wait_s: float, say: Callable[[str], None]) -> Iterator[None]:
    """The index's write lock, waiting up to ``wait_s`` for a running ingest to finish."""
    from assistant.errors import IndexNotFound

    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            with store.write_lock():
                yield
            return
        except IndexNotFound:
            if time.monotonic() >= deadline:
                raise BackupError(f"색인 '{store.name}'에 {wait_s:.0f}초 동안 다른 작업이 쓰고 있어 "
                                  "백업하지 못했습니다. 문서 올리기·ingest가 끝난 뒤 다시 실행하거나 "
                                  "--lock-wait를 늘리세요.") from None
            if not told:
                say(f"색인 '{store.name}'에 다른 작업이 쓰는 중입니다. 끝나기를 기다립니다…")
                told = True
            time.sleep(1.0)


# ------------------------------------------------------------------------------------------------ restore

def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest, after checking every file's size and sha256 against it."""
    source = Path(source).absolute()
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source}은(는) 백업 폴더가 아닙니다 ({MANIFEST}이 없습니다). "
                          "'assistant backup'이 만든 폴더를 지정하세요.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"백업 목록 {path}이(가) 손상되었습니다 ({exc}). 다른 백업을 사용하세요.") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"백업 {source}의 형식({manifest.get('format')})을 이 버전이 읽지 못합니다 "
                          f"(지원: {FORMAT}). 백업을 만든 버전의 프로그램으로 복원하세요.")
    listed = {f["path"] for f in files}
    for f in files:
        file = source / f["path"]
        if not file.is_file():
            raise BackupError(f"백업 파일 {file}이(가) 없습니다. 백업이 완전히 복사되었는지 확인하세요.")
        if file.stat().st_size != f["size"] or sha256_of(file) != f["sha256"]:
            raise BackupError(f"백업 파일 {file}이(가) 백업 때와 다릅니다 (크기 또는 sha256 불일치). "
                              "손상되었거나 바뀐 백업입니다. 다른 백업 사본을 사용하세요.")
    extra = [p for p in _files(source) if p not in listed and p != MANIFEST]
    if extra:
        raise BackupError(f"백업 폴더 {source}에 목록에 없는 파일이 있습니다: {', '.join(extra[:5])}. "
                          "백업 뒤에 누군가 파일을 넣은 것입니다. 원래 백업 사본을 사용하세요.")
    return dict(manifest)


def live_data(settings: Settings) -> list[str]:
    """What restore would replace (empty when there is nothing to lose)."""
    data_dir, index_dir = _abs(settings.data_dir), _abs(settings.index_dir)
    found = []
    url = _database_url(settings)
    if url.startswith("sqlite"):
        if _sqlite_path(url).is_file():
            found.append(f"데이터베이스 {_sqlite_path(url)}")
    elif _pg_has_tables(url):
        found.append("PostgreSQL 데이터베이스의 기존 테이블")
    for name in ("uploads", "jobs"):
        if (data_dir / name).is_dir() and any((data_dir / name).iterdir()):
            found.append(f"{data_dir / name}")
    if _secret_path(settings).is_file():
        found.append(f"비밀 키 {_secret_path(settings)}")
    if index_dir.is_dir():
        found += [f"색인 {p}" for p in sorted(index_dir.iterdir()) if p.is_dir() and (p / "CURRENT").is_file()]
    return found


def restore(settings: Settings, source: Path, *, force: bool = False,
            progress: Callable[[str], None] | None = None) -> Summary:
    """Put a backup in place of the live data folder, indexes, secret key and database.

    Servers and ingests must be stopped. Without ``force`` a non-empty installation is refused; with it,
    the previous data and index folders are kept beside the new ones as ``…before-restore-<time>``.
    """
    started = time.monotonic()
    say = progress or (lambda _msg: None)
    source = Path(source).absolute()
    say("백업 파일의 무결성(sha256)을 확인하는 중…")
    manifest = read_manifest(source)
    data_dir, index_dir = _abs(settings.data_dir), _abs(settings.index_dir)
    if _inside(data_dir, index_dir) or _inside(index_dir, data_dir):
        raise BackupError(f"데이터 폴더({data_dir})와 색인 폴더({index_dir})가 서로 안에 있어 바꿔 넣을 수 없습니다. "
                          "두 폴더를 나란히 두도록 설정을 바꾼 뒤 복원하세요.")
    existing = live_data(settings)
    if existing and not force:
        raise BackupError("복원할 위치에 이미 데이터가 있습니다: " + "; ".join(existing[:6]) +
                          ". 덮어쓰려면 서버를 멈춘 뒤 --force를 붙여 다시 실행하세요 "
                          "(기존 폴더는 지우지 않고 '…before-restore-시각' 이름으로 옆에 남깁니다).")
    url = _database_url(settings)
    kind = manifest["database"]
    if kind == "sqlite" and not url.startswith("sqlite") or kind == "postgresql" and not url.startswith("postgresql"):
        raise BackupError(f"백업의 데이터베이스는 {kind}인데 지금 설정(ASSISTANT_DATABASE_URL)은 "
                          f"{url.split(':', 1)[0]}입니다. 같은 종류의 데이터베이스로 설정한 뒤 복원하세요.")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    with ExitStack() as cleanup:
        say("새 데이터 폴더와 색인 폴더를 준비하는 중…")
        data_stage = _stage_dir(data_dir, cleanup)
        index_stage = _stage_dir(index_dir, cleanup)
        _fill_data_stage(source, data_stage, settings, kind, url, data_dir)
        _copy_tree(source / "indexes", index_stage, sqlite_api=False)
        _check_indexes(index_stage, manifest)
        secret_target = _secret_path(settings)
        secret_outside = not _inside(secret_target, data_dir)
        if kind == "postgresql":
            say("PostgreSQL 데이터베이스를 복원하는 중 (한 트랜잭션)…")
            _pg_run("pg_restore", url, ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                                        "--exit-on-error", str(source / PG_FILE)], db_flag=True)
        say("기존 폴더와 바꾸는 중…")
        aside = _swap_in([(data_stage, data_dir), (index_stage, index_dir)], stamp)
        if secret_outside:
            _replace_file(source / "secret_key", secret_target)
        if kind == "sqlite" and not _inside(_sqlite_path(url), data_dir):
            _replace_sqlite(data_dir / ".restored-assistant.db", _sqlite_path(url))
    # uploaded originals are named by absolute path in the database and in the (immutable) indexes
    origin = str(manifest.get("from", {}).get("data_dir", ""))
    return Summary(source, manifest["created"], kind, len(manifest["files"]), int(manifest["bytes"]),
                   [i["name"] for i in manifest["indexes"]], dict(manifest.get("counts", {})),
                   time.monotonic() - started, aside, origin if origin and origin != str(data_dir) else "")


def _stage_dir(live: Path, cleanup: ExitStack) -> Path:
    live.parent.mkdir(parents=True, exist_ok=True)
    stage = live.with_name(f".{live.name}.restore-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    cleanup.callback(shutil.rmtree, stage, True)   # gone once renamed into place; removed on any failure
    return stage


def _fill_data_stage(source: Path, stage: Path, settings: Settings, kind: str, url: str, data_dir: Path) -> None:
    from assistant.web.db import prepare_data_dir

    prepare_data_dir(stage)
    if (source / "data").is_dir():
        _copy_tree(source / "data", stage, sqlite_api=False)
    secret = _secret_path(settings)
    if _inside(secret, data_dir):
        dest = stage / secret.relative_to(data_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "secret_key", dest)
        os.chmod(dest, 0o600)
    if kind == "sqlite":
        db_path = _sqlite_path(url)
        # a database outside the data folder is staged in it and moved after the swap
        dest = stage / db_path.relative_to(data_dir) if _inside(db_path, data_dir) else stage / ".restored-assistant.db"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / SQLITE_FILE, dest)
        _check_sqlite(dest, source / SQLITE_FILE)


def _check_sqlite(path: Path, origin: Path) -> None:
    try:
        with sqlite3.connect(path) as conn:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.close()
    except sqlite3.Error as exc:
        ok = str(exc)
    if ok != "ok":
        raise BackupError(f"백업 데이터베이스 {origin}이(가) 손상되었습니다 ({ok}). 다른 백업을 사용하세요.")


def _check_indexes(stage: Path, manifest: dict[str, Any]) -> None:
    """Open every restored index as search would, before anything live is touched."""
    from assistant.index.store import IndexStore

    for entry in manifest["indexes"]:
        try:
            IndexStore(stage, entry["name"]).open()
        except Exception as exc:  # noqa: BLE001 - whatever fails, the index is unusable
            raise BackupError(f"백업의 색인 '{entry['name']}'을(를) 열 수 없습니다 "
                              f"({type(exc).__name__}: {exc}). 이 백업의 색인은 쓸 수 없습니다; "
                              "다른 백업을 쓰거나 원본 문서로 다시 색인하세요.") from exc


def _swap_in(pairs: list[tuple[Path, Path]], stamp: str) -> list[Path]:
    """Rename each live folder aside and its stage into place; undo the earlier swaps if a later one fails."""
    done: list[tuple[Path, Path, Path | None]] = []
    try:
        for stage, live in pairs:
            aside = None
            if live.exists():
                aside = live.with_name(f"{live.name}.before-restore-{stamp}")
                os.rename(live, aside)
            try:
                os.rename(stage, live)
            except OSError:
                if aside is not None:
                    os.rename(aside, live)
                raise
            done.append((stage, live, aside))
    except OSError as exc:
        for _stage, live, aside in reversed(done):
            shutil.rmtree(live, ignore_errors=True)
            if aside is not None:
                os.rename(aside, live)
        raise BackupError(f"복원한 폴더를 제자리로 옮기지 못했습니다 ({exc}). 기존 데이터는 그대로입니다. "
                          "폴더가 마운트 지점이면 그 안이 아니라 상위 폴더를 데이터/색인 폴더로 지정하세요.") from exc
    return [aside for _s, _l, aside in done if aside is not None]


def _replace_file(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.restore-{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, dest)


def _replace_sqlite(staged: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    for side in ("-wal", "-shm", "-journal"):   # a stale log applied to the restored file would corrupt it
        Path(f"{dest}{side}").unlink(missing_ok=True)
    os.replace(staged, dest)


# ------------------------------------------------------------------------------------------------ PostgreSQL

def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH, else the newest Debian server package's copy."""
    found = shutil.which(name)
    if found:
        return found
    for version in ("17", "16", "15", "14", "13"):
        candidate = Path(f"/usr/lib/postgresql/{version}/bin/{name}")
        if candidate.is_file():
            return str(candidate)
    raise BackupError(f"{name}을(를) 찾을 수 없습니다. PostgreSQL 클라이언트(postgresql-client 패키지)를 "
                      "설치한 뒤 다시 실행하세요.")


def _pg_run(tool: str, url: str, args: list[str], db_flag: bool = False) -> None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = ["--username", u.username or "postgres"]
    host = u.host or str(u.query.get("host") or "")
    if host:
        conn += ["--host", host]
    if u.port:
        conn += ["--port", str(u.port)]
    conn += ["--dbname", u.database or ""]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "20"}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    res = subprocess.run([_pg_tool(tool), *conn, *args], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        what = "백업" if tool == "pg_dump" else "복원"
        raise BackupError(f"PostgreSQL {what}에 실패했습니다 ({tool}, 데이터베이스 {u.database}): "
                          f"{(res.stderr or res.stdout).strip()[-800:]} — 접속 설정(ASSISTANT_DATABASE_URL)과 "
                          "권한을 확인하세요. 복원이었다면 데이터베이스는 바뀌지 않았습니다.")


def _pg_has_tables(url: str) -> bool:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        return bool(inspect(engine).get_table_names())
    except Exception as exc:  # noqa: BLE001
        raise BackupError(f"PostgreSQL에 접속하지 못했습니다 ({type(exc).__name__}: {exc}). "
                          "ASSISTANT_DATABASE_URL과 서버 상태를 확인하세요.") from exc
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------ files

def _database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{_abs(settings.data_dir) / 'assistant.db'}"


def _sqlite_path(url: str) -> Path:
    return _abs(Path(url.split("///", 1)[-1]))


def _secret_path(settings: Settings) -> Path:
    return _abs(settings.secret_key_file or Path(settings.data_dir) / "secret_key")


def _abs(path: Path | str) -> Path:
    return Path(os.path.abspath(path))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _skipped(path: Path) -> bool:
    name = path.name
    return name.endswith(_SKIP_SUFFIXES) or ".tmp-" in name or ".tmp." in name or name == "CURRENT.tmp"


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(16) == SQLITE_MAGIC


def _copy_tree(src: Path, dst: Path, sqlite_api: bool = True) -> None:
    """Copy a folder without locks and temporaries; SQLite files through the backup API (they may be live)."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        if _skipped(entry) or entry.is_symlink():
            continue
        if entry.is_dir():
            _copy_tree(entry, dst / entry.name, sqlite_api)
        elif sqlite_api and _is_sqlite(entry):
            sqlite_copy(entry, dst / entry.name)
        else:
            shutil.copy2(entry, dst / entry.name)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _checksums(root: Path) -> list[dict[str, Any]]:
    return [{"path": rel, "size": (root / rel).stat().st_size, "sha256": sha256_of(root / rel)}
            for rel in _files(root) if rel != MANIFEST]


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
