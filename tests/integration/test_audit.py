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
