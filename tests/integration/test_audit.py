"""What an auditor asks: what happened to one customer, and why; what a journey looked like
then, and who changed it."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Clock, Running
from tests.integration.builders import add_step, create_journey

T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)


def test_a_history_keeps_the_name_a_step_had_when_it_ran(running: Running, clock: Clock) -> None:
    clock.now = T0
    client = running.client
    jid = create_journey(client)["id"]
    send = add_step(client, jid, type="SEND", name="Welcome Email",
                    config={"channel": "EMAIL", "templateId": "welcome"})
    add_step(client, jid, type="END", name="Done")
    client.simulate_post(f"/journeys/{jid}/activate")
    enrolled = client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": "ada"})
    running.system.scheduler.tick(T0)

    renamed = client.simulate_patch(f"/journeys/{jid}/steps/{send['id']}", json={
        "name": "Hello Email", "config": {"channel": "EMAIL", "templateId": "hello"}})
    assert renamed.status_code == 200

    history = client.simulate_get(f"/journeys/{jid}/enrollments/{enrolled.json['id']}").json
    assert [s["stepName"] for s in history["steps"]] == ["Welcome Email", "Done"]
    assert history["steps"][0]["outcome"]["templateId"] == "welcome"
    steps = client.simulate_get(f"/journeys/{jid}/steps").json["data"]
    assert steps[0]["name"] == "Hello Email", "the journey itself shows the new name"


def test_an_enrollments_history_tells_each_decision_and_its_inputs(
    running: Running, clock: Clock
) -> None:
    from tests.integration.test_engine_api import put_customer, six_step_journey

    clock.now = T0
    client = running.client
    jid = six_step_journey(client)["id"]
    put_customer(client, "ada", membershipTier="Gold", engagementScore=80)
    enrolled = client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": "ada"}).json
    scheduler = running.system.scheduler
    scheduler.tick(T0)
    scheduler.tick(datetime(2025, 12, 17, 9, 0, tzinfo=UTC))

    page = client.simulate_get(f"/journeys/{jid}/enrollments/{enrolled['id']}/events",
                               params={"take": 100}).json
    entries = page["data"]
    kinds = [e["type"] for e in entries]
    assert kinds[0] == "Enrolled" and kinds[-1] == "Completed"
    assert "MessageRequested" in kinds and "WaitStarted" in kinds
    assert page["meta"]["total"] == len(entries)
    assert entries[0]["data"]["source"] == {"type": "manual", "actor": "anonymous"}
    assert entries[0]["actor"] == "anonymous"
    condition = next(e for e in entries if e["type"] == "StepCompleted"
                     and e["data"]["step_type"] == "CONDITION")
    assert condition["data"]["outcome"]["branch"] == "yes"
    assert condition["data"]["outcome"]["values"]["engagementScore"] == 80
    split = next(e for e in entries if e["type"] == "StepCompleted"
                 and e["data"]["step_type"] == "SPLIT")
    assert {"variant", "bucket"} <= set(split["data"]["outcome"])
    versions = [e["version"] for e in entries]
    assert versions == sorted(versions) and len(set(versions)) < len(versions), \
        "an event of several facts gives an entry per fact, one version"
    second = client.simulate_get(f"/journeys/{jid}/enrollments/{enrolled['id']}/events",
                                 params={"skip": 1, "take": 2}).json
    assert second["data"] == entries[1:3]


def test_a_journeys_history_shows_every_change_and_who_made_it(running: Running) -> None:
    from tests.integration.test_access import make_key

    key_id, secret = make_key(running, "tenant_123")
    headers = {"Authorization": f"Bearer {secret}"}
    client = running.client
    jid = client.simulate_post("/journeys", json={"name": "n", "triggerType": "x"},
                               headers=headers).json["id"]
    client.simulate_patch(f"/journeys/{jid}", json={"name": "renamed"}, headers=headers)

    entries = client.simulate_get(f"/journeys/{jid}/events", headers=headers).json["data"]

    assert [(e["type"], e["actor"]) for e in entries] == [("Created", key_id),
                                                          ("DetailsUpdated", key_id)]
    assert entries[1]["data"]["changes"] == {"name": "renamed"}
    other = make_key(running, "tenant_other")[1]
    assert client.simulate_get(f"/journeys/{jid}/events", headers={
        "Authorization": f"Bearer {other}"}).status_code == 404


def test_histories_of_unknown_or_foreign_aggregates_are_404(running: Running) -> None:
    from tests.integration.builders import active_journey

    client = running.client
    jid = active_journey(client)["id"]
    other = create_journey(client)["id"]
    enrolled = client.simulate_post(f"/journeys/{jid}/enrollments",
                                    json={"customerId": "ada"}).json["id"]
    assert client.simulate_get(f"/journeys/{jid}/enrollments/{enrolled}/events").status_code == 200
    for path in (f"/journeys/journey_{'0' * 32}/events",
                 f"/journeys/{jid}/enrollments/enrollment_{'0' * 32}/events",
                 f"/journeys/{jid}/enrollments/not-an-id/events",
                 f"/journeys/{other}/enrollments/{enrolled}/events"):
        assert client.simulate_get(path).status_code == 404, path


def test_an_event_answers_its_id_and_later_says_what_it_did_in_each_journey(
    running: Running, clock: Clock
) -> None:
    from tests.integration.builders import JOURNEY, active_journey

    clock.now = T0
    client = running.client
    gold = active_journey(client, triggerType="go", triggerConfig={"conditions": [
        {"field": "tier", "operator": "eq", "value": "Gold"}]})["id"]
    everyone = active_journey(client, triggerType="go", triggerConfig={"conditions": []})["id"]
    paused = active_journey(client, triggerType="go")["id"]
    client.simulate_post(f"/journeys/{paused}/pause")
    client.simulate_post("/journeys", json={**JOURNEY, "triggerType": "other"})

    sent = client.simulate_post("/events", json={"tenantId": "tenant_123", "type": "go",
                                                 "customerId": "ada", "eventId": "signup-1",
                                                 "data": {"tier": "Silver"}})
    unnamed = client.simulate_post("/events/batch", json={"events": [
        {"tenantId": "tenant_123", "type": "go", "customerId": "bob"}]}).json["eventIds"][0]
    assert sent.json["eventIds"] == ["signup-1"]
    pending = client.simulate_get("/events/signup-1", params={"tenantId": "tenant_123"}).json
    assert pending["status"] == "PENDING" and pending["outcomes"] == []
    running.system.scheduler.tick(T0)

    found = client.simulate_get("/events/signup-1", params={"tenantId": "tenant_123"}).json
    assert (found["status"], found["customerId"], found["data"]) == ("MATCHED", "ada",
                                                                     {"tier": "Silver"})
    outcomes = {o["journeyId"]: o for o in found["outcomes"]}
    assert set(outcomes) == {gold, everyone, paused}, "only the journeys of its type"
    assert outcomes[gold]["outcome"] == "CONDITIONS_NOT_MET"
    assert outcomes[gold]["values"] == {"tier": "Silver"}
    assert outcomes[everyone]["outcome"] == "ENROLLED"
    assert outcomes[everyone]["enrollmentId"].startswith("enrollment_")
    assert outcomes[paused]["outcome"] == "JOURNEY_NOT_ACTIVE"
    by_made_id = client.simulate_get(f"/events/{unnamed}", params={"tenantId": "tenant_123"})
    assert by_made_id.json["customerId"] == "bob"
    again = client.simulate_post("/events", json={"tenantId": "tenant_123", "type": "go",
                                                  "customerId": "ada", "eventId": "signup-2"})
    assert again.status_code == 202
    running.system.scheduler.tick(T0)
    refused = client.simulate_get("/events/signup-2", params={"tenantId": "tenant_123"}).json
    assert {o["journeyId"]: o["outcome"] for o in refused["outcomes"]}[everyone] == \
        "ALREADY_ENROLLED"
    for missing in ("nope", unnamed):
        assert client.simulate_get(f"/events/{missing}",
                                   params={"tenantId": "tenant_other"}).status_code == 404

    # Enrolled wherever a journey was ACTIVE: nothing is recorded beside the event, and a
    # journey made after it is none of its business.
    client.simulate_post("/events", json={"tenantId": "tenant_123", "type": "go",
                                          "customerId": "cy", "eventId": "signup-3",
                                          "data": {"tier": "Gold"}})
    running.system.scheduler.tick(T0)
    later = active_journey(client, triggerType="go")["id"]
    gold_signup = client.simulate_get("/events/signup-3", params={"tenantId": "tenant_123"}).json
    assert {o["journeyId"]: o["outcome"] for o in gold_signup["outcomes"]} == {
        gold: "ENROLLED", everyone: "ENROLLED", paused: "JOURNEY_NOT_ACTIVE"}
    first = client.simulate_get("/events/signup-1", params={"tenantId": "tenant_123"}).json
    assert {o["journeyId"] for o in first["outcomes"]} == {gold, everyone, paused}, \
        f"not {later}, made after it"
    from domain.ids import trigger_event_id_for
    from domain.trigger_outcomes import outcomes_id_for
    recorded = running.services.runner.log.position_of(
        outcomes_id_for(trigger_event_id_for("tenant_123", "signup-3")))
    assert recorded is None, "an archived or paused journey adds no event per trigger event"


def test_as_of_gives_what_the_api_answered_then(running: Running, clock: Clock) -> None:
    """At every instant, `asOf` answers what a plain GET answered at that instant."""
    from datetime import timedelta

    from tests.integration.builders import activatable_journey
    from tests.integration.test_engine_api import put_customer

    client, scheduler = running.client, running.system.scheduler
    clock.now = T0
    jid = activatable_journey(client)["id"]
    put_customer(client, "ada", membershipTier="Gold")
    journey_path = f"/journeys/{jid}"

    def now_and_then(path: str, at: datetime, **params: str) -> tuple[dict, dict]:
        live = client.simulate_get(path, params=params)
        then = client.simulate_get(path, params={**params, "asOf": at.isoformat()})
        assert then.status_code == 200, then.text
        return live.json, then.json

    seen = {T0: client.simulate_get(journey_path, params={"include": "steps"}).json}
    clock.now = T0 + timedelta(hours=1)
    assert client.simulate_post(f"{journey_path}/activate").status_code == 200
    clock.now = T0 + timedelta(hours=2)
    enrolled = client.simulate_post(f"{journey_path}/enrollments", json={"customerId": "ada"}).json
    enrollment_path = f"{journey_path}/enrollments/{enrolled['id']}"
    scheduler.tick(clock.now)
    scheduler.tick(clock.now)
    t2 = clock.now
    seen[t2] = client.simulate_get(journey_path, params={"include": "steps,enrollments"}).json
    seen_enrollment = {t2: client.simulate_get(enrollment_path).json}
    assert seen_enrollment[t2]["waitingUntil"], "the customer waits at the WAIT step"

    clock.now = T0 + timedelta(hours=3)
    steps = seen[T0]["steps"]
    assert client.simulate_patch(journey_path, json={"name": "Renamed"}).status_code == 200
    assert client.simulate_patch(f"{journey_path}/steps/{steps[0]['id']}",
                                 json={"name": "Hello"}).status_code == 200
    clock.now = T0 + timedelta(days=4)
    scheduler.tick(clock.now)
    scheduler.tick(clock.now)
    t4 = clock.now
    seen[t4] = client.simulate_get(journey_path, params={"include": "steps,enrollments"}).json
    seen_enrollment[t4] = client.simulate_get(enrollment_path).json
    assert seen_enrollment[t4]["status"] == "COMPLETED"

    for at, document in seen.items():
        include = "steps" if at == T0 else "steps,enrollments"
        _, then = now_and_then(journey_path, at, include=include)
        assert then == document, at
    for at, document in seen_enrollment.items():
        _, then = now_and_then(enrollment_path, at)
        assert then == document, at
    _, between = now_and_then(journey_path, T0 + timedelta(minutes=90))
    assert (between["status"], between["name"], between["totalEnrolled"]) == \
        ("ACTIVE", seen[T0]["name"], 0)
    _, waiting = now_and_then(enrollment_path, T0 + timedelta(hours=3))
    assert waiting == seen_enrollment[t2], "nothing happened to it between"
    assert seen[t4]["steps"][0]["name"] == "Hello" and seen[t2]["steps"][0]["name"] != "Hello"



def test_as_of_is_404_before_and_422_for_no_instant(running: Running, clock: Clock) -> None:
    from datetime import timedelta

    from tests.integration.builders import active_journey

    client = running.client
    clock.now = T0
    journey_path = f"/journeys/{active_journey(client)['id']}"
    clock.now = T0 + timedelta(hours=2)
    enrolled = client.simulate_post(f"{journey_path}/enrollments", json={"customerId": "ada"}).json
    enrollment_path = f"{journey_path}/enrollments/{enrolled['id']}"

    before = (T0 - timedelta(milliseconds=1)).isoformat()
    assert client.simulate_get(journey_path, params={"asOf": before}).status_code == 404
    early = (T0 + timedelta(hours=1)).isoformat()
    assert client.simulate_get(enrollment_path, params={"asOf": early}).status_code == 404
    assert client.simulate_get(enrollment_path, params={"asOf": clock.now.isoformat()}).json[
        "status"] == "ACTIVE"
    for malformed in ("yesterday", "2025-12-14T09:00:00", "0001-01-01T00:00:00+14:00", ""):
        for path in (journey_path, enrollment_path):
            answer = client.simulate_get(path, params={"asOf": malformed})
            assert answer.status_code == 422, (path, malformed, answer.text)
    for path in (journey_path, enrollment_path):
        foreign = client.simulate_get(path, params={"asOf": clock.now.isoformat(),
                                                    "tenantId": "tenant_other"})
        assert foreign.status_code == 404, path


def test_a_customers_enrollments_in_every_journey_newest_first(
    running: Running, clock: Clock
) -> None:
    from datetime import timedelta

    from tests.integration.builders import active_journey
    from tests.integration.test_engine_api import put_customer

    client = running.client
    clock.now = T0
    first = active_journey(client, name="First")["id"]
    second = active_journey(client, name="Second")["id"]
    other = active_journey(client, name="Other tenant's", tenantId="tenant_other")["id"]
    put_customer(client, "ada")
    for minutes, jid in ((1, first), (2, second)):
        clock.now = T0 + timedelta(minutes=minutes)
        assert client.simulate_post(f"/journeys/{jid}/enrollments",
                                    json={"customerId": "ada"}).status_code == 201
    assert client.simulate_delete(f"/journeys/{first}/enrollments/ada").status_code == 204
    clock.now = T0 + timedelta(minutes=3)
    client.simulate_post(f"/journeys/{other}/enrollments", json={"customerId": "ada"})

    page = client.simulate_get("/customers/ada/enrollments",
                               params={"tenantId": "tenant_123"}).json
    assert [(e["journeyName"], e["status"]) for e in page["data"]] == \
        [("Second", "ACTIVE"), ("First", "EXITED")]
    assert page["data"][1]["reason"] == "MANUAL" and page["data"][1]["endedAt"]
    assert page["data"][0]["currentStepNumber"] == 1
    assert page["meta"] == {"total": 2, "skip": 0, "take": 25}
    rest = client.simulate_get("/customers/ada/enrollments",
                               params={"tenantId": "tenant_123", "skip": 1, "take": 1}).json
    assert [e["journeyId"] for e in rest["data"]] == [first]

    unknown = client.simulate_get("/customers/nobody/enrollments",
                                  params={"tenantId": "tenant_123"})
    assert unknown.status_code == 404
    assert client.simulate_get("/customers/ada/enrollments").status_code == 422, \
        "a tenant is needed"
    put_customer(client, "grace")
    none = client.simulate_get("/customers/grace/enrollments", params={"tenantId": "tenant_123"})
    assert none.json["data"] == [] and none.json["meta"]["total"] == 0
