"""What the engine hands to a channel, and what a channel answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Message:
    message_id: str
    tenant_id: str
    journey_id: str
    enrollment_id: str
    step_id: str
    customer_id: str
    channel: str
    template_id: str
    attempt: int
    customer: dict[str, Any]

    def document(self) -> dict[str, Any]:
        """The message as channels see it (camelCase, like the API)."""
        return {
            "messageId": self.message_id,
            "tenantId": self.tenant_id,
            "journeyId": self.journey_id,
            "enrollmentId": self.enrollment_id,
            "stepId": self.step_id,
            "customerId": self.customer_id,
            "channel": self.channel,
            "templateId": self.template_id,
            "attempt": self.attempt,
            "customer": self.customer,
        }


@dataclass(frozen=True)
class DeliveryResult:
    """`retry_after`: how long the receiver asked to be left alone (a transient failure)."""

    outcome: Literal["delivered", "transient", "permanent"]
    detail: str = ""
    retry_after: timedelta | None = None


class Channel(Protocol):
    """Hands a message over. Retries of the same message carry the same message id."""

    name: str

    def send(self, message: Message) -> DeliveryResult: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Transient failures are retried after base * 2**(attempt-1), at most `max_attempts` times."""

    max_attempts: int = 5
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=5)

    def next_attempt_at(self, attempt: int, now: datetime,
                        asked: timedelta | None = None) -> datetime | None:
        """When to try again after failed attempt number `attempt`, not sooner than the
        receiver `asked`; None when no attempt is left."""
        if attempt >= self.max_attempts:
            return None
        delay: timedelta = min(self.base * 2 ** (attempt - 1), self.cap)
        return now + max(delay, asked or timedelta(0))
