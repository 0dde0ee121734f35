"""A journey really runs: triggers, every step type, waits, branches, counters and stats,
driven through the HTTP API with `tick` at chosen instants, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from falcon import testing

from tests.conftest import Clock, Running
from tests.integration.builders import add_step, create_journey

T0 = datetime(2025, 12, 14, 7, 0, tzinfo=UTC)  # 09:00 in Africa/Johannesburg


def six_step_journey(client: testing.TestClient, **overrides: Any) -> dict[str, Any]:
    """SEND, WAIT 3 days, CONDITION (score >= 70: yes to SPLIT, no to END), SPLIT 50/50, UPDATE, END."""
    journey = create_journey(client, **overrides)
    jid = journey["id"]
    steps = {
        "send": add_step(client, jid, type="SEND", name="Welcome Email",
                         config={"channel": "EMAIL", "templateId": "welcome_email"}),
        "wait": add_step(client, jid, type="WAIT", name="Wait 3 days",
                         config={"duration": "3 days"}),
        "condition": add_step(client, jid, type="CONDITION", name="Engaged?",
                              config={"rules": [{"field": "engagementScore", "operator": "gte",
                                                 "value": 70}]}),
        "split": add_step(client, jid, type="SPLIT", name="A/B", config={}),
        "update": add_step(client, jid, type="UPDATE", name="Tag as Onboarded",
                           config={"updates": [{"field": "tags", "action": "add",
                                                "value": "onboarded"}]}),
        "end": add_step(client, jid, type="END", name="Journey Complete"),
    }
    path = f"/journeys/{jid}/steps"
    assert client.simulate_patch(f"{path}/{steps['condition']['id']}",
                                 json={"nextStepNoId": steps["end"]["id"]}).status_code == 200
    assert client.simulate_patch(f"{path}/{steps['split']['id']}", json={"config": {"splits": [
        {"percentage": 50, "nextStepId": steps["update"]["id"]},
        {"percentage": 50, "nextStepId": steps["update"]["id"]},
    ]}}).status_code == 200
    activated = client.simulate_post(f"/journeys/{jid}/activate")
    assert activated.status_code == 200, activated.text
    journey["steps"] = steps
    return journey


def put_customer(client: testing.TestClient, customer_id: str, **attributes: Any) -> None:
    result = client.simulate_put(f"/customers/{customer_id}", json={
        "tenantId": "tenant_123", "name": customer_id.title(),
        "email": f"{customer_id}@example.com", "attributes": attributes})
    assert result.status_code in (200, 201), result.text


def trigger(client: testing.TestClient, customer_id: str, event_id: str | None = None,
            **data: Any) -> None:
    body: dict[str, Any] = {"tenantId": "tenant_123", "type": "scl.member.created",
                            "customerId": customer_id, "data": data}
    if event_id:
        body["eventId"] = event_id
    result = client.simulate_post("/events", json=body)
    assert result.status_code == 202, result.text


def enrollments(client: testing.TestClient, jid: str, **params: Any) -> dict[str, Any]:
    result = client.simulate_get(f"/journeys/{jid}/enrollments", params=params)
    assert result.status_code == 200, result.text
    page: dict[str, Any] = result.json
    return page


def stats_by_step(client: testing.TestClient, jid: str) -> dict[str, dict[str, Any]]:
    result = client.simulate_get(f"/journeys/{jid}/stats")
    assert result.status_code == 200, result.text
    return {s["name"]: s for s in result.json["steps"]}


def test_a_six_step_journey_runs_end_to_end(running: Running, clock: Clock) -> None:
    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    journey = six_step_journey(client)
    jid = journey["id"]
    put_customer(client, "ada", membershipTier="Gold", engagementScore=80)
    put_customer(client, "bob", membershipTier="Platinum", engagementScore=10)
    put_customer(client, "cyd", membershipTier="Silver", engagementScore=99)
    for customer in ("ada", "bob", "cyd"):
        trigger(client, customer)

    totals = scheduler.tick(T0)

    assert totals.matched == 3
    page = enrollments(client, jid)
    assert page["meta"] == {"total": 2, "skip": 0, "take": 25}
    by_customer = {e["customerId"]: e for e in page["data"]}
    assert set(by_customer) == {"ada", "bob"}, "cyd is Silver: the trigger conditions exclude her"
    ada = by_customer["ada"]
    assert (ada["status"], ada["currentStepNumber"], ada["currentStepName"]) == (
        "ACTIVE", 2, "Wait 3 days")
    assert (ada["customerName"], ada["customerEmail"]) == ("Ada", "ada@example.com")
    assert ada["waitingUntil"] == "2025-12-17T07:00:00.000Z"
    assert ada["enrolledAt"] == "2025-12-14T07:00:00.000Z"
    stats = stats_by_step(client, jid)
    assert (stats["Welcome Email"]["entered"], stats["Welcome Email"]["completed"]) == (2, 2)
    assert (stats["Wait 3 days"]["entered"], stats["Wait 3 days"]["waiting"]) == (2, 2)
    detail = client.simulate_get(f"/journeys/{jid}").json
    assert (detail["totalEnrolled"], detail["activeEnrollments"]) == (2, 2)

    scheduler.tick(datetime(2025, 12, 17, 6, 59, tzinfo=UTC))
    assert enrollments(client, jid, status="ACTIVE")["meta"]["total"] == 2

    scheduler.tick(datetime(2025, 12, 17, 7, 0, tzinfo=UTC))

    detail = client.simulate_get(f"/journeys/{jid}", params={"include": "enrollments"}).json
    assert (detail["totalEnrolled"], detail["totalCompleted"], detail["activeEnrollments"]) == (
        2, 2, 0)
    assert {e["status"] for e in detail["enrollments"]} == {"COMPLETED"}
    stats = stats_by_step(client, jid)
    assert stats["Wait 3 days"]["waiting"] == 0
    assert stats["Engaged?"]["branches"] == {"yes": 1, "no": 1}
    assert sum(v["entered"] for v in stats["A/B"]["variants"]) == 1
    assert (stats["Tag as Onboarded"]["entered"], stats["Journey Complete"]["entered"]) == (1, 2)
    ada_detail = client.simulate_get(f"/journeys/{jid}/enrollments/{ada['id']}").json
    assert ada_detail["status"] == "COMPLETED"
    assert [s["stepName"] for s in ada_detail["steps"]] == [
        "Welcome Email", "Wait 3 days", "Engaged?", "A/B", "Tag as Onboarded", "Journey Complete"]
    assert {s["status"] for s in ada_detail["steps"]} == {"COMPLETED"}
    send, wait, condition, split = ada_detail["steps"][:4]
    assert send["messageId"].startswith("msg_")
    assert send["messageId"] in running.system.scheduler.advancing.channel.sent  # type: ignore[attr-defined]
    assert wait["completedAt"] == "2025-12-17T07:00:00.000Z"
    assert condition["branch"] == "yes"
    assert condition["outcome"]["values"] == {"engagementScore": 80}
    assert split["variant"] in (0, 1)
    ada_profile = client.simulate_get("/customers/ada", params={"tenantId": "tenant_123"}).json
    assert ada_profile["attributes"]["tags"] == ["onboarded"]
    bob_profile = client.simulate_get("/customers/bob", params={"tenantId": "tenant_123"}).json
    assert "tags" not in bob_profile["attributes"]


def test_pause_holds_due_steps_and_resume_releases_them(running: Running, clock: Clock) -> None:
    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    jid = six_step_journey(client)["id"]
    enrolled = client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": "ada"})
    assert enrolled.status_code == 201
    assert enrolled.json["currentStepNumber"] == 1
    scheduler.tick(T0)
    paused = client.simulate_post(f"/journeys/{jid}/pause")
    assert paused.json["activeEnrollments"] == 1

    later = datetime(2025, 12, 18, tzinfo=UTC)
    scheduler.tick(later)
    assert enrollments(client, jid)["data"][0]["currentStepName"] == "Wait 3 days"
    refused = client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": "bob"})
    assert refused.status_code == 409

    client.simulate_post(f"/journeys/{jid}/resume")
    scheduler.tick(later)

    item = enrollments(client, jid)["data"][0]
    assert item["status"] == "COMPLETED"
    detail = client.simulate_get(f"/journeys/{jid}/enrollments/{item['id']}").json
    wait = detail["steps"][1]
    assert wait["completedAt"] == "2025-12-17T07:00:00.000Z", "held work runs at its due time"


def test_archive_exits_active_enrollments_and_counts_them(running: Running, clock: Clock) -> None:
    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    jid = six_step_journey(client)["id"]
    for customer in ("ada", "bob", "cyd"):
        client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": customer})
    scheduler.tick(T0)

    archived = client.simulate_post(f"/journeys/{jid}/archive")

    assert archived.status_code == 200
    assert archived.json["exitedEnrollments"] == 3
    page = enrollments(client, jid, status="EXITED")
    assert page["meta"]["total"] == 3
    detail = client.simulate_get(f"/journeys/{jid}/enrollments/{page['data'][0]['id']}").json
    assert (detail["status"], detail["reason"]) == ("EXITED", "JOURNEY_ARCHIVED")
    assert detail["steps"][-1]["status"] == "SKIPPED"
    assert stats_by_step(client, jid)["Wait 3 days"]["waiting"] == 0
    scheduler.tick(datetime(2026, 1, 1, tzinfo=UTC))
    assert client.simulate_get(f"/journeys/{jid}").json["totalExited"] == 3


def test_exit_by_customer(running: Running, clock: Clock) -> None:
    client = running.client
    clock.now = T0
    jid = six_step_journey(client)["id"]
    enrolled = client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": "ada"})

    exited = client.simulate_delete(f"/journeys/{jid}/enrollments/ada")
    again = client.simulate_delete(f"/journeys/{jid}/enrollments/ada")
    unknown = client.simulate_delete(f"/journeys/{jid}/enrollments/nobody")

    assert exited.status_code == 204
    assert again.status_code == 404
    assert unknown.status_code == 404
    detail = client.simulate_get(f"/journeys/{jid}/enrollments/{enrolled.json['id']}").json
    assert (detail["status"], detail["reason"]) == ("EXITED", "MANUAL")
    assert client.simulate_get(f"/journeys/{jid}").json["totalExited"] == 1


def test_no_reentry_means_once_ever(running: Running, clock: Clock) -> None:
    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    jid = six_step_journey(client, allowReentry=False)["id"]
    put_customer(client, "ada", membershipTier="Gold", engagementScore=1)
    trigger(client, "ada")
    scheduler.tick(T0)  # the message goes out at T0, so the 3-day wait ends on the 17th
    scheduler.tick(datetime(2025, 12, 20, tzinfo=UTC))
    assert enrollments(client, jid)["data"][0]["status"] == "COMPLETED"

    trigger(client, "ada")
    scheduler.tick(datetime(2025, 12, 21, tzinfo=UTC))
    manual = client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": "ada"})

    assert enrollments(client, jid)["meta"]["total"] == 1
    assert manual.status_code == 409
    assert manual.json["code"] == "REENTRY_NOT_ALLOWED"


def test_reentry_allowed_after_the_last_one_ended(running: Running, clock: Clock) -> None:
    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    jid = six_step_journey(client, allowReentry=True)["id"]
    put_customer(client, "ada", membershipTier="Gold", engagementScore=1)
    trigger(client, "ada")
    trigger(client, "ada")
    scheduler.tick(T0)
    assert enrollments(client, jid)["meta"]["total"] == 1, "one ACTIVE enrollment at a time"
    active = client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": "ada"})
    assert active.status_code == 409 and active.json["code"] == "ALREADY_ENROLLED"

    scheduler.tick(datetime(2025, 12, 20, tzinfo=UTC))
    clock.now = datetime(2025, 12, 20, tzinfo=UTC)
    trigger(client, "ada")
    scheduler.tick(datetime(2025, 12, 20, tzinfo=UTC))

    page = enrollments(client, jid)
    assert page["meta"]["total"] == 2
    assert [e["status"] for e in page["data"]] == ["COMPLETED", "ACTIVE"]


def test_a_repeated_event_id_is_accepted_and_ignored(running: Running, clock: Clock) -> None:
    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    jid = six_step_journey(client, allowReentry=True)["id"]
    put_customer(client, "ada", membershipTier="Gold")
    body = {"tenantId": "tenant_123", "type": "scl.member.created", "customerId": "ada",
            "eventId": "evt-1"}

    first = client.simulate_post("/events", json=body)
    second = client.simulate_post("/events/batch", json={"events": [body, {**body,
                                                                           "eventId": "evt-2"}]})

    assert first.json == {"accepted": 1, "duplicates": 0, "eventIds": ["evt-1"]}
    assert second.status_code == 202
    assert second.json == {"accepted": 1, "duplicates": 1, "eventIds": ["evt-1", "evt-2"]}
    scheduler.tick(T0)
    assert enrollments(client, jid)["meta"]["total"] == 1


def test_trigger_conditions_see_event_data_over_attributes(running: Running, clock: Clock) -> None:
    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    jid = six_step_journey(client)["id"]
    client.simulate_post("/events", json={
        "tenantId": "tenant_123", "type": "scl.member.created", "customerId": "new",
        "data": {"membershipTier": "Platinum"},
        "customer": {"name": "Newcomer", "email": "new@example.com", "attributes": {"a": 1}}})
    client.simulate_post("/events", json={
        "tenantId": "other", "type": "scl.member.created", "customerId": "x",
        "data": {"membershipTier": "Gold"}})

    scheduler.tick(T0)

    item = enrollments(client, jid)["data"]
    assert [(e["customerId"], e["customerName"]) for e in item] == [("new", "Newcomer")]
    profile = client.simulate_get("/customers/new", params={"tenantId": "tenant_123"}).json
    assert profile["attributes"] == {"a": 1}


def test_bad_enrollment_and_event_input_is_refused(running: Running, clock: Clock) -> None:
    client = running.client
    draft = create_journey(client)["id"]

    assert client.simulate_post(f"/journeys/{draft}/enrollments",
                                json={"customerId": "ada"}).status_code == 409
    assert client.simulate_post(f"/journeys/{draft}/enrollments", json={}).status_code == 422
    assert client.simulate_post(f"/journeys/{draft}/enrollments",
                                json={"customerId": "x" * 129}).status_code == 422
    assert client.simulate_get(f"/journeys/{draft}/enrollments",
                               params={"take": "0"}).status_code == 422
    assert client.simulate_get(f"/journeys/{draft}/enrollments",
                               params={"status": "DONE"}).status_code == 422
    assert client.simulate_get(f"/journeys/{draft}/enrollments/enrollment_x").status_code == 404
    assert client.simulate_post("/events", json={"tenantId": "t"}).status_code == 422
    assert client.simulate_post("/events", json={
        "tenantId": "t", "type": "x", "customerId": "c", "occurredAt": "yesterday"}
    ).status_code == 422
    assert client.simulate_post("/events/batch", json={"events": []}).status_code == 422
    too_many = [{"tenantId": "t", "type": "x", "customerId": "c"}] * 1001
    assert client.simulate_post("/events/batch", json={"events": too_many}).status_code == 422
    assert client.simulate_get("/customers/ada").status_code == 422
    assert client.simulate_get("/customers/ada", params={"tenantId": "t"}).status_code == 404
    assert running.services.runner.head() == 1 + 0, "only the journey was recorded"


def test_fifty_concurrent_identical_triggers_give_one_enrollment(
    running: Running, clock: Clock
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    jid = six_step_journey(client, allowReentry=True)["id"]
    put_customer(client, "ada", membershipTier="Gold")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: client.simulate_post("/events", json={
            "tenantId": "tenant_123", "type": "scl.member.created", "customerId": "ada"}),
            range(50)))
    assert {r.status_code for r in results} == {202}

    def tick() -> None:
        scheduler.tick(T0)

    with ThreadPoolExecutor(max_workers=3) as pool:
        for future in [pool.submit(tick) for _ in range(3)]:
            future.result()

    page = enrollments(client, jid)
    assert page["meta"]["total"] == 1
    assert len(page["data"]) == 1
    assert client.simulate_get(f"/journeys/{jid}").json["totalEnrolled"] == 1


def test_fifty_concurrent_manual_enrollments_give_one(running: Running, clock: Clock) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = running.client
    clock.now = T0
    jid = six_step_journey(client)["id"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: client.simulate_post(
            f"/journeys/{jid}/enrollments", json={"customerId": "ada"}), range(50)))

    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 1
    assert set(codes) == {201, 409}
    assert enrollments(client, jid)["meta"]["total"] == 1
