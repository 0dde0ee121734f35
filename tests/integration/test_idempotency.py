"""Idempotency-Key: a retry gets the first answer and changes nothing; another request
with the key is refused; a request still running is not run twice."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from api.context import Services
from domain.caller import Caller, ReceiptTaken
from journeys.wiring import build_system
from storage import receipts
from storage.receipts import Receipt
from tests.conftest import Clock, Running
from tests.integration.builders import JOURNEY, active_journey, create_journey

KEY = {"Idempotency-Key": "order-42"}


def count(services: Services, table: str) -> int:
    row = services.database.query_one(f"SELECT COUNT(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


def test_a_retried_create_answers_the_first_answer_and_makes_nothing_more(running: Running) -> None:
    client = running.client
    first = client.simulate_post("/journeys", json=JOURNEY, headers=KEY)
    head = running.services.runner.head()

    again = client.simulate_post("/journeys", json=JOURNEY, headers=KEY)

    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    assert running.services.runner.head() == head, "nothing recorded"
    listed = client.simulate_get("/journeys", params={"tenantId": JOURNEY["tenantId"]})
    assert len(listed.json["data"]) == 1


def test_the_same_body_spaced_otherwise_is_the_same_request(running: Running) -> None:
    client = running.client
    client.simulate_post("/journeys", body='{"tenantId": "t", "name": "n", "triggerType": "x"}',
                         headers={**KEY, "Content-Type": "application/json"})

    again = client.simulate_post("/journeys", body='{"triggerType":"x","name":"n","tenantId":"t"}',
                                 headers={**KEY, "Content-Type": "application/json"})

    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("change", ["body", "path", "method"])
def test_the_key_with_another_request_is_422_and_changes_nothing(
    running: Running, change: str
) -> None:
    client = running.client
    jid = create_journey(client)["id"]
    client.simulate_patch(f"/journeys/{jid}", json={"name": "first"}, headers=KEY)
    other: dict[str, Any] = {
        "body": lambda: client.simulate_patch(f"/journeys/{jid}", json={"name": "second"},
                                              headers=KEY),
        "path": lambda: client.simulate_patch(f"/journeys/{jid}?tenantId=tenant_123",
                                              json={"name": "second"}, headers=KEY),
        "method": lambda: client.simulate_post(f"/journeys/{jid}/pause", headers=KEY),
    }

    refused = other[change]()

    assert refused.status_code == 422
    assert refused.json["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert client.simulate_get(f"/journeys/{jid}").json["name"] == "first"


def test_keys_are_scoped_to_the_caller(running: Running) -> None:
    from tests.integration.test_access import make_key

    a = make_key(running, "tenant_a")[1]
    b = make_key(running, "tenant_b")[1]
    client = running.client
    body = {k: v for k, v in JOURNEY.items() if k != "tenantId"}

    first = client.simulate_post("/journeys", json=body,
                                 headers={**KEY, "Authorization": f"Bearer {a}"})
    second = client.simulate_post("/journeys", json=body,
                                  headers={**KEY, "Authorization": f"Bearer {b}"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    assert second.json["tenantId"] == "tenant_b"


def test_a_refusal_is_kept_and_replayed_too(running: Running) -> None:
    client = running.client
    jid = create_journey(client)["id"]  # no steps: cannot be activated

    first = client.simulate_post(f"/journeys/{jid}/activate", headers=KEY)
    again = client.simulate_post(f"/journeys/{jid}/activate", headers=KEY)

    assert first.status_code == again.status_code == 409
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"


def test_every_command_kind_replays(running: Running, clock: Clock) -> None:
    client = running.client
    jid = active_journey(client)["id"]
    for method, path, body in (
        ("POST", f"/journeys/{jid}/enrollments", {"customerId": "ada"}),
        ("PUT", "/customers/bob", {"tenantId": "tenant_123", "name": "Bob"}),
        ("POST", "/events", {"tenantId": "tenant_123", "type": "x", "customerId": "cy"}),
        ("POST", "/events/batch", {"events": [{"tenantId": "tenant_123", "type": "x",
                                               "customerId": "dee"}]}),
        ("DELETE", f"/journeys/{jid}/enrollments/ada", None),
        ("POST", f"/journeys/{jid}/pause", None),
        ("POST", f"/journeys/{jid}/archive", None),
    ):
        headers = {"Idempotency-Key": f"{method} {path}"}
        first = client.simulate_request(method, path, json=body, headers=headers)
        head = running.services.runner.head()
        again = client.simulate_request(method, path, json=body, headers=headers)

        assert first.status_code < 300, (path, first.text)
        assert (again.status_code, again.text) == (first.status_code, first.text), path
        assert again.headers["Idempotent-Replayed"] == "true"
        assert running.services.runner.head() == head, f"{path} recorded something again"


def test_an_invalid_key_is_422(running: Running) -> None:
    for key in ("", "x" * 256, "tab\there", "é"):
        refused = running.client.simulate_post("/journeys", json=JOURNEY,
                                               headers={"Idempotency-Key": key})
        assert refused.status_code == 422, repr(key)
    assert running.client.simulate_get("/journeys", params={"tenantId": "tenant_123"}).json[
        "data"] == []


def test_a_request_still_running_is_409_in_flight(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = running.services.app
    entered, release = threading.Event(), threading.Event()
    create = app.create_journey

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(10)
        return create(*args, **kwargs)

    monkeypatch.setattr(app, "create_journey", slow)
    answers: list[int] = []
    first = threading.Thread(target=lambda: answers.append(
        running.client.simulate_post("/journeys", json=JOURNEY, headers=KEY).status_code))
    first.start()
    assert entered.wait(10)

    busy = running.client.simulate_post("/journeys", json=JOURNEY, headers=KEY)
    release.set()
    first.join(10)

    assert busy.status_code == 409 and busy.json["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
    assert answers == [201]
    replayed = running.client.simulate_post("/journeys", json=JOURNEY, headers=KEY)
    assert replayed.headers["Idempotent-Replayed"] == "true"


def test_a_server_error_is_not_kept(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    app = running.services.app
    create = app.create_journey
    calls: list[int] = []

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return create(*args, **kwargs)

    monkeypatch.setattr(app, "create_journey", failing_once)

    first = running.client.simulate_post("/journeys", json=JOURNEY, headers=KEY)
    again = running.client.simulate_post("/journeys", json=JOURNEY, headers=KEY)

    assert first.status_code == 500
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers


def test_the_receipt_is_saved_with_the_commands_events_or_not_at_all(
    services: Services, clock: Clock, database_url: str
) -> None:
    """Two processes race on one key: the second's save meets the first's receipt, and its
    events are not saved either."""
    other = build_system(database_url, clock=clock).services
    try:
        def caller(name: str) -> Caller:
            return Caller("anonymous", lambda outcome: Receipt(
                "anonymous", "race", "same request", 201, f'{{"name": "{name}"}}', "{}",
                "2025-12-14T09:00:00.000Z"))

        services.app.create_journey("t", "first", "x", caller=caller("first"))
        head = services.runner.head()

        with pytest.raises(ReceiptTaken):
            other.app.create_journey("t", "second", "x", caller=caller("second"))

        assert services.runner.head() == head, "the second journey was not saved"
        kept = receipts.find(services.database, "anonymous", "race")
        assert kept is not None and kept.body == '{"name": "first"}'
    finally:
        other.app.close()


def test_receipts_are_forgotten_after_their_time(running: Running) -> None:
    running.client.simulate_post("/journeys", json=JOURNEY, headers=KEY)
    database = running.services.database

    assert receipts.forget_before(database, "2000-01-01T00:00:00.000Z") == 0
    assert receipts.forget_before(database, "2999-01-01T00:00:00.000Z") == 1
    assert count(running.services, receipts.TABLE) == 0


def test_a_request_of_a_group_whose_key_was_taken_is_answered_apart_and_the_rest_saved(
    services: Services, clock: Clock
) -> None:
    """Manual enrollments arriving together are saved together (`decisions/0020`): one
    whose receipt meets an earlier one saves nothing, and the others are saved without it."""
    from domain.manual_enrollment import Enrolled, ManualEnrollment

    app = services.app
    jid = app.create_journey("t", "j", "go").journey.id
    app.add_step(jid, "END", "done")
    app.activate(jid)

    def caller(key: str) -> Caller:
        return Caller("anonymous", lambda enrolled: Receipt(
            "anonymous", key, f"enroll {key}", 201, "{}", "{}", "2025-12-14T09:00:00.000Z"))

    services.enrolling.enroll(jid, "ada", caller=caller("k1"))

    outcomes = services.enrolling.enroll_many([
        ManualEnrollment(jid, "cy", caller=caller("k1")),  # the key again, for another customer
        ManualEnrollment(jid, "bob", caller=caller("k2")),
    ])

    assert isinstance(outcomes[0], ReceiptTaken)
    assert isinstance(outcomes[1], Enrolled)
    services.runner.catch_up()
    enrolled = services.database.query(
        "SELECT customer_id FROM enrollments WHERE journey_id = ? ORDER BY customer_id", (jid,))
    assert enrolled == [{"customer_id": "ada"}, {"customer_id": "bob"}]
