"""What the commands need from outside the domain, as small injected lookups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from eventsourcing.application import AggregateNotFoundError, Application

if TYPE_CHECKING:
    from domain.journey import Journey

# (journey id, tenant id or None) -> the journey, or NotFound (`JourneysApplication.journey`)
JourneyLookup = Callable[[str, "str | None"], "Journey"]


class TriggeredJourneys(Protocol):
    def journeys_triggered_by(self, tenant_id: str, event_type: str) -> list[str]:
        """Ids of the tenant's ACTIVE journeys whose triggerType is `event_type`, as far as
        the read models know."""
        ...


class AggregateLoader(Protocol):
    def load_many(self, aggregate_ids: Iterable[str]) -> dict[str, Any]:
        """Current state of many aggregates at once; unknown ids are left out."""
        ...


class RepositoryLoader:
    """Loads one aggregate at a time through the application's repository: for a bare
    application (unit tests), where no bulk loader is given."""

    def __init__(self, app: Application[str]) -> None:
        self.app = app

    def load_many(self, aggregate_ids: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for aggregate_id in aggregate_ids:
            try:
                found[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                continue
        return found
