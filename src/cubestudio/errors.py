"""The one error root. Every error a user can cause is a CubeError whose message says what is
wrong, where, and how to fix it; the CLI prints it as one line and exits non-zero.

Errors raised by a task's own command never become CubeErrors: they are a task's outcome
(exit code, log), recorded by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass


class CubeError(Exception):
    """A platform error with a message meant for the user."""

    exit_code = 2


@dataclass(frozen=True)
class FieldError:
    """One problem in a pipeline file: a field path such as ``tasks[2].depends[0]`` and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(CubeError):
    """A pipeline file or its parameters are invalid; carries every problem found."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class NotFoundError(CubeError):
    """A run, task or pipeline named by the user does not exist."""


class StateError(CubeError):
    """A move the state machine refuses, e.g. retrying a run that is still running."""


class StoreError(CubeError):
    """The database cannot be reached or is not usable."""


class RenderError(CubeError):
    """A template variable could not be rendered (undefined name, refused attribute)."""
