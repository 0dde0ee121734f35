"""The dry run: POST /journeys/{id}/simulate (`docs/audit.md`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import falcon
from spectree import Response

from api import responses, schemas
from api.context import Services
from api.errors import ApiError
from api.journeys import tenant_of
from api.openapi import errors, spec
from api.representations import history_item, instant, step_stats_item
from domain.errors import Problem
from domain.simulation import dry_run
from projections import dry_run as answer
from storage.database import Row

DEFAULT_SPAN = timedelta(days=365)


def _customer(row: Row) -> dict[str, Any]:
    return {
        "customerId": row["customer_id"], "enrollmentId": row["id"], "status": row["status"],
        "currentStepNumber": row["current_step_number"], "waitingUntil": row["waiting_until"],
        "endedAt": row["ended_at"], "reason": row["reason"], "stoppedBy": row["stopped"],
        "path": [history_item(step) for step in row["steps"]],
        "messages": [{"messageId": m["id"], "stepId": m["step_id"], "channel": m["channel"],
                      "templateId": m["template_id"], "requestedAt": m["requested_at"]}
                     for m in row["messages"]],
    }


class JourneySimulation:
    changes_nothing = True  # no receipt is kept for an Idempotency-Key: it writes nothing

    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        json=schemas.Simulate,
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Simulation, **errors(404, 409, 413, 415)),
        tags=["journeys"],
    )
    def on_post(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Run the journey's current definition, in any status, over these customers on a
        virtual clock: their paths, the messages that would go, per-step counts. Writes
        nothing and sends nothing; the same input gives the same answer."""
        body: schemas.Simulate = req.context.json
        ids = [customer.customerId for customer in body.customers]
        if len(set(ids)) != len(ids):
            raise ApiError(falcon.HTTP_422, "VALIDATION_FAILED", "a customer appears twice",
                           [Problem("customers", "each customerId once")])
        start = body.startAt or self.services.app.clock()
        until = body.until or start + DEFAULT_SPAN
        if until <= start:
            raise ApiError(falcon.HTTP_422, "VALIDATION_FAILED", "until must be after startAt",
                           [Problem("until", "after startAt")])
        app = self.services.app
        journey = app.journey(journey_id, tenant_of(req))
        runs = dry_run(app, journey, [(c.customerId, c.attributes) for c in body.customers],
                       start, until)
        customers, steps = answer.fold(journey, runs)
        resp.media = {
            "journeyId": journey_id, "startAt": instant(start), "until": instant(until),
            "customers": [_customer(row) for row in customers],
            "steps": [step_stats_item(row) for row in steps],
        }
