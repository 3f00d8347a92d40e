"""A normal (non-editable) install works: the wheel carries the prompts, templates, static files, migrations
and the gate model, and the installed package runs `ingest`, `ask` and the web app without the checkout.

The wheel is built from the checkout and installed with ``--target`` into a temporary folder; the commands run
with that folder first on ``PYTHONPATH`` and a working directory outside the checkout, so every file the
package reads must come from the wheel (the test checks that ``assistant`` is imported from there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(work / "dist"), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheels = list((work / "dist").glob("*.whl"))
    assert len(wheels) == 1
    target = work / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheels[0])], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return target


def _run(target: Path, cwd: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"PYTHONPATH": str(target), "ASSISTANT_DATA_DIR": str(cwd / "data"),
                "ASSISTANT_INDEX_DIR": str(cwd / "indexes")}, **(env_extra or {}))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_wheel_holds_every_file_the_package_reads(installed):
    wheel = next(installed.parent.joinpath("dist").glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("assistant/prompts/answer.md", "assistant/prompts/system.md", "assistant/tasks/gate_model.json",
                   "assistant/web/templates/chat.html", "assistant/web/static/chat.js",
                   "assistant/web/migrations/env.py", "assistant/web/migrations/versions/0001_initial.py"):
        assert needed in names, f"{needed} is missing from the wheel"


def test_an_installed_package_ingests_answers_and_serves_without_the_checkout(installed, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "민원안내.md").write_text(
        "# 민원 처리 안내\n\n## 처리기간\n\n질의민원은 접수한 날부터 7일 이내에 처리하여야 한다. "
        "건의민원은 14일 이내에 처리하여야 한다.\n", encoding="utf-8")
    where = _run(installed, tmp_path, "-c", "import assistant, sys; print(assistant.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed)

    ingest = _run(installed, tmp_path, "-m", "assistant.cli", "ingest", str(docs), "--index", "t", "--quiet")
    assert ingest.returncode == 0, ingest.stderr
    ask = _run(installed, tmp_path, "-m", "assistant.cli", "ask", "건의민원 처리기간은?", "--index", "t", "--json")
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert "14일" in answer["answer"] and answer["citations"]

    # the prompts, the migrations and the templates come from the installed package
    web = _run(installed, tmp_path, "-c", (
        "from assistant.generate.prompts import load_prompt, prompt_dir\n"
        "print(prompt_dir()); assert load_prompt('answer')\n"
        "from fastapi.testclient import TestClient\n"
        "from assistant.web.app import create_app_from_env\n"
        "with TestClient(create_app_from_env()) as c:\n"
        "    r = c.get('/login'); assert r.status_code == 200 and 'AI 행정비서' in r.text, r.status_code\n"
        "    assert c.get('/static/chat.js').status_code == 200\n"
        "print('ok')\n"), env_extra={"ASSISTANT_INDEX_NAME": "t"})
    assert web.returncode == 0, web.stderr
    lines = web.stdout.split()
    assert Path(lines[0]).is_relative_to(installed) and lines[-1] == "ok"
