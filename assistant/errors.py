"""Errors that carry a message a civil servant can act on."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing sentence."""


class ParseError(AssistantError):
    """A file could not be read. Names the file and the reason."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnsupportedFormat(ParseError):
    """The extension is not one we parse."""


class IndexMismatch(AssistantError):
    """An index was built with settings that do not match the ones in use."""


class IndexNotFound(AssistantError):
    """No index with that name exists."""


class ConfigError(AssistantError):
    """A setting points to something missing or wrong; names the setting to fix."""
