"""Request models of the REST contract: bodies and queries. Unknown fields are refused.
What each operation answers is in `api/responses.py`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from domain.conditions import OPERATORS
from domain.steps import STEP_TYPES

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=2000)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Tenant = Annotated[Token | None, Field(
    description="Needed unless the API key is a tenant's own, which acts for its tenant only")]
StepType = Literal["TRIGGER", "SEND", "WAIT", "CONDITION", "SPLIT", "UPDATE", "END"]
Status = Literal["DRAFT", "ACTIVE", "PAUSED", "ARCHIVED"]
Operator = Literal[
    "eq", "neq", "gt", "gte", "lt", "lte", "in", "notIn", "contains", "isNull", "isNotNull"
]
assert set(Operator.__args__) == OPERATORS  # type: ignore[attr-defined]
assert set(StepType.__args__) == set(STEP_TYPES)  # type: ignore[attr-defined]

# Free-form objects (a customer's attributes, an event's data, a step's config) are bounded
# in keys and in size, so no client can make the service hold or replay megabytes for one
# customer or one step (docs/security.md).
FREE_FORM_KEYS = 100
FREE_FORM_BYTES = 16 * 1024


def _small(value: Any) -> Any:
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8",
                                                                                   "surrogatepass"))
    if size > FREE_FORM_BYTES:
        raise ValueError(f"at most {FREE_FORM_BYTES} bytes as JSON, not {size}")
    return value


FreeForm = Annotated[
    dict[str, Any],
    Field(max_length=FREE_FORM_KEYS,
          description=f"A JSON object of at most {FREE_FORM_KEYS} keys and "
                      f"{FREE_FORM_BYTES} bytes as compact JSON."),
    AfterValidator(_small),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rule(Request):
    field: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    operator: Operator
    value: Annotated[Any, AfterValidator(_small)] = None


class TriggerConfig(Request):
    conditions: list[Rule] = Field(default_factory=list, max_length=50)


class CreateJourney(Request):
    tenantId: Tenant = None
    name: Name
    description: Text | None = None
    triggerType: Name
    triggerConfig: TriggerConfig | None = None
    allowReentry: bool = False
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "UTC"
    createdBy: Token | None = None


class UpdateJourney(Request):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})

    name: Name | None = None
    description: Text | None = None
    triggerType: Name | None = None
    triggerConfig: TriggerConfig | None = None
    allowReentry: bool | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class AddStep(Request):
    type: StepType
    name: Name
    config: FreeForm = Field(default_factory=dict)
    nextStepId: Token | None = None
    nextStepYesId: Token | None = None
    nextStepNoId: Token | None = None
    afterStepId: Token | None = None


class UpdateStep(Request):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})

    name: Name | None = None
    config: FreeForm | None = None
    nextStepId: Token | None = None
    nextStepYesId: Token | None = None
    nextStepNoId: Token | None = None


class ReorderSteps(Request):
    stepIds: list[Token] = Field(min_length=1, max_length=500)


class ListJourneysQuery(Query):
    tenantId: Tenant = None
    status: Status | None = None
    triggerType: str | None = None


class Enroll(Request):
    customerId: Token


class CustomerProfile(Request):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    attributes: FreeForm = Field(default_factory=dict)


class PutCustomer(CustomerProfile):
    tenantId: Tenant = None


class TriggerEventIn(Request):
    tenantId: Tenant = None
    type: Name
    customerId: Token
    eventId: Token | None = None
    occurredAt: Annotated[AwareDatetime, Field(strict=False)] | None = None
    data: FreeForm = Field(default_factory=dict)
    customer: CustomerProfile | None = None


class EventBatch(Request):
    events: list[TriggerEventIn] = Field(min_length=1, max_length=1000)


EnrollmentStatus = Literal["ACTIVE", "COMPLETED", "EXITED", "FAILED"]


class ListEnrollmentsQuery(Query):
    status: EnrollmentStatus | None = None
    skip: int = Field(default=0, ge=0, le=10_000_000)
    take: int = Field(default=25, ge=1, le=500)
    tenantId: Token | None = None


class CustomerQuery(Query):
    tenantId: Tenant = None


class CustomerPageQuery(CustomerQuery):
    skip: int = Field(default=0, ge=0, le=10_000_000)
    take: int = Field(default=25, ge=1, le=500)


# Instants a client gives lie in these years, so that a default span or a bucket taken
# from them (a year after `startAt`, 30 days before `to`) is an instant too.
YEARS = (1970, 9000)


def _in_utc(instant: datetime) -> datetime:
    try:
        instant = instant.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range in UTC") from None
    if not YEARS[0] <= instant.year < YEARS[1]:
        raise ValueError(f"must lie from {YEARS[0]} to {YEARS[1]}")
    return instant


# An ISO-8601 instant with its offset, as a query or a body gives it; in UTC.
Instant = Annotated[AwareDatetime, Field(strict=False), AfterValidator(_in_utc)]
AsOf = Annotated[Instant | None, Field(
    description="An ISO-8601 instant with its offset: the state as it stood then, folded "
                "from the log (404 if it did not exist yet)")]


class GetJourneyQuery(Query):
    include: str | None = Field(default=None, description="Comma-separated: steps, enrollments")
    tenantId: Token | None = None
    asOf: AsOf = None


class StatsQuery(Query):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tenantId: Token | None = None
    from_: Instant | None = Field(default=None, alias="from",
                        description="The series' first instant (default: `to` less 2 days, "
                                    "30 days or 12 weeks by interval)")
    to: Instant | None = Field(default=None,
                               description="The series' end, excluded (default: now)")
    interval: Literal["hour", "day", "week"] = "day"


class GetEnrollmentQuery(Query):
    tenantId: Token | None = None
    asOf: AsOf = None


class TenantQuery(Query):
    tenantId: Token | None = None


class PageQuery(Query):
    skip: int = Field(default=0, ge=0, le=10_000_000)
    take: int = Field(default=25, ge=1, le=500)
    tenantId: Token | None = None


class ListMessagesQuery(PageQuery):
    status: Literal["PENDING", "DELIVERED", "FAILED", "CANCELLED"] | None = None


class SimulatedCustomer(Request):
    customerId: Token
    attributes: FreeForm | None = Field(
        default=None, description="What the run's conditions read (default: the stored "
                                  "customer's attributes, none for an unknown customer)")


class Simulate(Request):
    customers: list[SimulatedCustomer] = Field(min_length=1, max_length=1000)
    startAt: Instant | None = Field(default=None, description="Default: now")
    until: Instant | None = Field(default=None, description="Default: a year after startAt")
