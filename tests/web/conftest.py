"""Web fixtures: a real index (the samples + restricted, internal and prompt-injection documents), real
apps on a real SQLite database — and, for the tests that exercise SQL, on a real PostgreSQL cluster as well
(tests/web/pg.py) — real users, and a real uvicorn server on a loopback port."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pg import ON_BOTH_DATABASES, PgCluster
from webtools import (
    EXTRA_DOCS,
    add_users,
    add_users_cli,
    cli_env,
    make_settings,
    serving,
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


def pytest_generate_tests(metafunc):
    chosen = ON_BOTH_DATABASES.get(Path(metafunc.module.__file__).stem, set())
    if metafunc.function.__name__ in chosen and "database" in metafunc.fixturenames:
        metafunc.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for the session (started on first use, deleted at the end)."""
    cluster = PgCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture()
def database(request) -> str:
    """The app's database URL: "" (SQLite in the data folder) unless the test runs on PostgreSQL, where it
    gets a new, empty database of its own (as a SQLite test gets a new file)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return request.getfixturevalue("pg_cluster").create_database()
    return ""


@pytest.fixture()
def make_app(web_index, tmp_path, database):
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
        if database:
            over = {"database_url": database, **over}
        settings = make_settings(index, data_dir or tmp_path / "data", **over)
        app = create_app(settings, core=Core(settings))
        built.append(app)
        if users:
            add_users(app)
        return app

    built: list = []
    yield build
    for app in built:   # PostgreSQL connections are not left open for the rest of the session
        app.state.assistant.sessions.kw["bind"].dispose()


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
    add_users_cli(env)
    with serving(env, data_dir / "server.log") as (url, proc, ready_s):
        yield {"url": url, "proc": proc, "data_dir": data_dir, "ready_seconds": ready_s, "env": env}
