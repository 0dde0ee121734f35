"""What an analyst asks the API: counts over time in the journey's time zone, and where
customers leave."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Clock, Running
from tests.integration.builders import add_step, create_journey


def test_the_series_counts_by_local_day_across_a_dst_change(
    running: Running, clock: Clock
) -> None:
    client, scheduler = running.client, running.system.scheduler
    clock.now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    jid = create_journey(client, timezone="Europe/Berlin", triggerConfig=None)["id"]
    add_step(client, jid, type="SEND", name="Hello",
             config={"channel": "EMAIL", "templateId": "hello"})
    add_step(client, jid, type="WAIT", name="A day", config={"duration": "1 day"})
    add_step(client, jid, type="END", name="Done")
    assert client.simulate_post(f"/journeys/{jid}/activate").status_code == 200

    # 23:30 UTC on the 28th is 00:30 on the 29th in Berlin (+01:00); 22:30 UTC on the 29th
    # is 00:30 on the 30th (+02:00, after the change).
    arrivals = {"ada": datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
                "bob": datetime(2026, 3, 29, 22, 30, tzinfo=UTC),
                "cy": datetime(2026, 3, 29, 23, 0, tzinfo=UTC)}
    for customer, at in arrivals.items():
        clock.now = at
        assert client.simulate_post(f"/journeys/{jid}/enrollments",
                                    json={"customerId": customer}).status_code == 201
        scheduler.tick(at)
    clock.now = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert client.simulate_delete(f"/journeys/{jid}/enrollments/cy").status_code == 204
    scheduler.tick(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))  # ada's day is over

    stats = client.simulate_get(f"/journeys/{jid}/stats", params={
        "from": "2026-03-28T00:00:00+01:00", "to": "2026-03-31T00:00:00+02:00",
        "interval": "day"}).json
    series = stats["series"]
    assert (series["interval"], series["timezone"]) == ("day", "Europe/Berlin")
    assert (series["from"], series["to"]) == ("2026-03-27T23:00:00.000Z",
                                              "2026-03-30T22:00:00.000Z")
    counts = [(b["start"], b["enrolled"], b["completed"], b["exited"], b["messagesSent"])
              for b in series["buckets"]]
    assert counts == [
        ("2026-03-28T00:00:00+01:00", 0, 0, 0, 0),
        ("2026-03-29T00:00:00+01:00", 1, 0, 0, 1),
        ("2026-03-30T00:00:00+02:00", 2, 1, 1, 2),
    ]
    steps = {s["name"]: s for s in stats["steps"]}
    assert (steps["A day"]["exited"], steps["A day"]["waiting"]) == (1, 1)
    assert steps["Hello"]["exited"] == 0

    hours = client.simulate_get(f"/journeys/{jid}/stats", params={
        "from": "2026-03-29T00:00:00+01:00", "to": "2026-03-29T04:00:00+02:00",
        "interval": "hour"}).json["series"]["buckets"]
    assert [(b["start"], b["enrolled"]) for b in hours] == [
        ("2026-03-29T00:00:00+01:00", 1), ("2026-03-29T01:00:00+01:00", 0),
        ("2026-03-29T03:00:00+02:00", 0)]


def test_bad_series_parameters_are_422(running: Running) -> None:
    client = running.client
    jid = create_journey(client)["id"]
    for params in ({"interval": "month"}, {"from": "2026-01-02T00:00:00Z",
                                           "to": "2026-01-01T00:00:00Z"},
                   {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                   {"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z",
                    "interval": "hour"},
                   {"from": "2026-01-01"}, {"to": "9999-12-31T23:59:59-14:00"},
                   {"to": "0001-01-02T00:00:00Z"},
                   {"from": "8999-12-31T00:00:00Z", "to": "9999-12-31T23:00:00Z"}):
        answer = client.simulate_get(f"/journeys/{jid}/stats", params=params)
        assert answer.status_code == 422, (params, answer.text)
    default = client.simulate_get(f"/journeys/{jid}/stats").json["series"]
    assert default["interval"] == "day" and 30 <= len(default["buckets"]) <= 31
