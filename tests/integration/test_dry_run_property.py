"""The dry run says what the engine does: for random journeys and random customers, the
paths a dry run gives equal what `tick` makes of the same customers (the same CONDITION
branches, the same SPLIT variants by the same rule, the same messages)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ids import random_id
from tests.conftest import Clock, Running
from tests.integration.builders import add_step, create_journey

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
_examples = itertools.count()


@st.composite
def journeys(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Steps with their configs; targets as forward offsets (so no cycles), or None."""
    count = draw(st.integers(1, 7))
    steps = []
    for index in range(count):
        ahead = count - index - 1  # how many steps follow this one

        def target(ahead: int = ahead) -> int | None:
            return draw(st.one_of(st.none(), st.integers(1, ahead))) if ahead else None

        kind = draw(st.sampled_from(["SEND", "WAIT", "CONDITION", "SPLIT", "UPDATE", "END"]))
        step: dict[str, Any] = {"type": kind, "name": f"{kind.lower()} {index + 1}"}
        if kind == "SEND":
            step["config"] = {"channel": "EMAIL", "templateId": f"t{index}"}
        elif kind == "WAIT":
            step["config"] = {"duration": draw(st.sampled_from(
                ["30 minutes", "2 hours", "1 day", "3 days", "1 week"]))}
        elif kind == "CONDITION":
            step["config"] = {"rules": [draw(st.sampled_from([
                {"field": "score", "operator": "gte", "value": draw(st.integers(0, 100))},
                {"field": "tier", "operator": "eq", "value": "Gold"},
                {"field": "tags", "operator": "contains", "value": "vip"}]))]}
            step["targets"] = (target(), target())
        elif kind == "SPLIT":
            first = draw(st.integers(1, 99))
            step["config"] = {"splits": [{"percentage": first}, {"percentage": 100 - first}]}
            step["targets"] = (target(), target())
        elif kind == "UPDATE":
            step["config"] = {"updates": [draw(st.sampled_from([
                {"field": "score", "action": "increment", "value": 25},
                {"field": "tags", "action": "add", "value": "vip"},
                {"field": "tier", "action": "set", "value": "Gold"}]))]}
        steps.append(step)
    return steps


customers = st.lists(st.fixed_dictionaries({
    "score": st.integers(0, 100), "tier": st.sampled_from(["Gold", "Silver"]),
    "tags": st.lists(st.sampled_from(["vip", "new"]), unique=True)}), min_size=1, max_size=4)


def build(running: Running, steps: list[dict[str, Any]]) -> str:
    client = running.client
    jid = create_journey(client, triggerConfig=None, timezone="Europe/London")["id"]
    ids = [add_step(client, jid, type=s["type"], name=s["name"],
                    config=s.get("config", {}))["id"] for s in steps]
    for index, step in enumerate(steps):
        yes, no = step.get("targets", (None, None))
        path = f"/journeys/{jid}/steps/{ids[index]}"
        if step["type"] == "CONDITION":
            patch = {"nextStepYesId": yes and ids[index + yes], "nextStepNoId": no and ids[index + no]}
            assert client.simulate_patch(path, json=patch).status_code == 200
        elif step["type"] == "SPLIT":
            splits = [{**split, **({"nextStepId": ids[index + t]} if t else {})}
                      for split, t in zip(step["config"]["splits"], (yes, no), strict=True)]
            assert client.simulate_patch(path, json={"config": {"splits": splits}}).status_code == 200
    return jid


def run_live(running: Running, jid: str, people: list[tuple[str, dict[str, Any]]],
             enrollment_ids: list[str]) -> list[dict[str, Any]]:
    """The same customers through the engine: enrolled at T0, `tick` at each instant due."""
    client, scheduler = running.client, running.system.scheduler
    assert client.simulate_post(f"/journeys/{jid}/activate").status_code == 200
    planned = iter(enrollment_ids)
    running.services.enrolling.new_id = lambda kind: next(planned) if kind == "enrollment" \
        else random_id(kind)
    for customer_id, attributes in people:
        assert client.simulate_put(f"/customers/{customer_id}", json={
            "tenantId": "tenant_123", "attributes": attributes}).status_code in (200, 201)
        assert client.simulate_post(f"/journeys/{jid}/enrollments",
                                    json={"customerId": customer_id}).status_code == 201
    now = T0
    for _ in range(50):
        scheduler.tick(now)
        page = client.simulate_get(f"/journeys/{jid}/enrollments",
                                   params={"status": "ACTIVE", "take": 500}).json["data"]
        due = sorted(e["waitingUntil"] for e in page if e["waitingUntil"])
        if not page:
            break
        assert due, "an ACTIVE enrollment waits for a timer"
        now = datetime.fromisoformat(due[0])
    return [client.simulate_get(f"/journeys/{jid}/enrollments/{enrollment_id}").json
            for enrollment_id in enrollment_ids]


def decisions(path: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(s["stepId"], s["status"], s.get("branch"), s.get("variant"), s["startedAt"],
             s.get("completedAt"), s.get("waitingUntil")) for s in path]


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(steps=journeys(), people=customers)
def test_the_dry_run_takes_the_paths_the_engine_takes(
    running: Running, clock: Clock, steps: list[dict[str, Any]], people: list[dict[str, Any]]
) -> None:
    clock.now = T0
    example = next(_examples)
    named = [(f"p{example}_{n}", attributes) for n, attributes in enumerate(people)]
    jid = build(running, steps)
    if running.client.simulate_get(f"/journeys/{jid}/validation").json["errors"]:
        return  # not runnable: activation would refuse it too
    simulated = running.client.simulate_post(f"/journeys/{jid}/simulate", json={
        "startAt": T0.isoformat(), "customers": [
            {"customerId": c, "attributes": a} for c, a in named]}).json["customers"]

    live = run_live(running, jid, named, [c["enrollmentId"] for c in simulated])

    for dry, real in zip(simulated, live, strict=True):
        assert decisions(dry["path"]) == decisions(real["steps"])
        assert (dry["status"], dry["endedAt"]) == (real["status"], real["endedAt"])
        assert [m["messageId"] for m in dry["messages"]] == \
            [s["messageId"] for s in real["steps"] if s.get("messageId")]
