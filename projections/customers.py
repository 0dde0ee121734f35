"""The customers read model: one row per (tenant, customerId) profile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from domain.customer import Customer
from projections.projection import Projection
from storage.database import Cursor, Database, Dialect, Row
from storage.event_log import Item
from storage.values import from_json, iso, to_json


class CustomersProjection(Projection):
    name = "customers"
    tables = ("customers",)
    topics = frozenset(
        get_topic(getattr(Customer, n))
        for n in ("Registered", "ProfileReplaced", "ProfileMerged", "AttributesUpdated")
    )

    def create_statements(self, dialect: Dialect) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS customers ("
            "id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, customer_id TEXT NOT NULL, "
            "name TEXT, email TEXT, attributes TEXT NOT NULL, created_at TEXT NOT NULL, "
            "updated_at TEXT NOT NULL, UNIQUE (tenant_id, customer_id))",
        ]

    def apply_batch(self, cursor: Cursor, items: Sequence[Item]) -> None:
        """Each profile's last state in the batch is written once."""
        new: dict[str, Row] = {}
        changed: dict[str, Row] = {}
        for event, _position in items:
            if isinstance(event, Customer.Registered):  # type: ignore[attr-defined]
                new[event.originator_id] = {
                    "id": event.originator_id, "tenant_id": event.tenant_id,
                    "customer_id": event.customer_id, "name": event.name, "email": event.email,
                    "attributes": event.attributes, "created_at": iso(event.at),
                    "updated_at": iso(event.at)}
                continue
            row = new.get(event.originator_id) or changed.setdefault(event.originator_id, {})
            row.update(attributes=event.attributes, updated_at=iso(event.at))
            if not isinstance(event, Customer.AttributesUpdated):  # type: ignore[attr-defined]
                row.update(name=event.name, email=event.email)
        cursor.insert_many(
            "customers",
            ("id", "tenant_id", "customer_id", "name", "email", "attributes", "created_at",
             "updated_at"),
            [(r["id"], r["tenant_id"], r["customer_id"], r["name"], r["email"],
              to_json(r["attributes"]), r["created_at"], r["updated_at"]) for r in new.values()],
        )
        by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
        for customer_id, row in changed.items():
            values = [to_json(v) if c == "attributes" else v for c, v in row.items()]
            by_columns.setdefault(tuple(row), []).append([*values, customer_id])
        for columns, rows in by_columns.items():
            cursor.update_many("customers", ("id",), columns, rows)


def get_customer(database: Database, tenant_id: str, customer_id: str) -> Row | None:
    """The profile, its attributes parsed; None if unknown."""
    row = database.query_one(
        "SELECT * FROM customers WHERE tenant_id = ? AND customer_id = ?", (tenant_id, customer_id)
    )
    return None if row is None else {**row, "attributes": from_json(row["attributes"])}
