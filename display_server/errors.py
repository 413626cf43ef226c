"""The display server's exception hierarchy; the API maps each class to one HTTP status."""

from __future__ import annotations


class MadoguchiError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(MadoguchiError):
    """The ward configuration is invalid; `problems` lists each one with file and key."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.source = source
        self.problems = problems
