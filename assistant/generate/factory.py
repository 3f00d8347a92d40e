"""Build the configured generator by name (``ASSISTANT_GENERATOR``) from the one registry of backends.

Built-in backends register themselves through :func:`assistant.generate.base.register_generator` when their
module is imported (assistant.registry lists which module holds which name), so torch/transformers load only
for the ``transformers`` generator. A test or a plug-in registers its own name the same way.
"""

from __future__ import annotations

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.generate.base import GENERATORS, Generator


def make_generator(settings: Settings, name: str | None = None) -> Generator:
    """The generator named by ``name`` or ``settings.generator``, configured from ``settings``."""
    name = (name or settings.generator or "extractive").strip().lower()
    factory = GENERATORS.find(name)
    if factory is None:
        raise ConfigError(f"알 수 없는 생성기입니다: '{name}'. "
                          f"ASSISTANT_GENERATOR를 {', '.join(generator_names())} 중 하나로 설정하십시오.")
    return factory(settings)


def generator_names() -> list[str]:
    """Every generator name that can be chosen: built-in (not imported), registered or plug-in."""
    return GENERATORS.names()
