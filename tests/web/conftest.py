"""Web fixtures: a real index (the samples + restricted, internal and prompt-injection documents), real
apps on a real SQLite database, real users, and a real uvicorn server on a loopback port."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from webtools import (
    EXTRA_DOCS,
    PASSWORD,
    REPO,
    USERS,
    add_users,
    cli_env,
    free_port,
    make_settings,
    run_cli,
    wait_ready,
)


@pytest.fixture(scope="session")
def web_index(sample_index, tmp_path_factory):
    """A copy of the session's sample index plus documents at each access level (the original stays clean)."""
    from assistant.config import Settings
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    root = tmp_path_factory.mktemp("web-index")
    index_dir = root / "indexes"
    shutil.copytree(sample_index.index_dir, index_dir)
    docs = root / "docs"
    docs.mkdir()
    settings = Settings(index_dir=index_dir, index_name="default")
    store = IndexStore(index_dir, "default")
    for name, (level, dept, text) in EXTRA_DOCS.items():
        path = docs / name
        path.write_text(text, encoding="utf-8")
        report = Ingestor(settings, store, make_embedder(settings), level, dept).run([path])
        assert report.ok, report.outcomes
    return index_dir


@pytest.fixture()
def make_app(web_index, tmp_path):
    """Build apps on a fresh data folder (default embedder: no ingest-time dense layer)."""
    from assistant.web.app import create_app
    from assistant.web.services import Core

    def build(data_dir: Path | None = None, users: bool = True, private_index: bool = False, **over):
        """``private_index``: the app indexes into its own copy, for tests whose uploads would otherwise
        change what later tests (sharing the session's index) find."""
        index = web_index
        if private_index:
            index = tmp_path / "private-index"
            if not index.exists():
                shutil.copytree(web_index, index)
        settings = make_settings(index, data_dir or tmp_path / "data", **over)
        app = create_app(settings, core=Core(settings))
        if users:
            add_users(app)
        return app

    return build


@pytest.fixture()
def client(make_app):
    from fastapi.testclient import TestClient

    with TestClient(make_app()) as c:
        yield c


@pytest.fixture(scope="module")
def live_server(web_index, tmp_path_factory):
    """``assistant serve`` in a subprocess on a free loopback port, with the four test users."""
    data_dir = tmp_path_factory.mktemp("live-data")
    env = cli_env(web_index, data_dir)
    for name, (admin, level, dept) in USERS.items():
        args = ["user", "add", name, "--clearance", level, "--password-stdin", "--keep-password"]
        args += ["--admin"] if admin else []
        args += ["--department", dept] if dept else []
        res = run_cli(env, *args, stdin=PASSWORD + "\n")
        assert res.returncode == 0, res.stderr
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(data_dir / "server.log", "w")  # a file: an unread pipe would fill and block the server
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        ready_s = wait_ready(url, proc)
        yield {"url": url, "proc": proc, "data_dir": data_dir, "ready_seconds": ready_s, "env": env}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
