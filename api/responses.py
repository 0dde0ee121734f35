"""Response models of the REST contract: what the OpenAPI document says each operation
answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import EnrollmentStatus, Status, StepType


class Step(BaseModel):
    id: str
    stepNumber: int
    type: StepType
    name: str
    config: dict[str, Any]
    nextStepId: str | None
    nextStepYesId: str | None = None
    nextStepNoId: str | None = None


class Journey(BaseModel):
    id: str
    tenantId: str
    name: str
    description: str | None
    status: Status
    triggerType: str
    triggerConfig: dict[str, Any]
    allowReentry: bool
    timezone: str
    stepsCount: int
    totalEnrolled: int
    totalCompleted: int
    totalExited: int
    totalFailed: int
    activeEnrollments: int
    activatedAt: str | None
    pausedAt: str | None
    resumedAt: str | None
    archivedAt: str | None
    createdBy: str | None
    createdAt: str
    updatedAt: str


class JourneyDetail(Journey):
    steps: list[Step] | None = None
    enrollments: list[EnrollmentItem] | None = None


class JourneyList(BaseModel):
    data: list[Journey]


class StepList(BaseModel):
    data: list[Step]


class Activated(BaseModel):
    id: str
    status: Status
    activatedAt: str


class Paused(BaseModel):
    id: str
    status: Status
    pausedAt: str
    activeEnrollments: int


class Resumed(BaseModel):
    id: str
    status: Status
    resumedAt: str


class Archived(BaseModel):
    id: str
    status: Status
    archivedAt: str
    exitedEnrollments: int


class FieldError(BaseModel):
    field: str
    message: str


class Error(BaseModel):
    title: str
    description: str
    code: str
    errors: list[FieldError] | None = None


class Validation(BaseModel):
    valid: bool = Field(description="No errors: the journey can be activated")
    errors: list[FieldError]
    warnings: list[FieldError] = Field(
        description="Allowed but likely not meant (a branch or a variant without an explicit "
                    "target, a step falling through into another branch); never block")


class EnrollmentItem(BaseModel):
    id: str
    customerId: str
    customerName: str | None
    customerEmail: str | None
    status: EnrollmentStatus
    currentStepNumber: int | None
    currentStepName: str | None
    waitingUntil: str | None
    enrolledAt: str


class PageMeta(BaseModel):
    total: int
    skip: int
    take: int


class EnrollmentPage(BaseModel):
    data: list[EnrollmentItem]
    meta: PageMeta


class CustomerEnrollment(BaseModel):
    id: str
    journeyId: str
    journeyName: str | None
    customerId: str
    status: EnrollmentStatus
    currentStepNumber: int | None
    currentStepName: str | None
    waitingUntil: str | None
    enrolledAt: str
    endedAt: str | None
    reason: str | None


class CustomerEnrollmentPage(BaseModel):
    data: list[CustomerEnrollment]
    meta: PageMeta


class Enrolled(BaseModel):
    id: str
    journeyId: str
    customerId: str
    status: EnrollmentStatus
    currentStepNumber: int | None
    enrolledAt: str


class HistoryItem(BaseModel):
    stepId: str
    stepName: str | None
    stepNumber: int | None
    status: Literal["ACTIVE", "COMPLETED", "FAILED", "SKIPPED"]
    startedAt: str
    completedAt: str | None = None
    branch: str | None = None
    variant: int | None = None
    messageId: str | None = None
    waitingUntil: str | None = None
    outcome: dict[str, Any]


class EnrollmentDetail(BaseModel):
    id: str
    journeyId: str
    customerId: str
    status: EnrollmentStatus
    currentStepNumber: int | None
    waitingUntil: str | None
    enrolledAt: str
    endedAt: str | None
    reason: str | None
    source: dict[str, Any]
    steps: list[HistoryItem]


class Customer(BaseModel):
    customerId: str
    tenantId: str
    name: str | None
    email: str | None
    attributes: dict[str, Any]
    createdAt: str
    updatedAt: str


class Accepted(BaseModel):
    accepted: int
    duplicates: int
    eventIds: list[str]


class StepStats(BaseModel):
    stepId: str
    stepNumber: int
    name: str
    type: StepType
    entered: int
    completed: int
    exited: int = Field(description="Enrollments that exited while at this step")
    failed: int = Field(description="Enrollments that failed at this step")
    waiting: int
    branches: dict[str, int] | None = None
    variants: list[dict[str, Any]] | None = None


class SeriesBucket(BaseModel):
    start: str = Field(description="The bucket's first instant, ISO-8601 in the journey's "
                                    "time zone (its offset tells the two hours of a fall-back)")
    enrolled: int
    completed: int
    exited: int
    failed: int
    messagesSent: int = Field(description="Messages delivered (SEND steps completed)")
    messagesFailed: int = Field(description="Messages that failed for good")


class Series(BaseModel):
    interval: Literal["hour", "day", "week"]
    timezone: str
    from_: str = Field(alias="from", description="The first bucket's start (UTC)")
    to: str = Field(description="The last bucket's end (UTC)")
    buckets: list[SeriesBucket]


class MessageItem(BaseModel):
    id: str
    enrollmentId: str
    customerId: str
    stepId: str
    channel: str
    templateId: str
    status: Literal["PENDING", "DELIVERED", "FAILED", "CANCELLED"]
    attempts: int = Field(description="Attempts made, the delivered one included")
    lastError: str | None
    requestedAt: str
    deliveredAt: str | None
    updatedAt: str


class MessagePage(BaseModel):
    data: list[MessageItem]
    meta: PageMeta


class JourneyStats(BaseModel):
    journeyId: str
    totals: dict[str, int]
    steps: list[StepStats]
    series: Series


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    database: str
    head: int
    lag: dict[str, int]


class HistoryEntry(BaseModel):
    """One entry of an aggregate's history: an event, or one fact of an `Advanced` event
    (several entries then share its version). `data`: what the event recorded, its
    fields named as `docs/events.md` names them."""

    version: int
    type: str
    occurredAt: str | None
    actor: str | None
    data: dict[str, Any]


class HistoryPage(BaseModel):
    data: list[HistoryEntry]
    meta: PageMeta


class TriggerOutcome(BaseModel):
    """`outcome`: ENROLLED (with `enrollmentId`), CONDITIONS_NOT_MET, JOURNEY_NOT_ACTIVE,
    ALREADY_ENROLLED or REENTRY_NOT_ALLOWED; `values`: what the trigger's conditions read."""

    journeyId: str
    outcome: str
    enrollmentId: str | None = None
    values: dict[str, Any] | None = None


class TriggerEventDetail(BaseModel):
    eventId: str
    tenantId: str
    type: str
    customerId: str
    occurredAt: str
    receivedAt: str
    data: dict[str, Any]
    customer: dict[str, Any] | None
    status: Literal["PENDING", "MATCHED"]
    outcomes: list[TriggerOutcome]


class SimulatedMessage(BaseModel):
    messageId: str
    stepId: str
    channel: str
    templateId: str
    requestedAt: str


class SimulatedCustomer(BaseModel):
    customerId: str
    enrollmentId: str = Field(description="Derived from the journey and the customer; never "
                                          "saved")
    status: EnrollmentStatus
    currentStepNumber: int | None
    waitingUntil: str | None
    endedAt: str | None
    reason: str | None
    stoppedBy: Literal["UNTIL", "PASS_LIMIT"] | None = Field(
        description="Why the run left it ACTIVE: it reached `until` (UNTIL), or the engine's "
                    "passes per customer ran out (PASS_LIMIT)")
    path: list[HistoryItem]
    messages: list[SimulatedMessage]


class Simulation(BaseModel):
    journeyId: str
    startAt: str
    until: str
    customers: list[SimulatedCustomer]
    steps: list[StepStats]
