"""The Customer aggregate: a tenant's profile that CONDITION reads and UPDATE writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from domain.aggregate import StrAggregate
from domain.caller import SYSTEM
from domain.ids import customer_id_for
from domain.profiles import apply_updates


class Customer(StrAggregate):
    """Identified by (tenant, customerId); its id is derived from both (see domain.ids)."""

    id: str

    @event("Registered")
    def __init__(
        self,
        tenant_id: str,
        customer_id: str,
        name: str | None,
        email: str | None,
        attributes: dict[str, Any],
        at: datetime,
        actor: str = SYSTEM,
    ) -> None:
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.name = name
        self.email = email
        self.attributes = attributes
        self.created_at = self.updated_at = at

    @classmethod
    def register(
        cls,
        tenant_id: str,
        customer_id: str,
        at: datetime,
        name: str | None = None,
        email: str | None = None,
        attributes: dict[str, Any] | None = None,
        actor: str = SYSTEM,
    ) -> Customer:
        """A new customer, under the id derived from (tenant, customerId)."""
        return cls(
            tenant_id=tenant_id, customer_id=customer_id, name=name, email=email,
            attributes=attributes or {}, at=at, actor=actor,
            id=customer_id_for(tenant_id, customer_id),  # type: ignore[call-arg]
        )

    def profile(self) -> dict[str, Any]:
        """What conditions see: the attributes, with name and email beside them."""
        return {**self.attributes, "name": self.name, "email": self.email}

    @event("ProfileReplaced")
    def replace_profile(
        self, name: str | None, email: str | None, attributes: dict[str, Any], at: datetime,
        actor: str = SYSTEM,
    ) -> None:
        self.name, self.email, self.attributes = name, email, attributes
        self.updated_at = at

    def merge_profile(
        self, name: str | None, email: str | None, attributes: dict[str, Any], at: datetime
    ) -> None:
        """Fold in what a trigger event says of the customer; record nothing if nothing changes."""
        merged = {**self.attributes, **attributes}
        new_name = self.name if name is None else name
        new_email = self.email if email is None else email
        if (new_name, new_email, merged) != (self.name, self.email, self.attributes):
            self._profile_merged(new_name, new_email, merged, at)

    @event("ProfileMerged")
    def _profile_merged(
        self, name: str | None, email: str | None, attributes: dict[str, Any], at: datetime
    ) -> None:
        self.name, self.email, self.attributes = name, email, attributes
        self.updated_at = at

    def update_attributes(
        self, updates: list[dict[str, Any]], enrollment_id: str, step_id: str, at: datetime
    ) -> list[dict[str, Any]]:
        """Apply an UPDATE step's actions; returns the record of each change."""
        attributes, changes = apply_updates(self.attributes, updates)
        self._attributes_updated(attributes, changes, enrollment_id, step_id, at)
        return changes

    @event("AttributesUpdated")
    def _attributes_updated(
        self,
        attributes: dict[str, Any],
        changes: list[dict[str, Any]],
        enrollment_id: str,
        step_id: str,
        at: datetime,
    ) -> None:
        self.attributes = attributes
        self.updated_at = at
