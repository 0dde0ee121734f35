"""Idempotent commands: a POST, PUT, PATCH or DELETE sent with an `Idempotency-Key` is
answered once; a retry with the same key, method, path and body gets the first answer
again, with `Idempotent-Replayed: true`, and changes nothing (`docs/reliability.md`).

A command's answer is kept as a receipt in the transaction of its events
(`domain.caller.Caller.receipt`, `storage.receipts`); an answer that recorded no events
(a 4xx) is kept on its own; a 5xx is not kept, so its retry runs again. Nothing is looked
up before a request runs: a retry runs the command again, and its save meets the first
receipt (ReceiptTaken, nothing saved), or its refusal does (`process_response`); either
way the first answer is given again.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import falcon

from api.access import principal_of
from api.errors import ApiError
from domain.calendar import api_instant
from domain.caller import Caller, ReceiptTaken
from storage import receipts
from storage.database import Database
from storage.receipts import Receipt

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
COMMANDS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")  # printable ASCII


@dataclass(frozen=True)
class Answer:
    """What the API answers to a command: status, JSON body (None: none), headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, resp: falcon.Response) -> None:
        resp.status = self.status
        if self.body is not None:
            resp.media = self.body
        for name, value in self.headers.items():
            resp.set_header(name, value)


@dataclass(frozen=True)
class Pending:
    scope: str
    key: str
    fingerprint: str


def _fingerprint(req: falcon.Request) -> str:
    """The request's method, path, query and body (as parsed JSON, keys sorted, so
    spacing does not make it another request)."""
    try:
        media = req.get_media(default_when_empty=None)
        body = json.dumps(media, sort_keys=True, separators=(",", ":"))
    except falcon.HTTPError:
        body = f"unparsed {req.content_type} {req.content_length}"
    text = f"{req.method} {req.path}?{req.query_string}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class _InFlight:
    """The keys of this process's requests still running."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def claim(self, pending: Pending) -> bool:
        with self._lock:
            if (pending.scope, pending.key) in self._keys:
                return False
            self._keys.add((pending.scope, pending.key))
            return True

    def release(self, pending: Pending) -> None:
        with self._lock:
            self._keys.discard((pending.scope, pending.key))


REUSED = ("IDEMPOTENCY_KEY_REUSED",
          "this Idempotency-Key was used for another request (method, path or body)")


def replay(receipt: Receipt, fingerprint: str, resp: falcon.Response) -> None:
    """Answer as the receipt says, or 422 if the key was used for another request."""
    if receipt.fingerprint != fingerprint:
        raise ApiError(falcon.HTTP_422, *REUSED)
    resp.status = receipt.status
    if receipt.body is not None:
        resp.text = receipt.body
        resp.content_type = falcon.MEDIA_JSON
    else:  # over an error answer, whose body and type must go
        resp.text = None
        resp.delete_header("Content-Type")
    for name, value in json.loads(receipt.headers).items():
        resp.set_header(name, value)
    resp.set_header(REPLAYED, "true")
    resp.complete = True


class Idempotency:
    """Middleware: replays what was answered, refuses a key in use, keeps what a command
    that recorded no events answered."""

    def __init__(self, database: Database, clock: Callable[[], Any]) -> None:
        self.database = database
        self.clock = clock
        self.in_flight = _InFlight()

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: object,
                         params: dict[str, Any]) -> None:
        key = req.get_header(HEADER)
        if (req.method not in COMMANDS or resource is None or key is None
                or getattr(resource, "changes_nothing", False)):
            return  # a POST that changes nothing (a dry run) answers alike when repeated
        if not _KEY.match(key):
            raise ApiError(falcon.HTTP_422, "IDEMPOTENCY_KEY_INVALID",
                           f"{HEADER} must be 1 to 255 printable ASCII characters")
        pending = Pending(principal_of(req).actor, key, _fingerprint(req))
        if not self.in_flight.claim(pending):
            raise ApiError(falcon.HTTP_409, "IDEMPOTENCY_KEY_IN_FLIGHT",
                           "a request with this Idempotency-Key is still running")
        req.context.idempotency = pending

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object,
                         req_succeeded: bool) -> None:
        pending: Pending | None = getattr(req.context, "idempotency", None)
        if pending is None:
            return
        self.in_flight.release(pending)
        status = falcon.http_status_to_code(resp.status)
        if getattr(req.context, "replayed", False) or status >= 500 or (
                status < 300 and getattr(req.context, "receipt_made", False)):
            return
        body = resp.text if resp.media is None else json.dumps(resp.media)
        if receipts.keep(self.database, self.receipt(pending, status, body, {})):
            return
        # Refused, because the first request with this key did what this one asks again:
        # the first answer stands (a retry), or the key was used for another request.
        first = receipts.find(self.database, pending.scope, pending.key)
        resp.media = None
        try:
            assert first is not None
            replay(first, pending.fingerprint, resp)
        except ApiError as reused:
            resp.status = reused.status
            resp.text = json.dumps(reused.to_dict())
            resp.content_type = falcon.MEDIA_JSON

    def receipt(self, pending: Pending, status: int, body: str | None,
                headers: dict[str, str]) -> Receipt:
        return Receipt(pending.scope, pending.key, pending.fingerprint, status, body,
                       json.dumps(headers), api_instant(self.clock()))

    def caller(self, req: falcon.Request, render: Callable[[Any], Answer]) -> Caller:
        """The caller of a command: the request's key, and, with an Idempotency-Key, the
        receipt of the answer `render` makes of the command's result."""
        actor = principal_of(req).actor
        pending: Pending | None = getattr(req.context, "idempotency", None)
        if pending is None:
            return Caller(actor)

        def receipt(result: Any) -> Receipt:
            answer = render(result)
            req.context.receipt_made = True
            body = None if answer.body is None else json.dumps(answer.body)
            return self.receipt(pending, answer.status, body, answer.headers)

        return Caller(actor, receipt)

    def answered(self, req: falcon.Request, resp: falcon.Response, error: ReceiptTaken,
                 params: Any) -> None:
        """Error handler: a request with the key saved its answer first (a retry running
        the command again, or a request in another process); this one saved nothing and
        answers as that one did."""
        pending: Pending | None = getattr(req.context, "idempotency", None)
        found = None if pending is None else receipts.find(self.database, pending.scope,
                                                           pending.key)
        if pending is None or found is None:
            raise ApiError(falcon.HTTP_409, "IDEMPOTENCY_KEY_IN_FLIGHT",
                           "a request with this Idempotency-Key is still running")
        req.context.replayed = True
        replay(found, pending.fingerprint, resp)
