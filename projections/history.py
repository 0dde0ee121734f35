"""An aggregate's history as the log holds it, for auditors: one entry per event, and one
per fact of an enrollment's `Advanced` event, each with its version, its type, when it
happened, who gave the command and what it recorded. Read from the event store itself,
not from a read model: it shows the log."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

from eventsourcing.application import Application

from domain.caller import SYSTEM
from storage.values import iso

UNKNOWN = None  # the actor of an event recorded before actors were
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "at", "actor",
                       "originator_topic"})


def plain(value: Any) -> Any:
    """A recorded value as JSON shows it: instants as the API writes them."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in fields(value)}
    return value


def _entry(version: int, kind: str, at: datetime | None, actor: str | None,
           data: dict[str, Any]) -> dict[str, Any]:
    return {"version": version, "type": kind, "occurred_at": iso(at) if at else None,
            "actor": actor, "data": plain(data)}


def entries(app: Application[str], aggregate_id: str) -> list[dict[str, Any]]:
    """Every entry of the aggregate's history, oldest first ([] if it has no events)."""
    found: list[dict[str, Any]] = []
    for event in app.events.get(aggregate_id):
        recorded = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
        kind = type(event).__name__
        if kind == "Advanced":  # facts, each its own entry, in order
            for fact in recorded.get("facts", []):
                data = {k: v for k, v in fact.items() if k not in ("kind", "at", "actor")}
                found.append(_entry(event.originator_version, fact["kind"], fact.get("at"),
                                    fact.get("actor", SYSTEM), data))
            continue
        actor = getattr(event, "actor", UNKNOWN)
        if kind == "Enrolled":
            actor = (recorded.get("source") or {}).get("actor", SYSTEM)
        found.append(_entry(event.originator_version, kind, getattr(event, "at", None), actor,
                            recorded))
    return found
