"""A trigger event as received: durable once stored, de-duplicated by the client's eventId."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from domain.aggregate import StrAggregate
from domain.caller import SYSTEM


class TriggerEvent(StrAggregate):
    id: str

    @event("Received")
    def __init__(
        self,
        tenant_id: str,
        event_type: str,
        customer_id: str,
        event_id: str | None,
        occurred_at: datetime,
        data: dict[str, Any],
        customer: dict[str, Any] | None,
        at: datetime,
        actor: str = SYSTEM,
    ) -> None:
        self.tenant_id = tenant_id
        self.event_type = event_type
        self.customer_id = customer_id
        self.event_id = event_id
        self.occurred_at = occurred_at
        self.data = data
        self.customer = customer
        self.received_at = at
