"""Who is calling: API keys, open mode, and the tenant a request may act for
(`docs/security.md`)."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import falcon
from eventsourcing.persistence import PersistenceError

from api.errors import ApiError
from domain.api_keys import KeyRing, Keys
from domain.caller import ANONYMOUS
from domain.errors import Problem

log = logging.getLogger(__name__)
REFRESH = 1.0  # seconds between reads of the key ring: a change takes effect within 2 s
PUBLIC = frozenset({("GET", "/health"), ("GET", "/ready"), ("GET", "/openapi.json"),
                    ("HEAD", "/health"), ("HEAD", "/ready")})
CHALLENGE = 'Bearer realm="journeys"'


@dataclass(frozen=True)
class Principal:
    """`tenant_id` None: every tenant (open mode, or an operator's key)."""

    actor: str
    tenant_id: str | None = None

    @property
    def all_tenants(self) -> bool:
        return self.tenant_id is None


OPEN = Principal(ANONYMOUS)


class KeyCache:
    """The key ring as this process last read it. Read again in the background once it is
    `refresh` seconds old, so a request does not wait for it; read in the request only
    when it is twice that old (the first request, or one after a quiet spell), so no
    request is ever judged by a ring more than 2 s old. If the database cannot be read,
    the last ring read stands until the next try."""

    def __init__(self, keys: Keys, refresh: float = REFRESH) -> None:
        self.keys = keys
        self.refresh = refresh
        self._ring: KeyRing | None = None
        self._read_at = -math.inf
        self._reading = threading.Lock()

    def ring(self) -> KeyRing | None:
        age = time.monotonic() - self._read_at
        if age >= 2 * self.refresh:
            self._read(older_than=2 * self.refresh)
        elif age >= self.refresh and not self._reading.locked():
            threading.Thread(target=self._read, args=(self.refresh,), daemon=True,
                             name="keys").start()
        return self._ring

    def _read(self, older_than: float) -> None:
        with self._reading:
            if time.monotonic() - self._read_at < older_than:
                return  # read meanwhile by another thread
            try:
                self._ring = self.keys.ring()
            except PersistenceError as error:
                log.warning("could not read the API keys (%s); the last ones read stand",
                            str(error).splitlines()[0])
            finally:
                self._read_at = time.monotonic()

    def open_mode(self) -> bool:
        """No key was ever made: the API asks for no credentials."""
        ring = self.ring()
        return ring is None or not ring.keys


def _unauthorized(description: str, invalid: bool) -> ApiError:
    error = ApiError(falcon.HTTP_401, "UNAUTHORIZED", description)
    error.headers = {"WWW-Authenticate": CHALLENGE + (', error="invalid_token"' if invalid else "")}
    return error


class AccessGuard:
    """Every route but GET /health, /ready and /openapi.json needs `Authorization: Bearer
    <key>` once a key exists; `req.context.principal` says who called."""

    def __init__(self, cache: KeyCache) -> None:
        self.cache = cache

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.principal = OPEN
        if (req.method, req.path) in PUBLIC or self.cache.open_mode():
            return
        ring = self.cache.ring()
        assert ring is not None
        header = req.get_header("Authorization")
        if not header:
            raise _unauthorized("this API needs a key: Authorization: Bearer <key>", invalid=False)
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthorized("the Authorization header must be 'Bearer <key>'", invalid=True)
        key = ring.holder_of(secret.strip())
        if key is None:
            raise _unauthorized("the key is unknown or revoked", invalid=True)
        req.context.principal = Principal(key.id, key.tenant_id)


def principal_of(req: falcon.Request) -> Principal:
    principal: Principal = getattr(req.context, "principal", OPEN)
    return principal


def tenant_for(req: falcon.Request, given: str | None, *, required: bool) -> str | None:
    """The tenant the request acts for: a tenant's key acts for its own (403 for another
    named in the request); otherwise the one named, which `required` routes must name."""
    principal = principal_of(req)
    if principal.tenant_id is not None:
        if given is not None and given != principal.tenant_id:
            raise ApiError(falcon.HTTP_403, "TENANT_FORBIDDEN",
                           f"this key acts for tenant {principal.tenant_id} only",
                           [Problem("tenantId", f"must be {principal.tenant_id} or left out")])
        return principal.tenant_id
    if required and given is None:
        raise ApiError(falcon.HTTP_422, "VALIDATION_FAILED", "the request needs a tenantId",
                       [Problem("tenantId", "Field required")])
    return given


def require_all_tenants(req: falcon.Request) -> None:
    """403 unless the caller acts for every tenant (open mode, or an operator's key)."""
    if not principal_of(req).all_tenants:
        raise ApiError(falcon.HTTP_403, "TENANT_FORBIDDEN", "this needs an all-tenants key")
