"""Who gives a command, and what they want recorded with its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SYSTEM = "system"  # the scheduler, the engine, the command line
ANONYMOUS = "anonymous"  # the API in open mode (no key yet)


@dataclass(frozen=True)
class Caller:
    """`actor`: recorded in the command's events (an API key's id, `anonymous`,
    `system`). `receipt`: made from the command's result, just before its events are
    saved, and saved in the same transaction; the domain does not look inside it (the API
    keeps its answer there, for a retry of the same request)."""

    actor: str = SYSTEM
    receipt: Callable[[Any], object] | None = None

    def without_receipt(self) -> Caller:
        """The same actor, for a command before the one that records the receipt."""
        return Caller(self.actor)

    def recorded_with(self, result: Any) -> dict[str, list[object]]:
        """The keyword arguments of `save` that record the receipt of `result`."""
        return {"receipts": [self.receipt(result)]} if self.receipt else {}


BY_SYSTEM = Caller()


class ReceiptTaken(Exception):
    """The store found a receipt of the same key, saved by another request first: none of
    this command's events were saved. Not a race to retry: the caller answers as that
    request was answered."""

    def __init__(self, receipt: object) -> None:
        super().__init__("the receipt's key was taken by another request first")
        self.receipt = receipt
