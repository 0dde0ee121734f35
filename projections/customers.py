"""The customers read model: one row per (tenant, customerId) profile."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic

from domain.customer import Customer
from projections.database import Cursor, Database, Dialect, from_json, iso, to_json
from projections.projection import Projection


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

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        if isinstance(event, Customer.Registered):  # type: ignore[attr-defined]
            cursor.execute(
                "INSERT INTO customers (id, tenant_id, customer_id, name, email, attributes, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (event.originator_id, event.tenant_id, event.customer_id, event.name, event.email,
                 to_json(event.attributes), iso(event.at), iso(event.at)),
            )
            return
        columns: dict[str, Any] = {"attributes": to_json(event.attributes),
                                   "updated_at": iso(event.at)}
        if not isinstance(event, Customer.AttributesUpdated):  # type: ignore[attr-defined]
            columns.update(name=event.name, email=event.email)
        assignments = ", ".join(f"{c} = ?" for c in columns)
        cursor.execute(
            f"UPDATE customers SET {assignments} WHERE id = ?",
            [*columns.values(), event.originator_id],
        )


def customer_document(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "customerId": row["customer_id"],
        "tenantId": row["tenant_id"],
        "name": row["name"],
        "email": row["email"],
        "attributes": from_json(row["attributes"]),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def get_customer(database: Database, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    row = database.query_one(
        "SELECT * FROM customers WHERE tenant_id = ? AND customer_id = ?", (tenant_id, customer_id)
    )
    return None if row is None else customer_document(row)
