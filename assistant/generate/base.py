"""The generator interface shared by every backend (extractive, local transformers, OpenAI-compatible).

A task (ask, summarise, draft a reply) builds a :class:`GenerationRequest`: which task, which prompt
template, the template variables, and the numbered source passages. A backend turns it into text, whole
(:meth:`Generator.generate`) or as a stream of text pieces (:meth:`Generator.stream`).

Model backends render ``prompts/<prompt>.md`` with the variables and send it to a model; the extractive
backend reads the same request but selects and orders source sentences itself. Retrieved passages are
*data*: backends must present them inside clearly delimited source blocks, never as instructions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.registry import GENERATORS as BUILTIN_GENERATORS
from assistant.registry import Registry

#: The tasks a request can carry.
TASKS = ("answer", "summarize_map", "summarize_reduce", "summarize", "draft_reply", "condense_question",
         "draft_report")


@dataclass(frozen=True)
class Passage:
    """A numbered source the output may cite as ``[n]``."""

    n: int
    doc_id: str
    title: str
    source: str
    location: str
    text: str
    score: float = 0.0
    article: str | None = None
    page: int | None = None
    #: (section, text) per original chunk, in document order, when the passage merges several chunks
    #: (e.g. 법제처 해석례: 질의요지 / 회답 / 이유). Optional: backends fall back to ``text``.
    segments: tuple[tuple[str, str], ...] = ()
    #: the location of each segment's chunk ("3쪽", "제14조"), parallel to ``segments`` when known
    segment_locations: tuple[str, ...] = ()
    #: how close each segment's chunk is to the question (the semantic layer's cosine), when known
    segment_scores: tuple[float, ...] = ()
    #: the exact sentences of ``text`` an answer quotes (filled when citations are made precise)
    quotes: tuple[str, ...] = ()

    def citation_json(self) -> dict[str, Any]:
        out = {"n": self.n, "doc_id": self.doc_id, "title": self.title, "source": self.source,
               "location": self.location, "text": self.text}
        if self.quotes:
            out["quotes"] = list(self.quotes)
        return out


@dataclass
class GenerationRequest:
    task: str
    prompt: str                                   # template name under prompts/, without extension
    variables: dict[str, str] = field(default_factory=dict)
    passages: list[Passage] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)   # (role, text), oldest first
    max_tokens: int = 1024
    temperature: float = 0.0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; expected one of {TASKS}")


class Generator(ABC):
    """One text-generation backend. Implementations must be safe to call from several threads."""

    name: str = ""

    @abstractmethod
    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the output in pieces as it is produced."""

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))

    @property
    def identity(self) -> str:
        """A short description for logs and reports (backend and model)."""
        return self.name


GeneratorFactory = Callable[..., Generator]
#: generators by name: built-ins in assistant.registry.GENERATORS (imported when chosen, so torch loads only
#: for "transformers"), plug-ins in the "assistant.generators" entry-point group
GENERATORS: Registry[GeneratorFactory] = Registry("생성기", BUILTIN_GENERATORS, "assistant.generators")


def register_generator(name: str) -> Callable[[GeneratorFactory], GeneratorFactory]:
    return GENERATORS.register(name)


def registered_generators() -> dict[str, GeneratorFactory]:
    return GENERATORS.registered()
