"""One way to plug in a backend: parsers, embedders, generators and OCR engines are all found by name here.

Each kind of backend has a :class:`Registry`:

- **built-ins** are a map of name → module, imported only when that name is used (choosing the extractive
  generator never imports torch; listing the supported file types imports no parser);
- a module registers its factory with ``@REGISTRY.register("name")`` when it is imported;
- **plug-ins** from other packages declare an entry point in the kind's group (``[project.entry-points]``
  in their ``pyproject.toml``, e.g. ``[project.entry-points."assistant.embedders"] my-model =
  "my_pkg.embedder:make"``); the entry point's object is the factory, registered under the entry point's
  name the first time it is asked for.

Built-ins and plug-ins take the same path, so a test backend is registered by name like any other, and the
names shown in settings help, CLI choices and the README come from :meth:`Registry.names`.

This module is plain data and a small class, so :mod:`assistant.config` can list the names without importing
any backend.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

F = TypeVar("F", bound=Callable[..., object])

#: file extension → parser module
PARSERS: Mapping[str, str] = {
    ".txt": "assistant.ingest.text",
    ".md": "assistant.ingest.markdown", ".markdown": "assistant.ingest.markdown",
    ".html": "assistant.ingest.html", ".htm": "assistant.ingest.html",
    ".pdf": "assistant.ingest.pdf",
    ".docx": "assistant.ingest.docx",
    ".hwpx": "assistant.ingest.hwpx",
    ".hwp": "assistant.ingest.hwp",
    ".png": "assistant.ingest.image", ".jpg": "assistant.ingest.image", ".jpeg": "assistant.ingest.image",
    ".tif": "assistant.ingest.image", ".tiff": "assistant.ingest.image",
}
#: embedder name → module
EMBEDDERS: Mapping[str, str] = {
    "none": "assistant.index.embedders.none",
    "use-multilingual": "assistant.index.embedders.use",
    "e5-small": "assistant.index.embedders.e5",
    "sentence-transformers": "assistant.index.embedders.folder",
    "openai": "assistant.index.embedders.openai",
    "char-ngram-hash": "assistant.index.embedders.hashing",
}
#: generator name → module
GENERATORS: Mapping[str, str] = {
    "extractive": "assistant.generate.extractive",
    "transformers": "assistant.generate.transformers_backend",
    "openai": "assistant.generate.openai_backend",
}
#: OCR engine name → module
OCR_ENGINES: Mapping[str, str] = {
    "tesseract": "assistant.ocr.tesseract",
}


class Registry(Generic[F]):
    """Factories of one kind of backend, by name."""

    def __init__(self, label: str, builtins: Mapping[str, str], group: str) -> None:
        self.label = label            # what the backend is called in messages ("임베더")
        self.builtins = dict(builtins)
        self.group = group            # entry-point group of plug-ins
        self._factories: dict[str, F] = {}
        self._plugin_map: dict[str, EntryPoint] | None = None
        self._lock = threading.RLock()

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator: register ``factory`` under ``name`` (a later registration of the same name wins)."""
        def deco(factory: F) -> F:
            self.add(name, factory)
            return factory
        return deco

    def add(self, name: str, factory: F) -> None:
        with self._lock:
            self._factories[name] = factory

    def names(self) -> list[str]:
        """Every name that can be chosen — built-in, registered or installed as a plug-in — without importing."""
        return sorted(set(self.builtins) | set(self._factories) | set(self._plugins()))

    def registered(self) -> dict[str, F]:
        """The factories registered so far (modules imported, plug-ins loaded)."""
        with self._lock:
            return dict(self._factories)

    def find(self, name: str) -> F | None:
        """The factory for ``name``, importing its built-in module or loading its plug-in; None if unknown."""
        with self._lock:
            if name in self._factories:
                return self._factories[name]
        module = self.builtins.get(name)
        if module is not None:
            importlib.import_module(module)
        else:
            plugin = self._plugins().get(name)
            if plugin is not None:
                self.add(name, plugin.load())
        with self._lock:
            return self._factories.get(name)

    def _plugins(self) -> dict[str, EntryPoint]:
        """The installed plug-ins of this kind, read from package metadata once per process (each read scans
        every installed distribution; the set changes only when packages are installed)."""
        with self._lock:
            if self._plugin_map is None:
                self._plugin_map = {ep.name: ep for ep in entry_points(group=self.group)}
            return self._plugin_map
