"""Each request: an id (the client's `X-Request-Id`, or one made for it, echoed), a log
line, and its count and latency in the metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

import falcon

from api.access import principal_of
from api.metrics import LATENCY, REQUESTS

log = logging.getLogger("journeys.requests")
REQUEST_ID = "X-Request-Id"
_GOOD_ID = re.compile(r"^[\x21-\x7e]{1,128}$")


class RequestLog:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = req.get_header(REQUEST_ID)
        req.context.request_id = given if given and _GOOD_ID.match(given) else uuid.uuid4().hex
        req.context.started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object,
                         req_succeeded: bool) -> None:
        seconds = time.perf_counter() - getattr(req.context, "started", time.perf_counter())
        route = req.uri_template or "unmatched"
        status = falcon.http_status_to_code(resp.status)
        resp.set_header(REQUEST_ID, req.context.request_id)
        REQUESTS.labels(req.method, route, str(status)).inc()
        LATENCY.labels(req.method, route).observe(seconds)
        log.info("%s %s %s %.1f ms", req.method, route, status, seconds * 1000, extra={
            "request_id": req.context.request_id, "method": req.method, "route": route,
            "status": status, "duration_ms": round(seconds * 1000, 2),
            "key_id": principal_of(req).actor})
