"""API keys: who may call the API, and for which tenant. One aggregate holds them all (the
key ring), so every API process learns of a new or revoked key by reading one aggregate's
newest events. Only a hash of each secret is kept; the secret is made and shown by the
command line, once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import event

from domain.aggregate import StrAggregate
from domain.caller import BY_SYSTEM, SYSTEM, Caller
from domain.errors import Conflict, NotFound
from domain.ids import IdFactory, stable_id
from domain.retries import until_saved

KEY_RING_ID = stable_id("keyring", "api")


def secret_hash(secret: str) -> str:
    """The stored form of a secret. A key's secret is random and long, so a fast hash is
    enough: nothing can be guessed from it that is shorter than the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    tenant_id: str | None  # None: an operator's key, for every tenant
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyRing(StrAggregate):
    id: str

    @event("Opened")
    def __init__(self, at: datetime) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.by_hash: dict[str, str] = {}

    @classmethod
    def open(cls, at: datetime) -> KeyRing:
        return cls(at=at, id=KEY_RING_ID)  # type: ignore[call-arg]

    def issue(self, key_id: str, name: str, tenant_id: str | None, hashed: str, at: datetime,
              actor: str = SYSTEM) -> ApiKey:
        if any(key.name == name and key.active for key in self.keys.values()):
            raise Conflict(f"a key named {name!r} exists already", code="KEY_NAME_TAKEN")
        self._issued(key_id, name, tenant_id, hashed, at, actor)
        return self.keys[key_id]

    @event("Issued")
    def _issued(self, key_id: str, name: str, tenant_id: str | None, hashed: str, at: datetime,
                actor: str = SYSTEM) -> None:
        self.keys[key_id] = ApiKey(key_id, name, tenant_id, hashed, at)
        self.by_hash[hashed] = key_id

    def revoke(self, key_id: str, at: datetime, actor: str = SYSTEM) -> ApiKey:
        key = self.keys.get(key_id)
        if key is None:
            raise NotFound(f"no key {key_id}")
        if not key.active:
            raise Conflict(f"key {key_id} is revoked already", code="KEY_REVOKED")
        self._revoked(key_id, at, actor)
        return self.keys[key_id]

    @event("Revoked")
    def _revoked(self, key_id: str, at: datetime, actor: str = SYSTEM) -> None:
        key = self.keys[key_id]
        self.keys[key_id] = ApiKey(key.id, key.name, key.tenant_id, key.secret_hash,
                                   key.created_at, at)

    def holder_of(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is."""
        key_id = self.by_hash.get(secret_hash(secret))
        key = self.keys.get(key_id) if key_id else None
        return key if key is not None and key.active else None


class Keys:
    """The commands on API keys (the command line gives them; the API only reads)."""

    def __init__(self, app: Application[str], clock: Callable[[], datetime],
                 new_id: IdFactory) -> None:
        self.app = app
        self.clock = clock
        self.new_id = new_id

    def ring(self) -> KeyRing | None:
        """The key ring, None before the first key."""
        try:
            ring: KeyRing = self.app.repository.get(KEY_RING_ID)
        except AggregateNotFoundError:
            return None
        return ring

    def issue(self, name: str, tenant_id: str | None, secret: str,
              caller: Caller = BY_SYSTEM) -> ApiKey:
        """Record a new key holding `secret`'s hash (the secret itself is never stored)."""

        def attempt() -> ApiKey:
            now = self.clock()
            ring = self.ring() or KeyRing.open(now)
            key = ring.issue(self.new_id("key"), name, tenant_id, secret_hash(secret), now,
                             caller.actor)
            self.app.save(ring)
            return key

        return until_saved(attempt, "the key ring")

    def revoke(self, key_id: str, caller: Caller = BY_SYSTEM) -> ApiKey:
        def attempt() -> ApiKey:
            ring = self.ring()
            if ring is None:
                raise NotFound(f"no key {key_id}")
            key = ring.revoke(key_id, self.clock(), caller.actor)
            self.app.save(ring)
            return key

        return until_saved(attempt, "the key ring")
