"""The Journey aggregate's rules, with an injected clock and no storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Conflict, Invalid, NotFound
from domain.journey import Journey
from domain.steps import Step

T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)


def journey() -> Journey:
    return Journey(
        tenant_id="t", name="n", description=None, trigger_type="member.created",
        trigger_config={"conditions": []}, allow_reentry=False, timezone="UTC",
        created_by=None, at=T0, id="journey_" + "1" * 32,
    )


def valid(j: Journey) -> Journey:
    j.add_step(Step("step_a", "SEND", "a", {"channel": "EMAIL", "templateId": "x"}), None, T0)
    j.add_step(Step("step_b", "END", "b"), None, T0)
    return j


def test_a_new_journey_is_a_draft_with_one_created_event() -> None:
    j = journey()

    assert j.status == "DRAFT"
    assert [type(e).__name__ for e in j.collect_events()] == ["Created"]


def test_activation_records_the_injected_time() -> None:
    j = valid(journey())

    j.activate(T0 + timedelta(hours=1))

    assert (j.status, j.activated_at) == ("ACTIVE", T0 + timedelta(hours=1))


def test_refused_commands_record_no_event() -> None:
    j = journey()
    j.collect_events()

    with pytest.raises(Conflict) as refused:
        j.activate(T0)
    with pytest.raises(Conflict):
        j.pause(T0)

    assert refused.value.code == "JOURNEY_INVALID"
    assert j.collect_events() == []
    assert j.status == "DRAFT"


def test_archived_is_terminal() -> None:
    j = valid(journey())
    j.archive(T0)

    for command in (lambda: j.activate(T0), lambda: j.archive(T0),
                    lambda: j.update_details({"name": "x"}, T0),
                    lambda: j.update_step("step_a", {"name": "x"}, T0)):
        with pytest.raises(Conflict):
            command()


def test_live_journeys_lock_everything_but_name_and_description() -> None:
    j = valid(journey())
    j.activate(T0)

    j.update_details({"name": "renamed", "description": "d"}, T0)
    with pytest.raises(Conflict) as refused:
        j.update_details({"name": "x", "timezone": "UTC", "trigger_type": "y"}, T0)

    assert j.name == "renamed"
    assert [p.field for p in refused.value.problems] == ["timezone", "trigger_type"]


def test_delete_only_in_draft() -> None:
    draft, live = valid(journey()), valid(journey())
    live.activate(T0)

    draft.delete(T0)

    assert draft.deleted
    with pytest.raises(Conflict):
        live.delete(T0)


def test_reorder_needs_a_permutation() -> None:
    j = valid(journey())

    with pytest.raises(Invalid):
        j.reorder_steps(["step_a"], T0)
    with pytest.raises(Invalid):
        j.reorder_steps(["step_a", "step_a"], T0)
    j.reorder_steps(["step_b", "step_a"], T0)

    assert [s.id for s in j.steps] == ["step_b", "step_a"]


def test_unknown_steps_are_not_found() -> None:
    with pytest.raises(NotFound):
        journey().update_step("step_zzz", {"name": "x"}, T0)


def test_a_send_template_may_change_while_live_but_not_its_channel() -> None:
    j = valid(journey())
    j.activate(T0)

    j.update_step("step_a", {"config": {"channel": "EMAIL", "templateId": "y"}}, T0)
    with pytest.raises(Conflict):
        j.update_step("step_a", {"config": {"channel": "SMS", "templateId": "y"}}, T0)

    assert j.step("step_a").config["templateId"] == "y"


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    j = valid(journey())
    j.update_step("step_a", {"name": "hello"}, T0)
    j.reorder_steps(["step_b", "step_a"], T0)
    events = j.collect_events()

    replayed = None
    for event in events:
        replayed = event.mutate(replayed)

    assert replayed is not None
    assert [s.as_dict() for s in replayed.steps] == [s.as_dict() for s in j.steps]
    assert replayed.version == j.version
