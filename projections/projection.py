"""What a read model is: tables, the events it reads, and how each event changes its rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from projections.database import Cursor, Dialect


class Projection(ABC):
    """A read model. The runner calls `apply` inside the transaction that moves its tracking."""

    name: str
    tables: tuple[str, ...]
    topics: frozenset[str]

    @abstractmethod
    def create_statements(self, dialect: Dialect) -> list[str]:
        """DDL for the projection's tables and indexes (idempotent)."""

    @abstractmethod
    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        """Change the rows for one domain event, at log position `position`."""
