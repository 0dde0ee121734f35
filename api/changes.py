"""What a PATCH body changes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import falcon
from pydantic import BaseModel
from pydantic.alias_generators import to_snake

from api.errors import ApiError
from domain.errors import Problem


def changes_of(body: BaseModel, not_null: Collection[str]) -> dict[str, Any]:
    """The fields the body sets, under the domain's names (`triggerConfig` ->
    `trigger_config`), nested models as plain values; 422 when it sets none, or sets one
    of `not_null` to null."""
    present = body.model_fields_set
    nulls = sorted(f for f in present & set(not_null) if getattr(body, f) is None)
    if not present or nulls:
        raise ApiError(
            falcon.HTTP_422,
            "VALIDATION_FAILED",
            "nothing to change" if not present else "these fields cannot be null",
            [Problem(f, "may not be null") for f in nulls] or [Problem("body", "empty")],
        )
    values = body.model_dump(include=present)
    return {to_snake(name): values[name] for name in sorted(present)}
