"""UPDATE step actions on a customer's attributes: set, unset, add, remove, increment."""

from __future__ import annotations

import copy
from typing import Any

from domain.conditions import lookup


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
            target[part] = child
        target = child
    target[parts[-1]] = value


def _unset_path(target: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            return
        target = child
    target.pop(parts[-1], None)


def apply_updates(
    attributes: dict[str, Any], updates: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The new attributes and a record of each change (field, action, before, after).

    `add` puts a value into a list once (a missing or scalar field becomes a list);
    `remove` takes it out; `increment` adds a number (default 1) to a missing or numeric
    field and leaves any other value alone, recording that it was skipped.
    """
    result = copy.deepcopy(attributes)
    changes: list[dict[str, Any]] = []
    for update in updates:
        field, action = update["field"], update["action"]
        value = update.get("value")
        before = copy.deepcopy(lookup(result, field))
        if action == "set":
            _set_path(result, field, value)
        elif action == "unset":
            _unset_path(result, field)
        elif action == "add":
            items = before if isinstance(before, list) else ([] if before is None else [before])
            if value not in items:
                items = [*items, value]
            _set_path(result, field, items)
        elif action == "remove":
            if isinstance(before, list):
                _set_path(result, field, [item for item in before if item != value])
        elif action == "increment":
            step = 1 if value is None else value
            if before is None or (isinstance(before, int | float) and not isinstance(before, bool)):
                _set_path(result, field, (before or 0) + step)
            else:
                changes.append({"field": field, "action": action, "before": before,
                                "after": before, "skipped": "not a number"})
                continue
        changes.append({"field": field, "action": action, "before": before,
                        "after": lookup(result, field)})
    return result, changes
