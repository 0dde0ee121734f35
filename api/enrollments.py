"""Enrollment resources: a journey's enrollments, one enrollment, exits, and step statistics."""

from __future__ import annotations

from datetime import datetime

import falcon
from spectree import Response

from api import responses, schemas
from api.context import Services
from api.errors import ApiError
from api.idempotency import Answer
from api.journeys import tenant_of
from api.openapi import errors, spec
from api.representations import (
    COUNTER_FIELDS,
    enrolled_document,
    enrollment_document,
    enrollment_item,
    instant,
    message_item,
    page,
    series_item,
    step_stats_item,
)
from domain.errors import NotFound, Problem
from domain.ids import is_id_of
from domain.manual_enrollment import Enrolled, ManualEnrollment
from projections import as_of, enrollment_queries, journey_queries, series
from storage.database import Row


class EnrollmentCollection:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _journey(self, req: falcon.Request, journey_id: str) -> Row:
        journey = journey_queries.get_journey(self.services.database, journey_id, tenant_of(req))
        if journey is None:
            raise NotFound(f"journey {journey_id} not found")
        return journey

    @spec.validate(
        query=schemas.ListEnrollmentsQuery,
        resp=Response(HTTP_200=responses.EnrollmentPage, **errors(404, 422)),
        tags=["enrollments"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """A page of the journey's enrollments, oldest first (enrolledAt, then id)."""
        query: schemas.ListEnrollmentsQuery = req.context.query
        self._journey(req, journey_id)
        rows, total = enrollment_queries.list_enrollments(
            self.services.database, journey_id, query.status, query.skip, query.take)
        resp.media = page([enrollment_item(row) for row in rows],
                          total, query.skip, query.take)

    @spec.validate(
        json=schemas.Enroll,
        query=schemas.TenantQuery,
        resp=Response(HTTP_201=responses.Enrolled, **errors(404, 409, 413, 415)),
        tags=["enrollments"],
    )
    def on_post(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Enroll a customer by hand (created if unknown; trigger conditions do not apply)."""
        body: schemas.Enroll = req.context.json

        def enrolled_answer(enrolled: Enrolled) -> Answer:
            return Answer(201, enrolled_document(journey_id, enrolled), {
                "Location": f"/journeys/{journey_id}/enrollments/{enrolled.enrollment.id}"})

        caller = self.services.idempotency.caller(req, enrolled_answer)
        enrolled = self.services.enroll(
            ManualEnrollment(journey_id, body.customerId, tenant_of(req), caller))
        self.services.settle(enrolled.position)
        enrolled_answer(enrolled).send(resp)


def exited(_: object) -> Answer:
    return Answer(204)


class EnrollmentItem:
    """GET by enrollment id; DELETE by customer id (the contract's exit)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.GetEnrollmentQuery,
        resp=Response(HTTP_200=responses.EnrollmentDetail, **errors(404, 422)),
        tags=["enrollments"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str,
               key: str) -> None:
        """One enrollment with every step it entered and what each decided; with `asOf`,
        as it stood then, folded from the log."""
        query: schemas.GetEnrollmentQuery = req.context.query
        database = self.services.database
        if query.asOf is not None:
            row = self._as_of(journey_id, key, tenant_of(req), query.asOf)
        else:
            row = (journey_queries.get_journey(database, journey_id, tenant_of(req))
                   and enrollment_queries.get_enrollment(database, journey_id, key))
        if not row:
            raise NotFound(f"enrollment {key} not found in journey {journey_id}"
                           + (f" at {instant(query.asOf)}" if query.asOf else ""))
        resp.media = enrollment_document(row)

    def _as_of(self, journey_id: str, enrollment_id: str, tenant: str | None,
               at: datetime) -> Row | None:
        app = self.services.app
        if not (is_id_of("enrollment", enrollment_id) and is_id_of("journey", journey_id)):
            return None
        journey = as_of.journey(app, journey_id, at)
        if journey is None or (tenant is not None and journey.tenant_id != tenant):
            return None
        row = as_of.enrollment(app, enrollment_id, at, journey)
        return row if row and row["journey_id"] == journey_id else None

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response("HTTP_204", **errors(404, 409)),
        tags=["enrollments"],
    )
    def on_delete(self, req: falcon.Request, resp: falcon.Response, journey_id: str,
                  key: str) -> None:
        """Exit the customer `key`'s ACTIVE enrollment (reason MANUAL)."""
        position = self.services.exits.exit_customer(
            journey_id, key, tenant_of(req), self.services.idempotency.caller(req, exited))
        self.services.settle(position)
        exited(None).send(resp)


class JourneyStats:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.StatsQuery,
        resp=Response(HTTP_200=responses.JourneyStats, **errors(404, 422)),
        tags=["enrollments"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Per step: entered, completed, exited, failed, waiting; yes/no per CONDITION;
        SPLIT variants. And a series of buckets (`interval`) in the journey's time zone."""
        query: schemas.StatsQuery = req.context.query
        database = self.services.database
        journey = journey_queries.get_journey(database, journey_id, tenant_of(req))
        if journey is None:
            raise NotFound(f"journey {journey_id} not found")
        end = query.to or self.services.app.clock()
        start = query.from_ or end - series.DEFAULT_SPAN[query.interval]
        if start >= end:
            raise ApiError(falcon.HTTP_422, "VALIDATION_FAILED", "from must be before to",
                           [Problem("from", "before to")])
        try:
            found = series.buckets(start, end, query.interval, journey["timezone"])
        except series.SeriesTooLong as too_long:
            raise ApiError(falcon.HTTP_422, "VALIDATION_FAILED", str(too_long),
                           [Problem("to", str(too_long))]) from None
        resp.media = {
            "journeyId": journey_id,
            "totals": {api: int(journey[name]) for api, name in COUNTER_FIELDS},
            "steps": [step_stats_item(row)
                      for row in enrollment_queries.step_stats(database, journey_id)],
            "series": {
                "interval": query.interval, "timezone": journey["timezone"],
                "from": instant(found[0].start), "to": instant(found[-1].end),
                "buckets": [series_item(row) for row in series.series(database, journey_id, found)],
            },
        }


class JourneyMessages:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.ListMessagesQuery,
        resp=Response(HTTP_200=responses.MessagePage, **errors(404, 422)),
        tags=["enrollments"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """A page of the journey's messages, in the order requested: each with its attempts,
        its status and its last error."""
        query: schemas.ListMessagesQuery = req.context.query
        database = self.services.database
        if journey_queries.get_journey(database, journey_id, tenant_of(req)) is None:
            raise NotFound(f"journey {journey_id} not found")
        rows, total = enrollment_queries.list_messages(
            database, journey_id, query.status, query.skip, query.take)
        resp.media = page([message_item(row) for row in rows],
                          total, query.skip, query.take)
