"""The step engine: moves one enrollment as far as it can go at a given instant.

Time is logical: a step is entered at the instant it became due (a WAIT's end, a message's
delivery), not when a process got round to it, so a late scheduler or a `tick` backfill
makes the same decisions, at the same recorded times, as a punctual one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.calendar import api_instant, wait_ends
from domain.conditions import evaluate
from domain.customer import Customer
from domain.delivery import Channel, Message, RetryPolicy
from domain.durations import parse_duration
from domain.enrollment import ADVANCE, SEND, WAIT, Enrollment
from domain.ids import message_id_for
from domain.journey import ARCHIVED, PAUSED, Journey
from domain.splits import bucket, choose_variant
from domain.steps import Step, successors


@dataclass
class Progress:
    """What one pass changed: the aggregates to save together."""

    changed: bool = False
    ended: bool = False
    customer_changed: bool = False
    messages: list[str] = field(default_factory=list)


def advance(
    enrollment: Enrollment,
    journey: Journey,
    customer: Customer,
    now: datetime,
    channel: Channel,
    retry: RetryPolicy,
) -> Progress:
    """Run every step of `enrollment` that is due at `now`, handing messages to `channel`.

    What the pass did is recorded as one event (`Enrollment.record`)."""
    progress = Progress()
    if not enrollment.is_active or journey.status == PAUSED:
        return progress  # nothing to run; a PAUSED journey's work is held, not dropped
    if journey.status == ARCHIVED:
        enrollment.exit("JOURNEY_ARCHIVED", now)
        progress.changed = progress.ended = True
        enrollment.record()
        return progress
    index_of = {step.id: index for index, step in enumerate(journey.steps)}
    for _ in range(2 * len(journey.steps) + 2):
        if not enrollment.is_active or enrollment.due_at > now:
            break
        at = enrollment.due_at
        if enrollment.current_step_id is None or enrollment.current_step_id not in index_of:
            enrollment.complete(at)
            progress.changed = progress.ended = True
            break
        index = index_of[enrollment.current_step_id]
        step = journey.steps[index]
        if enrollment.pending == WAIT:
            _finish(enrollment, journey, step, {"waitedUntil": api_instant(at)},
                    _next(journey, index), at, progress)
        elif enrollment.pending == SEND:
            _deliver(enrollment, journey, customer, step, index, now, channel, retry, progress)
        elif enrollment.pending == ADVANCE:
            _run(enrollment, journey, customer, step, index, at, progress)
    enrollment.record()
    return progress


def _next(journey: Journey, index: int, branch: int = 0) -> str | None:
    return successors(journey.steps, index)[branch]


def _finish(
    enrollment: Enrollment,
    journey: Journey,
    step: Step,
    outcome: dict[str, Any],
    next_step_id: str | None,
    at: datetime,
    progress: Progress,
) -> None:
    enrollment.complete_step(step.id, step.type, outcome, next_step_id, at,
                             journey.name_of(next_step_id))
    progress.changed = True
    if next_step_id is None:
        enrollment.complete(at)
        progress.ended = True


def _run(
    enrollment: Enrollment,
    journey: Journey,
    customer: Customer,
    step: Step,
    index: int,
    at: datetime,
    progress: Progress,
) -> None:
    config = step.config
    if step.type == "SEND":
        enrollment.request_message(
            step.id, message_id_for(enrollment.id, step.id, 1),
            str(config.get("channel")), str(config.get("templateId")), at,
        )
        progress.changed = True
    elif step.type == "WAIT":
        until = wait_ends(at, parse_duration(config.get("duration")), journey.timezone)
        enrollment.start_wait(step.id, until, at)
        progress.changed = True
    elif step.type == "CONDITION":
        holds, seen = evaluate(config.get("rules") or [], config.get("combinator", "AND"),
                               customer.profile())
        _finish(enrollment, journey, step, {"branch": "yes" if holds else "no", "values": seen},
                _next(journey, index, 0 if holds else 1), at, progress)
    elif step.type == "SPLIT":
        splits = config.get("splits") or []
        variant = choose_variant(enrollment.id, step.id, [s["percentage"] for s in splits])
        outcome = {"variant": variant, "percentage": splits[variant]["percentage"],
                   "bucket": bucket(enrollment.id, step.id)}
        _finish(enrollment, journey, step, outcome, _next(journey, index, variant), at, progress)
    elif step.type == "UPDATE":
        changes = customer.update_attributes(config.get("updates") or [], enrollment.id,
                                             step.id, at)
        progress.customer_changed = True
        _finish(enrollment, journey, step, {"changes": changes}, _next(journey, index), at, progress)
    elif step.type == "END":
        _finish(enrollment, journey, step, {}, None, at, progress)
    else:  # TRIGGER: recorded as completed on entry
        _finish(enrollment, journey, step, {}, _next(journey, index), at, progress)


def _deliver(
    enrollment: Enrollment,
    journey: Journey,
    customer: Customer,
    step: Step,
    index: int,
    now: datetime,
    channel: Channel,
    retry: RetryPolicy,
    progress: Progress,
) -> None:
    assert enrollment.message_id is not None
    message = Message(
        message_id=enrollment.message_id,
        tenant_id=enrollment.tenant_id,
        journey_id=journey.id,
        enrollment_id=enrollment.id,
        step_id=step.id,
        customer_id=enrollment.customer_id,
        channel=enrollment.message_channel,
        template_id=enrollment.message_template_id,
        attempt=enrollment.attempt,
        customer={"name": customer.name, "email": customer.email,
                  "attributes": customer.attributes},
    )
    result = channel.send(message)
    progress.messages.append(message.message_id)
    progress.changed = True
    if result.outcome == "delivered":
        outcome = {"messageId": message.message_id, "channel": message.channel,
                   "templateId": message.template_id, "adapter": channel.name,
                   "attempts": message.attempt}
        _finish(enrollment, journey, step, outcome, _next(journey, index), now, progress)
        return
    retry_at = (retry.next_attempt_at(message.attempt, now, result.retry_after)
                if result.outcome == "transient" else None)
    # Every failed attempt is recorded, the last one too: the history shows each error.
    enrollment.delivery_failed(step.id, message.message_id, message.attempt, result.detail,
                               retry_at, now)
    if retry_at is None:
        reason = (f"delivery of {message.message_id} failed permanently: {result.detail}"
                  if result.outcome == "permanent"
                  else f"delivery of {message.message_id} failed after {message.attempt} "
                       f"attempts: {result.detail}")
        enrollment.fail(step.id, reason, now)
        progress.ended = True
