"""GET /health: the process is alive (no database call). GET /ready: the database answers,
and how far behind the log each read model is."""

from __future__ import annotations

import falcon
from eventsourcing.persistence import PersistenceError
from spectree import Response

from api import responses
from api.context import Services
from api.errors import unavailable
from api.openapi import spec


class Health:
    @spec.validate(resp=Response(HTTP_200=responses.Health), tags=["operations"])
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Liveness: answers without touching the database."""
        resp.media = {"status": "ok"}


class Ready:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(resp=Response(HTTP_200=responses.Ready, HTTP_503=responses.Error),
                   tags=["operations"])
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Readiness: 200 when the database answers, with each read model's lag behind the
        log; 503 when it does not."""
        try:
            positions, head = self.services.runner.tracking.positions_and_head()
        except PersistenceError as error:
            raise unavailable(error) from None
        resp.media = {"status": "ready", "database": self.services.database.dialect,
                      "head": head,
                      "lag": {name: max(0, head - position) for name, position in positions.items()}}
