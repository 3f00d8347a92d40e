"""Thread settings are applied once per process (issue 15 item 4, issue 16 item 3): the CLI configures the
batch role, the web app the server role, and Kiwi, FAISS and BLAS all follow what was configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from threadpoolctl import threadpool_info

from assistant import runtime
from assistant.config import Settings
from assistant.index.store import faiss_module
from assistant.korean import morph


@pytest.fixture
def restore_runtime():
    yield
    runtime.configure(Settings())           # the batch default every other test runs with


def _blas_threads() -> set[int]:
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


def test_the_batch_role_gives_every_pool_the_configured_threads(restore_runtime):
    applied = runtime.configure(Settings(threads=1))
    assert (applied.role, applied.threads, applied.per_query) == ("batch", 1, 1)
    assert faiss_module().omp_get_max_threads() == 1
    assert _blas_threads() == {1}
    assert morph.kiwi().num_workers == 1

    applied = runtime.configure(Settings(threads=2))
    assert runtime.current() == applied
    assert faiss_module().omp_get_max_threads() == 2
    assert _blas_threads() == {2}
    assert morph.kiwi().num_workers == 2        # rebuilt: Kiwi fixes its workers when it is created


def test_the_server_role_runs_each_request_on_one_thread_but_keeps_kiwis_workers(restore_runtime):
    runtime.configure(Settings(threads=2))
    kiwi_before = morph.kiwi()
    applied = runtime.configure(Settings(threads=2), role="server")
    assert (applied.role, applied.per_query) == ("server", 1)
    assert faiss_module().omp_get_max_threads() == 1
    assert _blas_threads() == {1}
    assert morph.kiwi() is kiwi_before          # same worker count: the 1.3 s analyser is not rebuilt

    runtime.configure(Settings(threads=2, server_query_threads=2), role="server")
    assert faiss_module().omp_get_max_threads() == 2


def test_the_web_app_configures_the_server_role(restore_runtime, tmp_path):
    from assistant.web.app import create_app

    runtime.configure(Settings())
    create_app(Settings(index_dir=tmp_path / "indexes", data_dir=tmp_path / "data"), start_worker=False)
    assert runtime.current().role == "server"
    assert faiss_module().omp_get_max_threads() == 1


PROBE = """
import json, sys
from assistant.cli import main
from assistant import runtime
from assistant.index.store import faiss_module
main(sys.argv[1:])
print(json.dumps({"role": runtime.current().role, "threads": runtime.current().threads,
                  "faiss": faiss_module().omp_get_max_threads()}))
"""


def test_the_cli_applies_the_threads_setting_from_the_environment(tmp_path):
    env = {**os.environ, "ASSISTANT_THREADS": "1", "ASSISTANT_INDEX_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", PROBE, "index", "list"], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    state = json.loads(out.strip().splitlines()[-1])
    assert state == {"role": "batch", "threads": 1, "faiss": 1}
