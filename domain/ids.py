"""Ids: server-made ones are opaque and prefixed by type; natural keys map to stable ids."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from uuid import NAMESPACE_URL, uuid4, uuid5

IdFactory = Callable[[str], str]

_PATTERN = re.compile(r"^(journey|step|enrollment|key)_[0-9a-f]{32}$")
_NAMESPACE = uuid5(NAMESPACE_URL, "journeys").bytes


def random_id(prefix: str) -> str:
    """The production id factory: a prefix and a random UUID's hex."""
    return f"{prefix}_{uuid4().hex}"


def is_id_of(kind: str, value: str) -> bool:
    """Whether `value` is shaped like an id of `kind` (so a malformed id is a plain 404)."""
    match = _PATTERN.match(value)
    return match is not None and match.group(1) == kind


def stable_id(prefix: str, *parts: str) -> str:
    """The same id for the same natural key, so uniqueness is an optimistic-concurrency conflict.

    The hex of `uuid5(namespace, name)`, made from its SHA-1 digest directly, without
    `UUID` objects: the engine makes two or three such ids per enrollment
    (`decisions/0032`)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + chr(31).join(parts).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    return f"{prefix}_{digest.hex()}"


def customer_id_for(tenant_id: str, customer_id: str) -> str:
    return stable_id("customer", tenant_id, customer_id)


def slot_id_for(journey_id: str, customer_id: str) -> str:
    return stable_id("slot", journey_id, customer_id)


def trigger_event_id_for(tenant_id: str, event_id: str) -> str:
    return stable_id("event", tenant_id, event_id)


def message_id_for(enrollment_id: str, step_id: str, attempt: int) -> str:
    digest = hashlib.sha256(f"{enrollment_id}:{step_id}:{attempt}".encode()).hexdigest()
    return f"msg_{digest[:32]}"
