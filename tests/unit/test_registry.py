"""One registry shape: a toy parser and a toy embedder are one new file plus one entry each, and the product
finds them by name exactly like its built-ins (listed, chosen in settings, used by `assistant ingest`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.generate.base import GENERATORS, register_generator
from assistant.generate.factory import generator_names, make_generator
from assistant.registry import EMBEDDERS, OCR_ENGINES, PARSERS, Registry
from assistant.registry import GENERATORS as BUILTIN_GENERATORS

PLUGIN = textwrap.dedent('''
    """A third-party package: a parser for .toy files and an embedder named "toy"."""
    import numpy as np

    from assistant.index.embedders import Embedder
    from assistant.ingest.base import Parser
    from assistant.types import Block, ParsedDocument


    class ToyParser(Parser):
        extensions = (".toy",)
        doc_type = "toy"

        def parse(self, path):
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            return ParsedDocument(source=str(path), title=lines[0], doc_type="toy",
                                  blocks=[Block(text=ln, page=i) for i, ln in enumerate(lines[1:], 1)])


    class ToyEmbedder(Embedder):
        name = "toy"
        dim = 8

        def embed_batch(self, texts):
            return np.array([[len(t) % 7 + 1.0] + [1.0] * 7 for t in texts], dtype=np.float32)


    def make_toy(settings):
        return ToyEmbedder()
''')
ENTRY_POINTS = textwrap.dedent('''
    [assistant.parsers]
    .toy = toy_plugin:ToyParser

    [assistant.embedders]
    toy = toy_plugin:make_toy
''')


@pytest.fixture
def plugin_path(tmp_path) -> Path:
    site = tmp_path / "site"
    (site / "toy_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "toy_plugin.py").write_text(PLUGIN, encoding="utf-8")
    (site / "toy_plugin-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugin\n"
                                                                "Version: 0.1\n", encoding="utf-8")
    (site / "toy_plugin-0.1.dist-info" / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    return site


def _python(site: Path, cwd: Path, code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_plugin_parser_and_embedder_are_found_by_name_and_used_by_ingest(plugin_path, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "안내.toy").write_text("장난감 형식 안내\n민원 서류는 평일 오전 9시부터 접수한다.\n", encoding="utf-8")
    code = textwrap.dedent(f'''
        import json
        from assistant.cli import main
        from assistant.config import Settings
        from assistant.index.embedders import available, make_embedder
        from assistant.ingest.base import supported_extensions
        out = {{"exts": supported_extensions(), "embedders": available(),
                "dim": make_embedder(Settings(), "toy").dim}}
        out["ingest"] = main(["--index-dir", "idx", "ingest", {str(docs)!r}, "--index", "t", "--quiet",
                              "--semantic", "later"])
        print(json.dumps(out))
    ''')
    proc = _python(plugin_path, tmp_path, code + "\n")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert ".toy" in out["exts"] and "toy" in out["embedders"] and out["dim"] == 8
    assert out["ingest"] == 0
    found = _python(plugin_path, tmp_path, "from assistant.cli import main\n"
                    "main(['--index-dir', 'idx', 'search', '접수 시간', '--index', 't', '--json'])\n")
    hits = json.loads(found.stdout)["hits"]
    assert hits and "오전 9시" in hits[0]["text"] and hits[0]["title"] == "장난감 형식 안내"


def test_without_the_plugin_the_same_names_are_unknown_with_a_clear_message(tmp_path):
    proc = _python(tmp_path, tmp_path, "from assistant.config import Settings\n"
                   "from assistant.index.embedders import make_embedder\nmake_embedder(Settings(), 'toy')\n")
    assert proc.returncode != 0 and "알 수 없는 임베더 'toy'" in proc.stderr and "e5-small" in proc.stderr


def test_names_are_listed_without_importing_any_backend():
    code = ("import sys\nfrom assistant.ingest.base import supported_extensions\n"
            "from assistant.generate.factory import generator_names\n"
            "from assistant.index.embedders import available\n"
            "from assistant.ocr import registered_ocr_engines\n"
            "supported_extensions(); generator_names(); available(); registered_ocr_engines()\n"
            "loaded = [m for m in ('assistant.ingest.pdf', 'assistant.ingest.hwp', 'assistant.generate.openai_backend',"
            " 'assistant.index.embedders.e5', 'assistant.index.embedders.use', 'assistant.ocr.tesseract')"
            " if m in sys.modules]\n"
            "print(loaded)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_a_test_backend_registers_by_name_like_a_builtin(monkeypatch):
    from assistant.config import Settings
    from assistant.generate.extractive import ExtractiveGenerator

    monkeypatch.setattr(GENERATORS, "_factories", dict(GENERATORS.registered()))   # undone after the test
    register_generator("fixed-test")(lambda settings: ExtractiveGenerator())
    assert "fixed-test" in generator_names()
    assert isinstance(make_generator(Settings(), "fixed-test"), ExtractiveGenerator)


def test_every_builtin_name_resolves_to_a_factory():
    for registry_map, registry in ((BUILTIN_GENERATORS, GENERATORS),):
        for name in registry_map:
            assert registry.find(name) is not None, name
    from assistant.index.embedders import EMBEDDERS as EMBEDDER_REGISTRY
    from assistant.ingest.base import PARSER_REGISTRY

    for name in EMBEDDERS:
        assert EMBEDDER_REGISTRY.find(name) is not None, name
    for ext in PARSERS:
        factory = PARSER_REGISTRY.find(ext)
        assert factory is not None and ext in factory().extensions, ext
    from assistant.ocr import OCR_ENGINES as OCR_REGISTRY

    for name in OCR_ENGINES:
        assert OCR_REGISTRY.find(name) is not None, name
    assert Registry("x", {}, "assistant.nothing").find("missing") is None
