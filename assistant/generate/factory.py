"""Build the configured generator by name (``ASSISTANT_GENERATOR``).

Built-in backends register themselves through :func:`assistant.generate.base.register_generator`, like
any other backend; their modules are imported only when chosen, so torch/transformers load only for the
``transformers`` generator. A test or a plug-in registers its own name the same way.
"""

from __future__ import annotations

import importlib

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.generate.base import Generator, registered_generators

#: name -> module that registers it (imported lazily)
BUILTIN_MODULES = {
    "extractive": "assistant.generate.extractive",
    "transformers": "assistant.generate.transformers_backend",
    "openai": "assistant.generate.openai_backend",
}


def make_generator(settings: Settings, name: str | None = None) -> Generator:
    """The generator named by ``name`` or ``settings.generator``, configured from ``settings``."""
    name = (name or settings.generator or "extractive").strip().lower()
    if name not in registered_generators() and name in BUILTIN_MODULES:
        importlib.import_module(BUILTIN_MODULES[name])
    factory = registered_generators().get(name)
    if factory is None:
        known = sorted(set(BUILTIN_MODULES) | set(registered_generators()))
        raise ConfigError(f"알 수 없는 생성기입니다: '{name}'. "
                          f"ASSISTANT_GENERATOR를 {', '.join(known)} 중 하나로 설정하십시오.")
    return factory(settings)
