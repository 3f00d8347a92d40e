"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, run in a temporary folder.

PostgreSQL refuses to run as root, and the tests run as root on the build machines, so the cluster then
belongs to an unprivileged account (``nobody``); otherwise it runs as the current user. It listens only on
a unix socket inside its own folder (no TCP port to collide with), trusts local connections, and trades
durability for speed (no fsync): it lives for one test session and is deleted afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

PG_VERSIONS = ("17", "16", "15")
INSTALL_HINT = "PostgreSQL 서버가 설치되어 있지 않습니다. `make system-deps`로 설치한 뒤 다시 실행하세요."

#: tests that exercise SQL (migrations, sessions, the audit chain and its verification, login throttle, rate
#: buckets, job claims, masked columns), run on PostgreSQL as well as SQLite; the rest of the suite runs on
#: SQLite only, so `make test` does not take twice as long. tests/web/test_postgres.py adds PostgreSQL's own;
#: conftest.py parametrizes these by the ``database`` fixture.
ON_BOTH_DATABASES = {
    "test_accounts_audit": {
        "test_someone_elses_failures_do_not_lock_the_real_user_out",
        "test_password_spraying_from_one_address_backs_off_across_accounts",
        "test_an_administrator_unlocks_an_account_and_a_reset_password_must_be_changed",
        "test_a_password_an_administrator_chose_must_be_changed_before_anything_else",
        "test_changing_my_password_needs_the_current_one_checks_strength_and_ends_other_logins",
        "test_an_administrator_of_another_department_does_not_read_its_documents",
        "test_denied_attempts_are_on_record_with_the_documents_title",
        "test_the_audit_log_filters_and_exports",
        "test_retention_removes_old_entries_and_the_rest_still_verifies",
    },
    "test_web_api": {
        "test_csrf_is_required_for_cookie_requests_and_logout_ends_the_session",
        "test_expired_session_is_refused",
        "test_api_tokens_work_without_csrf_and_stop_when_revoked",
        "test_chat_stream_persists_conversation_feedback_and_audit",
        "test_rate_limit_on_model_endpoints",
        "test_batch_summary_job_runs_to_completion_and_offers_a_zip",
        "test_unfinished_jobs_are_requeued_after_a_restart",
    },
    "test_pii_at_rest": {"test_a_batch_job_keeps_only_masked_results_without_server_paths"},
}


def pg_bindir() -> Path:
    """The server binaries (initdb, pg_ctl) of the newest installed Debian PostgreSQL."""
    override = os.environ.get("ASSISTANT_TEST_PG_BINDIR")
    candidates = [Path(override)] if override else [Path(f"/usr/lib/postgresql/{v}/bin") for v in PG_VERSIONS]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise RuntimeError(f"{INSTALL_HINT} (찾아본 곳: {', '.join(map(str, candidates))})")


class PgCluster:
    """One cluster: ``start()`` → ``url(name)`` / ``create_database()`` … → ``stop()`` (removes everything)."""

    def __init__(self) -> None:
        self.bindir = pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        self.datadir = self.root / "data"
        self.socket_dir = self.root        # short path: a unix socket path must stay under ~100 bytes
        self.log = self.root / "server.log"
        self._user: dict[str, Any] = {}
        self.running = False
        if os.geteuid() == 0:
            account = pwd.getpwnam(_unprivileged_account())
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        os.chmod(self.root, 0o700)

    def _run(self, *args: str) -> None:
        env = {"PATH": f"{self.bindir}:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(self.root)}
        res = subprocess.run([str(self.bindir / args[0]), *args[1:]], cwd=self.root, env=env, capture_output=True,
                             text=True, timeout=120, **self._user)
        if res.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({res.returncode}): {res.stdout}{res.stderr}{log}")

    def start(self) -> PgCluster:
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync", "--no-instructions")
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        # -w: returns once the server accepts connections (or fails), no fixed wait
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.datadir), "-l", str(self.log), "-o", options)
        self.running = True
        return self

    def stop(self) -> None:
        """Stop the server, then remove its folder in a detached ``rm``: a database per test leaves a few
        hundred MB of small files, and deleting them can take seconds on a busy disk nobody needs to wait for."""
        if self.running:
            try:
                self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.datadir))
            finally:
                self.running = False
        rm = shutil.which("rm")
        if rm is None:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        subprocess.Popen([rm, "-rf", "--", str(self.root)], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for ``database`` over the cluster's unix socket."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, prefix: str = "t") -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host=str(self.socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _unprivileged_account() -> str:
    """``nobody`` where it exists (Debian always has it); otherwise a system account made for the purpose."""
    for name in ("nobody", "assistant-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "assistant-pg"],
                   check=True, capture_output=True)
    return "assistant-pg"
