"""GET /health: the store answers, and how far each read model has got."""

from __future__ import annotations

import falcon
from spectree import Response

from api import schemas
from api.context import Services
from api.openapi import spec


class Health:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(resp=Response(HTTP_200=schemas.Health), tags=["operations"])
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Liveness and read-model positions."""
        runner = self.services.runner
        resp.media = {
            "status": "ok",
            "database": self.services.database.dialect,
            "projections": runner.positions(),
            "head": runner.head(),
        }
