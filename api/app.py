"""create_app(services): the Falcon application, its routes and its error mapping."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import falcon

from api import errors
from api.access import AccessGuard
from api.context import Services
from api.customers import CustomerEnrollments, CustomerItem, EventItem, Events
from api.enrollments import EnrollmentCollection, EnrollmentItem, JourneyMessages, JourneyStats
from api.health import Health, Ready
from api.history import EnrollmentHistory, JourneyHistory
from api.journeys import JourneyCollection, JourneyItem, JourneyLifecycle
from api.metrics import Metrics
from api.observing import RequestLog
from api.openapi import OpenApiDocument, spec
from api.simulate import JourneySimulation
from api.steps import StepCollection, StepItem, StepValidation
from domain.caller import ReceiptTaken

MAX_BODY_BYTES = 5 * 1024 * 1024


class RequestGuard:
    """Refuse oversized bodies before anything reads them, and NUL characters in the URL."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.content_length is not None and req.content_length > self.limit:
            raise errors.ApiError(
                falcon.HTTP_413, "PAYLOAD_TOO_LARGE", f"the body exceeds {self.limit} bytes"
            )
        if "\x00" in req.path or "\x00" in req.query_string or "%00" in req.query_string:
            raise errors.ApiError(
                falcon.HTTP_400, "BAD_REQUEST", "the URL may not contain NUL characters"
            )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is beyond the range of a number")
    return number


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_A_BRACKET = {ord(c): None for c in map(chr, range(128)) if c not in "[]{}"}
MAX_PARSED_DEPTH = 100  # far above any body the contract allows (free-form objects: 32)


def _too_deep(text: str) -> bool:
    """Whether `text` nests arrays and objects deeper than MAX_PARSED_DEPTH, found without
    recursion: the strings dropped, then the innermost empty pairs removed, level by level
    (each pass at C speed). Only a body with many brackets is looked at."""
    if text.count("[") + text.count("{") <= MAX_PARSED_DEPTH:
        return False
    brackets = _STRING.sub("", text).translate(_NOT_A_BRACKET)
    for _ in range(MAX_PARSED_DEPTH):
        inner = brackets.replace("[]", "").replace("{}", "")
        if inner == brackets:
            return False  # nothing more to remove: malformed, the parser says how
        brackets = inner
    return bool(brackets)


def _loads(text: str) -> Any:
    """json.loads, with nesting too deep refused before the parser recurses into it (its
    RecursionError, deep in the stack, also breaks whatever runs there meanwhile, such as
    a finalizer), and NaN, Infinity and numbers beyond a double's range (`1e309`, which
    Python's parser reads as infinity) refused: RFC 8259 has none of them."""
    if _too_deep(text):
        raise ValueError(f"JSON nested deeper than {MAX_PARSED_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _serialize_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(error.to_dict())


def create_app(
    services: Services, max_body_bytes: int = MAX_BODY_BYTES
) -> falcon.App[falcon.Request, falcon.Response]:
    middleware: list[Any] = [RequestLog(), RequestGuard(max_body_bytes),
                             AccessGuard(services.key_cache), services.idempotency]
    app = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    # A JSON-only API: bodies sent without a content type (or as curl's default form
    # type) are read as JSON rather than refused.
    json_handler = falcon.media.JSONHandler(loads=_loads)
    app.req_options.default_media_type = falcon.MEDIA_JSON
    app.req_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.req_options.media_handlers[falcon.MEDIA_URLENCODED] = json_handler
    app.req_options.media_handlers["text/plain"] = json_handler
    # Only JSON is read: a multipart form is 415, not parsed.
    app.req_options.media_handlers.pop(falcon.MEDIA_MULTIPART, None)
    errors.register(app)
    app.add_error_handler(ReceiptTaken, services.idempotency.answered)
    app.set_error_serializer(_serialize_error)

    lifecycle = JourneyLifecycle(services)
    steps = StepCollection(services)
    events = Events(services)
    routes: list[tuple[str, Any, str | None]] = [
        ("/journeys", JourneyCollection(services), None),
        ("/journeys/{journey_id}", JourneyItem(services), None),
        ("/journeys/{journey_id}/activate", lifecycle, "activate"),
        ("/journeys/{journey_id}/pause", lifecycle, "pause"),
        ("/journeys/{journey_id}/resume", lifecycle, "resume"),
        ("/journeys/{journey_id}/archive", lifecycle, "archive"),
        ("/journeys/{journey_id}/steps", steps, None),
        ("/journeys/{journey_id}/steps/reorder", steps, "reorder"),
        ("/journeys/{journey_id}/steps/{step_id}", StepItem(services), None),
        ("/journeys/{journey_id}/validation", StepValidation(services), None),
        ("/journeys/{journey_id}/simulate", JourneySimulation(services), None),
        ("/journeys/{journey_id}/enrollments", EnrollmentCollection(services), None),
        ("/journeys/{journey_id}/enrollments/{key}", EnrollmentItem(services), None),
        ("/journeys/{journey_id}/stats", JourneyStats(services), None),
        ("/journeys/{journey_id}/messages", JourneyMessages(services), None),
        ("/journeys/{journey_id}/events", JourneyHistory(services), None),
        ("/journeys/{journey_id}/enrollments/{key}/events",
         EnrollmentHistory(services), None),
        ("/customers/{customer_id}", CustomerItem(services), None),
        ("/customers/{customer_id}/enrollments", CustomerEnrollments(services), None),
        ("/events", events, None),
        ("/events/batch", events, "batch"),
        ("/events/{event_id}", EventItem(services), None),
        ("/health", Health(), None),
        ("/ready", Ready(services), None),
        ("/metrics", Metrics(services), None),
        ("/openapi.json", OpenApiDocument(), None),
    ]
    for path, resource, suffix in routes:
        if suffix:
            app.add_route(path, resource, suffix=suffix)
        else:
            app.add_route(path, resource)
    spec.register(app)
    return app
