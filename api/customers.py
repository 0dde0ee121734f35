"""Customer profiles and trigger events."""

from __future__ import annotations

import falcon
from spectree import Response

from api import responses, schemas
from api.access import tenant_for
from api.context import Services
from api.idempotency import Answer
from api.openapi import errors, spec
from api.representations import (
    customer_document,
    customer_enrollment_item,
    page,
    trigger_event_document,
)
from domain.application import ProfileSaved
from domain.errors import NotFound
from domain.triggers import IncomingEvent, Ingested
from projections import enrollment_queries, trigger_queries
from projections.customers import get_customer


class CustomerItem:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        json=schemas.PutCustomer,
        resp=Response(HTTP_200=responses.Customer, HTTP_201=responses.Customer,
                      **errors(404, 409, 413, 415)),
        tags=["customers"],
    )
    def on_put(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        """Create or replace a tenant's customer profile."""
        body: schemas.PutCustomer = req.context.json
        _check_customer_id(customer_id)
        tenant = tenant_for(req, body.tenantId, required=True)
        assert tenant is not None
        saved = self.services.app.put_customer(
            tenant, customer_id, body.name, body.email, body.attributes,
            self.services.idempotency.caller(req, profile_saved))
        self.services.settle(saved.position)
        profile_saved(saved).send(resp)

    @spec.validate(
        query=schemas.CustomerQuery,
        resp=Response(HTTP_200=responses.Customer, **errors(404, 422)),
        tags=["customers"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        """A tenant's customer profile."""
        query: schemas.CustomerQuery = req.context.query
        tenant = tenant_for(req, query.tenantId, required=True)
        assert tenant is not None
        row = get_customer(self.services.database, tenant, customer_id)
        if row is None:
            raise NotFound(f"customer {customer_id} not found")
        resp.media = customer_document(row)


class CustomerEnrollments:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.CustomerPageQuery,
        resp=Response(HTTP_200=responses.CustomerEnrollmentPage, **errors(404, 422)),
        tags=["customers"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        """A page of the customer's enrollments in every journey, newest first."""
        query: schemas.CustomerPageQuery = req.context.query
        tenant = tenant_for(req, query.tenantId, required=True)
        assert tenant is not None
        database = self.services.database
        rows, total = enrollment_queries.customer_enrollments(
            database, tenant, customer_id, query.skip, query.take)
        if not total and get_customer(database, tenant, customer_id) is None:
            raise NotFound(f"customer {customer_id} not found")
        resp.media = page([customer_enrollment_item(row) for row in rows],
                          total, query.skip, query.take)


def _check_customer_id(customer_id: str) -> None:
    if not 1 <= len(customer_id) <= 128:
        raise NotFound("customer ids are 1 to 128 characters")


def profile_saved(saved: ProfileSaved) -> Answer:
    return Answer(201 if saved.created else 200, customer_document(saved.customer))


def _incoming(req: falcon.Request, event: schemas.TriggerEventIn) -> IncomingEvent:
    tenant = tenant_for(req, event.tenantId, required=True)
    assert tenant is not None
    return IncomingEvent(
        tenant_id=tenant,
        event_type=event.type,
        customer_id=event.customerId,
        event_id=event.eventId,
        occurred_at=event.occurredAt,
        data=event.data,
        customer=event.customer.model_dump() if event.customer else None,
    )


class Events:
    """POST /events and /events/batch: 202 once the events are durable."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        json=schemas.TriggerEventIn,
        resp=Response(HTTP_202=responses.Accepted, **errors(409, 413, 415)),
        tags=["events"],
    )
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Take one trigger event; a repeated eventId (per tenant) is accepted and ignored."""
        self._ingest(req, resp, [req.context.json])

    @spec.validate(
        json=schemas.EventBatch,
        resp=Response(HTTP_202=responses.Accepted, **errors(409, 413, 415)),
        tags=["events"],
    )
    def on_post_batch(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Take up to 1,000 trigger events in one durable write."""
        body: schemas.EventBatch = req.context.json
        self._ingest(req, resp, body.events)

    def _ingest(self, req: falcon.Request, resp: falcon.Response,
                events: list[schemas.TriggerEventIn]) -> None:
        incoming = [_incoming(req, event) for event in events]
        result = self.services.triggers.ingest(
            incoming, self.services.idempotency.caller(req, accepted))
        accepted(result).send(resp)


def accepted(result: Ingested) -> Answer:
    return Answer(202, {"accepted": result.accepted, "duplicates": result.duplicates,
                        "eventIds": list(result.event_ids)})


class EventItem:
    """GET /events/{eventId}: a trigger event as received, and what it did."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(query=schemas.CustomerQuery,
                   resp=Response(HTTP_200=responses.TriggerEventDetail, **errors(404)),
                   tags=["audit"])
    def on_get(self, req: falcon.Request, resp: falcon.Response, event_id: str) -> None:
        """The event and, per journey of its type, the enrollment it made or why none."""
        query: schemas.CustomerQuery = req.context.query
        tenant = tenant_for(req, query.tenantId, required=True)
        assert tenant is not None
        services = self.services
        found = trigger_queries.trigger_event(services.app, services.runner.log, tenant,
                                              event_id)
        if found is None:
            raise NotFound(f"event {event_id} not found")
        resp.media = trigger_event_document(found)
