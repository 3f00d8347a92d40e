"""assistant.integrations.langchain on a real index (the bundled samples plus documents at each access level):
the retriever's access rules, its documents' metadata, the embeddings adapter inside a LangChain vector store,
the README example run as written, and LangChain kept out of the CLI's and the web app's import path."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("langchain_core")

REPO = Path(__file__).resolve().parents[2]
SECRET = "예산 협의 암호 오메가구"
LEVELED_DOCS = {
    "기획예산과_예산편성방침.md": ("부서", "기획예산과", f"""# 2027년 예산 편성 방침 (기획예산과 한정)

## 편성 기준
2027년 본예산은 경상경비를 전년 대비 5% 줄여 편성한다. 부서 협의에는 {SECRET}를 쓴다.
"""),
    "내부_당직근무지침.md": ("내부", "", """# 당직 근무 지침 (내부)

## 당직 시간
평일 당직은 오후 6시부터 다음 날 오전 9시까지이며, 당직자는 두 시간마다 청사를 순찰한다.
"""),
}


@pytest.fixture(scope="module")
def leveled_index(sample_index, tmp_path_factory):
    """A private copy of the sample index with a 부서 and a 내부 document added through the real ingest."""
    from assistant.config import Settings
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    root = tmp_path_factory.mktemp("langchain")
    shutil.copytree(sample_index.index_dir, root / "indexes")
    settings = Settings(index_dir=root / "indexes", index_name="default")
    store = IndexStore(settings.index_dir, settings.index_name)
    for name, (level, dept, text) in LEVELED_DOCS.items():
        path = root / name
        path.write_text(text, encoding="utf-8")
        report = Ingestor(settings, store, make_embedder(settings), level, dept).run([path])
        assert report.ok, report.outcomes
    return settings


def test_retriever_returns_cited_documents_within_the_callers_access(leveled_index):
    from langchain_core.documents import Document

    from assistant.integrations.langchain import AssistantRetriever

    retriever = AssistantRetriever(settings=leveled_index, k=4)
    docs = retriever.invoke("민원 처리기간은 어떻게 계산하나요?")
    assert docs and all(isinstance(d, Document) for d in docs)
    top = docs[0].metadata
    assert "민원" in top["title"] and top["location"] and top["access_level"] == "공개" and top["rank"] == 1
    assert any("처리기간" in d.page_content for d in docs)
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)

    question = "2027년 예산 편성 기준과 부서 협의 암호는?"
    for clearance, department in (("공개", None), ("내부", "민원과"), ("부서", "민원과")):
        seen = AssistantRetriever(settings=leveled_index, clearance=clearance, department=department, k=10)
        assert all(SECRET not in d.page_content for d in seen.invoke(question)), (clearance, department)
    cleared = AssistantRetriever(settings=leveled_index, clearance="부서", department="기획예산과", k=10)
    found = [d for d in cleared.invoke(question) if SECRET in d.page_content]
    assert found and found[0].metadata["access_level"] == "부서"
    assert found[0].metadata["department"] == "기획예산과"

    duty = "당직 근무 시간과 순찰 주기는?"
    assert all("순찰" not in d.page_content for d in AssistantRetriever(settings=leveled_index).invoke(duty))
    assert any("순찰" in d.page_content
               for d in AssistantRetriever(settings=leveled_index, clearance="내부").invoke(duty))


def test_retriever_scope_and_bad_clearance(leveled_index):
    from pydantic import ValidationError

    from assistant.integrations.langchain import AssistantRetriever

    broad = AssistantRetriever(settings=leveled_index, k=5).invoke("민원 처리기간")
    only = broad[1].metadata["doc_id"]
    scoped = AssistantRetriever(settings=leveled_index, doc_ids=(only,), k=5).invoke("민원 처리기간")
    assert scoped and {d.metadata["doc_id"] for d in scoped} == {only}
    with pytest.raises(ValidationError, match="열람 등급"):
        AssistantRetriever(settings=leveled_index, clearance="비밀")


def test_retriever_works_in_a_runnable_chain_and_masks_personal_data(leveled_index, caplog):
    from langchain_core.runnables import RunnableLambda

    from assistant.integrations.langchain import AssistantRetriever

    retriever = AssistantRetriever(settings=leveled_index, k=2)
    chain = retriever | RunnableLambda(lambda docs: "\n".join(f"[{d.metadata['citation']}]" for d in docs))
    caplog.set_level("DEBUG")
    out = chain.invoke("민원 처리기간 문의, 연락처 010-3456-7890")
    assert out.count("[") == 2 and "민원" in out
    assert "010-3456-7890" not in caplog.text


def test_embeddings_adapter_in_a_langchain_vector_store(sample_settings):
    from langchain_core.vectorstores import InMemoryVectorStore

    from assistant.integrations.langchain import AssistantEmbeddings

    embeddings = AssistantEmbeddings(sample_settings)  # default settings: the semantic layer's e5-small
    assert embeddings.dimension == 384
    texts = ["민원은 접수한 날부터 정해진 처리기간 안에 처리하여야 한다.",
             "청사 주차장은 평일 오전 8시부터 이용할 수 있다.",
             "정보공개 청구는 공공기관에 서면이나 전자문서로 한다."]
    store = InMemoryVectorStore.from_texts(texts, embedding=embeddings)
    best = store.similarity_search("민원을 며칠 안에 처리해야 하나요?", k=1)[0]
    assert "처리기간" in best.page_content
    query, passage = embeddings.embed_query("민원 처리기간"), embeddings.embed_documents(["민원 처리기간"])[0]
    assert len(query) == len(passage) == 384 and query != passage  # e5: "query: " vs "passage: "


def test_readme_example_runs_as_written(leveled_index):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## OpenAI-compatible API and LangChain", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    example = next(b for b in blocks if "AssistantRetriever" in b)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(leveled_index.index_dir), ASSISTANT_INDEX_NAME="default",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    run = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, env=env, cwd=REPO,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 3 and all(line.count(" | ") == 2 for line in lines)
    assert "민원" in lines[0] and "처리기간" in run.stdout
    assert SECRET not in run.stdout


def test_cli_and_web_app_do_not_import_langchain():
    code = ("import sys, assistant.cli, assistant.web.app, assistant.web.routes_openai; "
            "print(sorted(m for m in sys.modules if m.startswith(('langchain', 'openai'))))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
