"""The few ways a command can be refused; the API maps each to one HTTP status."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request or a journey, tied to the field it concerns."""

    field: str
    message: str


class JourneysError(Exception):
    """Base of every refusal the domain raises on purpose."""

    code = "ERROR"

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class NotFound(JourneysError):
    code = "NOT_FOUND"


class Conflict(JourneysError):
    """The request is well formed but the current state forbids it."""

    code = "CONFLICT"

    def __init__(
        self, message: str, problems: list[Problem] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, problems)
        if code:
            self.code = code


class Invalid(JourneysError):
    """A value the domain cannot accept, whatever the state."""

    code = "VALIDATION_FAILED"
