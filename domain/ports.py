"""What the commands need to know from the read side, as small injected lookups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class ReadSide(Protocol):
    def active_enrollment_ids(self, journey_id: str) -> list[str]:
        """Ids of the journey's ACTIVE enrollments, as far as the read models know."""
        ...

    def journeys_triggered_by(self, tenant_id: str, event_type: str) -> list[str]:
        """Ids of the tenant's ACTIVE journeys whose triggerType is `event_type`."""
        ...


class AggregateLoader(Protocol):
    def load_many(self, aggregate_ids: Iterable[str]) -> dict[str, Any]:
        """Current state of many aggregates at once; unknown ids are left out."""
        ...


class NoReadSide:
    """For a bare application (unit tests): knows of nothing."""

    def active_enrollment_ids(self, journey_id: str) -> list[str]:
        return []

    def journeys_triggered_by(self, tenant_id: str, event_type: str) -> list[str]:
        return []
