"""The dry run: a journey's definition over given customers, on a virtual clock, writing
nothing and sending nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from falcon import testing

from scheduler.channels import LogChannel
from tests.conftest import Clock, Running
from tests.integration.builders import add_step, create_journey

T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)
START = "2026-01-05T09:00:00.000Z"


def draft_journey(client: testing.TestClient) -> str:
    """SEND, WAIT 3 days, CONDITION (score >= 70: SPLIT, else END), SPLIT, UPDATE, END; DRAFT."""
    jid = create_journey(client)["id"]
    add_step(client, jid, type="SEND", name="Welcome", config={"channel": "EMAIL",
                                                               "templateId": "welcome"})
    add_step(client, jid, type="WAIT", name="Three days", config={"duration": "3 days"})
    condition = add_step(client, jid, type="CONDITION", name="Engaged?", config={
        "rules": [{"field": "engagementScore", "operator": "gte", "value": 70}]})
    split = add_step(client, jid, type="SPLIT", name="A/B", config={})
    update = add_step(client, jid, type="UPDATE", name="Tag", config={
        "updates": [{"field": "tags", "action": "add", "value": "onboarded"}]})
    end = add_step(client, jid, type="END", name="Done")
    path = f"/journeys/{jid}/steps"
    client.simulate_patch(f"{path}/{condition['id']}", json={"nextStepNoId": end["id"]})
    client.simulate_patch(f"{path}/{split['id']}", json={"config": {"splits": [
        {"percentage": 50, "nextStepId": update["id"]},
        {"percentage": 50, "nextStepId": update["id"]}]}})
    return jid


def simulate(client: testing.TestClient, jid: str, **body: Any) -> testing.Result:
    return client.simulate_post(f"/journeys/{jid}/simulate", json={"startAt": START, **body})


def test_a_draft_runs_on_a_virtual_clock_and_each_path_says_why(
    running: Running, clock: Clock
) -> None:
    clock.now = T0
    client = running.client
    jid = draft_journey(client)
    result = simulate(client, jid, customers=[
        {"customerId": "ada", "attributes": {"engagementScore": 80}},
        {"customerId": "bob", "attributes": {"engagementScore": 10}}])
    assert result.status_code == 200, result.text
    body = result.json
    assert (body["startAt"], body["until"]) == (START, "2027-01-05T09:00:00.000Z")
    ada, bob = body["customers"]
    assert [s["stepName"] for s in ada["path"]] == ["Welcome", "Three days", "Engaged?", "A/B",
                                                    "Tag", "Done"]
    assert [s["stepName"] for s in bob["path"]] == ["Welcome", "Three days", "Engaged?", "Done"]
    assert (ada["path"][2]["branch"], bob["path"][2]["branch"]) == ("yes", "no")
    assert ada["path"][2]["outcome"]["values"] == {"engagementScore": 80}
    assert ada["path"][3]["variant"] in (0, 1)
    assert ada["path"][1]["outcome"]["waitedUntil"] == "2026-01-08T09:00:00.000Z"
    assert (ada["status"], ada["endedAt"]) == ("COMPLETED", "2026-01-08T09:00:00.000Z")
    assert [(m["templateId"], m["requestedAt"]) for m in ada["messages"]] == [
        ("welcome", START)]
    assert ada["path"][0]["messageId"] == ada["messages"][0]["messageId"]
    steps = {s["name"]: s for s in body["steps"]}
    assert (steps["Welcome"]["entered"], steps["Engaged?"]["branches"]) == \
        (2, {"yes": 1, "no": 1})
    assert steps["Tag"]["completed"] == 1
    assert simulate(client, jid, customers=[
        {"customerId": "ada", "attributes": {"engagementScore": 80}},
        {"customerId": "bob", "attributes": {"engagementScore": 10}}]).json == body, \
        "the same input gives the same answer"


def test_a_dry_run_writes_nothing_and_sends_nothing(
    running: Running, clock: Clock, channel: LogChannel
) -> None:
    from tests.integration.test_engine_api import put_customer

    clock.now = T0
    client = running.client
    jid = draft_journey(client)
    put_customer(client, "ada", engagementScore=90)
    history = client.simulate_get(f"/journeys/{jid}/events", params={"take": 500}).json
    recorder = running.services.app.recorder
    position = recorder.max_notification_id()

    receipts = running.services.database.query("SELECT COUNT(*) AS n FROM idempotency_receipts")
    body = client.simulate_post(f"/journeys/{jid}/simulate", headers={"Idempotency-Key": "k1"},
                                json={"startAt": START, "customers": [
                                    {"customerId": "ada"}, {"customerId": "nobody"}]}).json
    ada, nobody = body["customers"]
    assert ada["path"][2]["branch"] == "yes", "the stored attributes, when none are given"
    assert nobody["path"][2]["branch"] == "no"

    assert recorder.max_notification_id() == position
    assert running.services.database.query(
        "SELECT COUNT(*) AS n FROM idempotency_receipts") == receipts, "no receipt either"
    assert client.simulate_get(f"/journeys/{jid}/events", params={"take": 500}).json == history
    assert client.simulate_get("/customers/nobody",
                               params={"tenantId": "tenant_123"}).status_code == 404
    assert client.simulate_get("/customers/ada", params={"tenantId": "tenant_123"}).json[
        "attributes"] == {"engagementScore": 90}, "UPDATE changed a copy"
    assert not running.services.database.query("SELECT * FROM messages")
    assert channel.sent == []


def test_until_stops_the_clock_and_the_path_waits(running: Running, clock: Clock) -> None:
    clock.now = T0
    client = running.client
    jid = draft_journey(client)
    [ada] = simulate(client, jid, customers=[{"customerId": "ada"}],
                     until="2026-01-06T09:00:00Z").json["customers"]
    assert (ada["status"], ada["stoppedBy"]) == ("ACTIVE", "UNTIL")
    assert ada["waitingUntil"] == "2026-01-08T09:00:00.000Z"
    assert ada["currentStepNumber"] == 2


def test_a_dry_run_refuses_what_it_cannot_run(running: Running, clock: Clock) -> None:
    clock.now = T0
    client = running.client
    jid = draft_journey(client)
    one = [{"customerId": "ada"}]
    assert simulate(client, jid, customers=[]).status_code == 422
    assert simulate(client, jid, customers=one * 2).status_code == 422
    assert simulate(client, jid, customers=one, until="2026-01-05T09:00:00Z").status_code == 422
    assert simulate(client, jid, customers=one, startAt="2026-01-05").status_code == 422
    for far in ("9999-06-01T00:00:00Z", "0001-01-01T00:00:00Z"):
        assert simulate(client, jid, customers=one, startAt=far).status_code == 422, far
    assert simulate(client, jid, customers=[{"customerId": f"c{n}"} for n in range(1001)]
                    ).status_code == 422
    assert client.simulate_post(f"/journeys/{jid}/simulate", params={"tenantId": "tenant_other"},
                                json={"customers": one}).status_code == 404
    empty = create_journey(client)["id"]
    refused = simulate(client, empty, customers=one)
    assert (refused.status_code, refused.json["code"]) == (409, "JOURNEY_INVALID")
