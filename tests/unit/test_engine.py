"""The step engine on in-memory aggregates: every step type, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.customer import Customer
from domain.delivery import DeliveryResult, Message, RetryPolicy
from domain.engine import advance
from domain.enrollment import Enrollment
from domain.journey import Journey
from domain.steps import Step

T0 = datetime(2025, 3, 28, 9, 0, tzinfo=UTC)


class FakeChannel:
    """Answers with the scripted outcomes, then 'delivered'; remembers what it was handed."""

    name = "fake"

    def __init__(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes)
        self.handed: list[Message] = []

    def send(self, message: Message) -> DeliveryResult:
        self.handed.append(message)
        outcome = self.outcomes.pop(0) if self.outcomes else "delivered"
        return DeliveryResult(outcome, "scripted")  # type: ignore[arg-type]


def journey(*steps: Step, timezone: str = "UTC") -> Journey:
    j = Journey(tenant_id="t", name="n", description=None, trigger_type="go",
                trigger_config={"conditions": []}, allow_reentry=False, timezone=timezone,
                created_by=None, at=T0, id="journey_" + "1" * 32)  # type: ignore[call-arg]
    for step in steps:  # successors may point forward: add all, then link them
        j.add_step(Step(step.id, step.type, step.name), None, T0)
    for step in steps:
        links = {f: getattr(step, f) for f in ("next_step_id", "next_step_yes_id",
                                                "next_step_no_id") if getattr(step, f)}
        j.update_step(step.id, {"config": step.config, **links}, T0)
    j.activate(T0)
    return j


def enrollment(j: Journey, at: datetime = T0) -> Enrollment:
    return Enrollment(journey_id=j.id, tenant_id="t", customer_id="ada", source={"type": "manual"},
                      first_step_id=j.steps[0].id, at=at,
                      id="enrollment_" + "2" * 32)  # type: ignore[call-arg]


def customer(**attributes: Any) -> Customer:
    return Customer(tenant_id="t", customer_id="ada", name="Ada", email="a@x", attributes=attributes,
                    at=T0, id="customer_" + "3" * 32)  # type: ignore[call-arg]


def run(j: Journey, e: Enrollment, c: Customer, now: datetime, channel: FakeChannel | None = None,
        retry: RetryPolicy | None = None) -> list[str]:
    """The names of the events the enrollment recorded, each `Advanced` event's facts in its
    place; one pass records at most one event."""
    advance(e, j, c, now, channel or FakeChannel(), retry or RetryPolicy())
    events = e.collect_events()
    assert [type(event).__name__ for event in events].count("Advanced") <= 1
    return [name for event in events
            for name in ([f["kind"] for f in event.facts] if type(event).__name__ == "Advanced"
                         else [type(event).__name__])]


def facts(e: Enrollment) -> list[dict[str, Any]]:
    return [f for event in e.collect_events() for f in getattr(event, "facts", [])]


SEND = Step("step_send", "SEND", "Hello", {"channel": "EMAIL", "templateId": "hello"})
END = Step("step_end", "END", "Done")


def test_trigger_is_recorded_as_completed_on_entry() -> None:
    j = journey(Step("step_trigger", "TRIGGER", "Go", {"eventType": "go"}), END)
    e = enrollment(j)

    events = run(j, e, customer(), T0)

    assert events == ["Enrolled", "StepCompleted", "StepCompleted", "Completed"]
    assert e.status == "COMPLETED"


def test_send_hands_the_message_over_and_completes() -> None:
    j, channel = journey(SEND, END), FakeChannel()
    e = enrollment(j)

    events = run(j, e, customer(), T0, channel)

    assert events == ["Enrolled", "MessageRequested", "StepCompleted", "StepCompleted", "Completed"]
    [message] = channel.handed
    assert (message.template_id, message.channel, message.attempt) == ("hello", "EMAIL", 1)
    assert message.message_id.startswith("msg_")


def test_a_transient_failure_retries_the_same_message_after_backoff() -> None:
    j, channel = journey(SEND, END), FakeChannel("transient")
    e = enrollment(j)
    retry = RetryPolicy(max_attempts=3, base=timedelta(seconds=10))

    assert run(j, e, customer(), T0, channel, retry)[-1] == "DeliveryFailed"
    assert e.due_at == T0 + timedelta(seconds=10)
    assert run(j, e, customer(), T0 + timedelta(seconds=9), channel, retry) == []
    run(j, e, customer(), T0 + timedelta(seconds=10), channel, retry)

    assert e.status == "COMPLETED"
    assert [m.message_id for m in channel.handed] == [channel.handed[0].message_id] * 2
    assert [m.attempt for m in channel.handed] == [1, 2]


def test_a_permanent_failure_fails_the_enrollment_with_the_reason() -> None:
    j = journey(SEND, END)
    e = enrollment(j)

    run(j, e, customer(), T0, FakeChannel("permanent"))

    assert e.status == "FAILED"
    assert e.reason is not None and "failed permanently: scripted" in e.reason


def test_exhausted_retries_fail_the_enrollment() -> None:
    j, channel = journey(SEND, END), FakeChannel("transient", "transient")
    e = enrollment(j)
    retry = RetryPolicy(max_attempts=2, base=timedelta(seconds=1))

    run(j, e, customer(), T0, channel, retry)
    run(j, e, customer(), T0 + timedelta(minutes=1), channel, retry)

    assert e.status == "FAILED"
    assert e.reason is not None and "after 2 attempts" in e.reason


def test_wait_holds_until_its_calendar_end_in_the_journey_time_zone() -> None:
    wait = Step("step_wait", "WAIT", "3 days", {"duration": "3 days"})
    j = journey(wait, END, timezone="Europe/London")
    e = enrollment(j)

    assert run(j, e, customer(), T0) == ["Enrolled", "WaitStarted"]
    # Clocks go forward on 30 March: 09:00 UTC on the 28th is 09:00 local, and so is
    # 08:00 UTC on the 31st.
    ends = datetime(2025, 3, 31, 8, 0, tzinfo=UTC)
    assert e.due_at == ends
    assert run(j, e, customer(), ends - timedelta(seconds=1)) == []
    assert run(j, e, customer(), ends + timedelta(hours=5)) == [
        "StepCompleted", "StepCompleted", "Completed"]
    assert e.ended_at == ends, "time is logical: the next steps ran when the wait ended"


def test_condition_records_the_branch_and_the_values_it_saw() -> None:
    condition = Step("step_if", "CONDITION", "Engaged?",
                     {"rules": [{"field": "score", "operator": "gte", "value": 70}]},
                     next_step_no_id="step_end")
    j = journey(condition, SEND, END)
    yes, no = enrollment(j), enrollment(j)

    advance(yes, j, customer(score=80), T0, FakeChannel(), RetryPolicy())
    advance(no, j, customer(score="high"), T0, FakeChannel(), RetryPolicy())

    first_yes = next(f for f in facts(yes) if f["kind"] == "StepCompleted")
    first_no = next(f for f in facts(no) if f["kind"] == "StepCompleted")
    assert first_yes["outcome"] == {"branch": "yes", "values": {"score": 80}}
    assert first_yes["next_step_id"] == "step_send"
    assert first_no["outcome"] == {"branch": "no", "values": {"score": "high"}}
    assert first_no["next_step_id"] == "step_end"


def test_split_picks_the_same_variant_on_replay() -> None:
    split = Step("step_ab", "SPLIT", "A/B", {"splits": [
        {"percentage": 50, "nextStepId": "step_send"}, {"percentage": 50, "nextStepId": "step_end"}]})
    j = journey(split, SEND, END)
    e = enrollment(j)

    advance(e, j, customer(), T0, FakeChannel(), RetryPolicy())
    events = e.collect_events()
    decided = events[1].facts[0]

    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    again = enrollment(j)
    advance(again, j, customer(), T0, FakeChannel(), RetryPolicy())
    assert again.collect_events()[1].facts[0]["outcome"] == decided["outcome"]
    assert decided["next_step_id"] == ("step_send", "step_end")[decided["outcome"]["variant"]]


def test_update_changes_the_customer_with_the_enrollments_step() -> None:
    update = Step("step_tag", "UPDATE", "Tag", {"updates": [
        {"field": "tags", "action": "add", "value": "onboarded"},
        {"field": "visits", "action": "increment"}]})
    j = journey(update, END)
    e, c = enrollment(j), customer(visits=2)

    run(j, e, c, T0)

    assert c.attributes == {"tags": ["onboarded"], "visits": 3}
    assert [type(x).__name__ for x in c.collect_events()] == ["Registered", "AttributesUpdated"]


def test_a_paused_journey_holds_work_and_an_archived_one_exits_it() -> None:
    j = journey(Step("step_wait", "WAIT", "w", {"duration": "1 hour"}), END)
    e = enrollment(j)
    run(j, e, customer(), T0)

    j.pause(T0)
    assert run(j, e, customer(), T0 + timedelta(days=1)) == []
    j.resume(T0)
    j.archive(T0)
    assert run(j, e, customer(), T0 + timedelta(days=1)) == ["Exited"]
    assert e.reason == "JOURNEY_ARCHIVED"


def test_a_pass_is_one_event_and_replaying_it_gives_the_same_enrollment() -> None:
    j = journey(SEND, Step("step_wait", "WAIT", "w", {"duration": "1 hour"}), END)
    e = enrollment(j)
    advance(e, j, customer(), T0, FakeChannel(), RetryPolicy())
    events = e.collect_events()

    assert [type(x).__name__ for x in events] == ["Enrolled", "Advanced"]
    assert [f["kind"] for f in events[1].facts] == ["MessageRequested", "StepCompleted", "WaitStarted"]
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert vars(replayed) == vars(e)
