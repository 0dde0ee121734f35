"""One JSON error shape everywhere: {"title", "description", "code"} plus "errors" for fields."""

from __future__ import annotations

import logging
import re
from typing import Any

import falcon
from eventsourcing.persistence import InterfaceError, OperationalError
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from domain.errors import Conflict, Invalid, JourneysError, NotFound, Problem

log = logging.getLogger(__name__)


class ApiError(falcon.HTTPError):
    """An HTTP error carrying the product's error document."""

    def __init__(
        self,
        status: str,
        code: str,
        description: str,
        errors: list[Problem] | None = None,
    ) -> None:
        super().__init__(status, title=falcon.code_to_http_status(status).split(" ", 1)[1])
        self.error_code = code
        self.description = description
        self.errors = errors

    def to_dict(self, obj_type: Any = dict) -> Any:
        document: dict[str, Any] = {
            "title": self.title,
            "description": self.description,
            "code": self.error_code,
        }
        if self.errors is not None:
            document["errors"] = [{"field": p.field, "message": p.message} for p in self.errors]
        return document


CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    431: "HEADERS_TOO_LARGE",
    500: "INTERNAL_ERROR",
    503: "UNAVAILABLE",
}
_HEAD = re.compile(r"^[a-z][a-z0-9_]*")


def contract_field(field: str) -> str:
    """A domain problem's field as the contract names it: the path's first part, a domain
    attribute, in camelCase (`trigger_config.conditions[0]` ->
    `triggerConfig.conditions[0]`); what follows is the client's own keys."""
    return _HEAD.sub(lambda head: to_camel(head.group(0)), field, count=1)


def _contract(problems: list[Problem]) -> list[Problem]:
    return [Problem(contract_field(p.field), p.message) for p in problems]


def validation_error(error: ValidationError, where: str = "body") -> ApiError:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or where
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(Problem(location, message))
    return ApiError(
        falcon.HTTP_422,
        "VALIDATION_FAILED",
        f"the request {where} is invalid",
        problems,
    )


def _domain_error(req: falcon.Request, resp: falcon.Response, error: JourneysError, _: Any) -> None:
    problems = _contract(error.problems)
    if isinstance(error, NotFound):
        raise ApiError(falcon.HTTP_404, error.code, error.message)
    if isinstance(error, Conflict):
        raise ApiError(falcon.HTTP_409, error.code, error.message, problems or None)
    if isinstance(error, Invalid):
        raise ApiError(falcon.HTTP_422, error.code, error.message, problems)
    raise ApiError(falcon.HTTP_400, error.code, error.message, problems or None)


def _http_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, _: Any) -> None:
    """Falcon's own errors (bad JSON, 404 route, 405) in the product's shape."""
    if isinstance(error, ApiError):
        raise error
    status = error.status
    code = CODES.get(error.status_code, "HTTP_ERROR")
    description = error.description or error.title or "request refused"
    if isinstance(error, falcon.MediaMalformedError):
        description = "the body is not valid JSON"
    wrapped = ApiError(str(status), code, description)
    wrapped.headers = error.headers
    raise wrapped


RETRY_AFTER = "2"  # seconds a client waits before it retries, while the database is away


def unavailable(error: Exception) -> ApiError:
    """503: the database cannot be reached (down, restarting, or out of connections)."""
    log.warning("the database is unavailable: %s", error)
    problem = ApiError(falcon.HTTP_503, "UNAVAILABLE",
                       "the database is unavailable; try again shortly")
    problem.headers = {"Retry-After": RETRY_AFTER}
    return problem


def _database_away(req: falcon.Request, resp: falcon.Response, error: Exception, _: Any) -> None:
    raise unavailable(error)


def _unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, _: Any) -> None:
    log.exception("unexpected error on %s %s", req.method, req.path)
    raise ApiError(falcon.HTTP_500, "INTERNAL_ERROR", "an unexpected error occurred")


def register(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(falcon.HTTPError, _http_error)
    app.add_error_handler(JourneysError, _domain_error)
    app.add_error_handler(OperationalError, _database_away)
    app.add_error_handler(InterfaceError, _database_away)
