"""What operators rely on: /health without the database, /ready with it, /metrics, request
ids, and a database that has gone away answered 503 in the error shape."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from tests.conftest import Running
from tests.integration.builders import JOURNEY, active_journey


def away(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("connection failed: the database system is shutting down")


def test_health_answers_without_the_database_and_ready_says_it_is_away(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = running.client
    ready = client.simulate_get("/ready")
    assert ready.status_code == 200
    assert set(ready.json["lag"]) == set(running.services.runner.projections)

    monkeypatch.setattr(running.services.database, "query", away)
    monkeypatch.setattr(running.services.database, "query_one", away)

    assert client.simulate_get("/health").json == {"status": "ok"}
    refused = client.simulate_get("/ready")
    assert refused.status_code == 503
    assert refused.json["code"] == "UNAVAILABLE"
    assert int(refused.headers["Retry-After"]) > 0


def test_a_database_away_is_503_with_retry_after_for_reads_and_commands(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = running.client
    monkeypatch.setattr(running.services.database, "query", away)
    monkeypatch.setattr(running.services.database, "query_one", away)
    monkeypatch.setattr(running.services.app, "save", away)

    for result in (client.simulate_get("/journeys", params={"tenantId": "t"}),
                   client.simulate_post("/journeys", json=JOURNEY)):
        assert result.status_code == 503, result.text
        assert result.json["code"] == "UNAVAILABLE"
        assert result.headers["Retry-After"] == "2"


def test_a_saved_command_is_answered_though_the_read_models_cannot_be_read(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command is acknowledged only once saved; the wait for the read models that
    follows must not turn it into an error the client would retry."""
    monkeypatch.setattr(running.services.waits, "wait_for", away)

    created = running.client.simulate_post("/journeys", json=JOURNEY)

    assert created.status_code == 201


def test_every_answer_carries_a_request_id_and_a_given_one_is_kept(running: Running) -> None:
    client = running.client
    made = client.simulate_get("/health").headers["X-Request-Id"]
    kept = client.simulate_get("/health", headers={"X-Request-Id": "trace-7"})
    refused = client.simulate_get("/nowhere", headers={"X-Request-Id": "trace-8"})

    assert len(made) == 32
    assert kept.headers["X-Request-Id"] == "trace-7"
    assert refused.status_code == 404 and refused.headers["X-Request-Id"] == "trace-8"


def test_metrics_count_requests_and_read_what_the_engine_did(running: Running) -> None:
    client = running.client
    jid = active_journey(client)["id"]
    client.simulate_post(f"/journeys/{jid}/enrollments", json={"customerId": "ada"})
    running.system.scheduler.tick(running.services.app.clock())

    text = client.simulate_get("/metrics").text

    assert 'journeys_http_requests_total{method="POST",route="/journeys",status="201"}' in text
    assert "journeys_http_request_duration_seconds_bucket" in text
    assert "journeys_enrollments_started_total 1.0" in text
    assert 'journeys_steps_entered_total{type="SEND"} 1.0' in text
    assert "journeys_due_work_backlog 0.0" in text
    assert 'journeys_read_model_lag_events{read_model="enrollments"}' in text
    assert "journeys_database_up 1.0" in text
