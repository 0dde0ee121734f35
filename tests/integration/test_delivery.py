"""Webhook delivery to a local HTTP receiver: signed, idempotent, retried, and failing well."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from scheduler.channels import WebhookChannel
from tests.conftest import Clock, Running
from tests.integration.builders import add_step, create_journey

SECRET = "whsec_" + base64.b64encode(b"a secret of the receiver's own").decode()
T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)


class Receiver:
    """Answers each POST with the next scripted status (the last one repeats)."""

    def __init__(self) -> None:
        self.script: list[int] = [200]
        self.retry_after = ""
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:  # as a receiver checks it, with the specification's own library
                    Webhook(SECRET).verify(body, dict(self.headers))
                    signed = True
                except WebhookVerificationError:
                    signed = False
                receiver.requests.append({
                    "key": self.headers["Idempotency-Key"], "id": self.headers["webhook-id"],
                    "signed": signed, "body": json.loads(body),
                })
                index = min(len(receiver.requests) - 1, len(receiver.script) - 1)
                status = receiver.script[index]
                self.send_response(status)
                if status in (429, 503) and receiver.retry_after:
                    self.send_header("Retry-After", receiver.retry_after)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def channel(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> WebhookChannel:
    monkeypatch.setenv("JOURNEYS_DELIVERY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("JOURNEYS_DELIVERY_BACKOFF_SECONDS", "60")
    return WebhookChannel(receiver.url, SECRET, timeout=2, clock=lambda: datetime.now(UTC))


def send_journey(running: Running) -> str:
    client = running.client
    jid = create_journey(client)["id"]
    add_step(client, jid, type="SEND", name="Hello", config={"channel": "EMAIL",
                                                            "templateId": "hello"})
    add_step(client, jid, type="END", name="Done")
    assert client.simulate_post(f"/journeys/{jid}/activate").status_code == 200
    assert client.simulate_post(f"/journeys/{jid}/enrollments",
                                json={"customerId": "ada"}).status_code == 201
    return jid


def only_enrollment(running: Running, jid: str) -> dict[str, Any]:
    page = running.client.simulate_get(f"/journeys/{jid}/enrollments").json
    detail: dict[str, Any] = running.client.simulate_get(
        f"/journeys/{jid}/enrollments/{page['data'][0]['id']}").json
    return detail


def test_transient_failures_are_retried_with_the_same_message_id(
    running: Running, receiver: Receiver, clock: Clock
) -> None:
    clock.now = T0
    receiver.script = [500, 503, 200]
    jid = send_journey(running)
    scheduler = running.system.scheduler

    scheduler.tick(T0)
    assert only_enrollment(running, jid)["steps"][0]["outcome"]["attempts"] == 1
    scheduler.tick(T0 + timedelta(seconds=59))
    assert len(receiver.requests) == 1, "the retry waits for its backoff"
    scheduler.tick(T0 + timedelta(seconds=60))
    scheduler.tick(T0 + timedelta(seconds=180))

    assert [r["key"] for r in receiver.requests] == [receiver.requests[0]["key"]] * 3
    assert [r["id"] for r in receiver.requests] == [receiver.requests[0]["key"]] * 3
    assert all(r["signed"] for r in receiver.requests)
    assert [r["body"]["attempt"] for r in receiver.requests] == [1, 2, 3]
    body = receiver.requests[0]["body"]
    assert (body["templateId"], body["channel"], body["customerId"]) == ("hello", "EMAIL", "ada")
    detail = only_enrollment(running, jid)
    assert detail["status"] == "COMPLETED"
    assert detail["steps"][0]["messageId"] == receiver.requests[0]["key"]
    errors = detail["steps"][0]["outcome"]["errors"]
    assert [(e["attempt"], e["error"]) for e in errors] == [(1, "HTTP 500"), (2, "HTTP 503")]


def test_a_4xx_fails_the_step_and_the_enrollment_with_the_reason(
    running: Running, receiver: Receiver, clock: Clock
) -> None:
    clock.now = T0
    receiver.script = [422]
    jid = send_journey(running)

    running.system.scheduler.tick(T0)

    detail = only_enrollment(running, jid)
    assert detail["status"] == "FAILED"
    assert "failed permanently: HTTP 422" in detail["reason"]
    assert detail["steps"][0]["status"] == "FAILED"
    outcome = detail["steps"][0]["outcome"]
    assert (outcome["attempts"], outcome["lastError"]) == (1, "HTTP 422")
    assert [e["error"] for e in outcome["errors"]] == ["HTTP 422"]
    assert len(receiver.requests) == 1
    journey = running.client.simulate_get(f"/journeys/{jid}").json
    assert (journey["totalFailed"], journey["activeEnrollments"]) == (1, 0)
    stats = running.client.simulate_get(f"/journeys/{jid}/stats").json["steps"]
    assert stats[0]["failed"] == 1


def test_exhausted_retries_fail_the_enrollment(
    running: Running, receiver: Receiver, clock: Clock
) -> None:
    clock.now = T0
    receiver.script = [503]
    jid = send_journey(running)

    for minutes in (0, 1, 3, 10):
        running.system.scheduler.tick(T0 + timedelta(minutes=minutes))

    detail = only_enrollment(running, jid)
    assert detail["status"] == "FAILED"
    assert "after 3 attempts: HTTP 503" in detail["reason"]
    assert len(receiver.requests) == 3
    assert [e["attempt"] for e in detail["steps"][0]["outcome"]["errors"]] == [1, 2, 3]


@pytest.mark.parametrize("status", [408, 429])
def test_408_and_429_are_transient(running: Running, receiver: Receiver, clock: Clock,
                                   status: int) -> None:
    clock.now = T0
    receiver.script = [status, 200]
    jid = send_journey(running)

    running.system.scheduler.tick(T0)
    running.system.scheduler.tick(T0 + timedelta(minutes=5))

    assert only_enrollment(running, jid)["status"] == "COMPLETED"
    assert len(receiver.requests) == 2


def test_retry_after_is_honoured(running: Running, receiver: Receiver, clock: Clock) -> None:
    clock.now = T0
    receiver.script = [429, 200]
    receiver.retry_after = "600"  # ten minutes, beyond the one-minute backoff
    jid = send_journey(running)
    scheduler = running.system.scheduler

    scheduler.tick(T0)
    waiting = only_enrollment(running, jid)["steps"][0]["outcome"]
    scheduler.tick(T0 + timedelta(minutes=9))
    assert len(receiver.requests) == 1, "not before the receiver asked"
    scheduler.tick(T0 + timedelta(minutes=10))

    assert waiting["retryAt"] == "2025-12-14T09:10:00.000Z"
    assert only_enrollment(running, jid)["status"] == "COMPLETED"


def test_a_secret_that_is_not_a_standard_webhooks_secret_is_refused() -> None:
    for secret in ("s3cret", "whsec_not base64!"):
        with pytest.raises(ValueError, match="whsec_"):
            WebhookChannel("http://127.0.0.1:1/hook", secret)


def messages(running: Running, jid: str, **params: Any) -> dict[str, Any]:
    page: dict[str, Any] = running.client.simulate_get(f"/journeys/{jid}/messages",
                                                       params=params).json
    return page


def test_the_messages_read_model_counts_every_attempt_and_keeps_the_last_error(
    running: Running, receiver: Receiver, clock: Clock
) -> None:
    clock.now = T0
    receiver.script = [500, 503, 200]
    jid = send_journey(running)
    scheduler = running.system.scheduler
    scheduler.tick(T0)
    pending = messages(running, jid)["data"]
    assert [(m["status"], m["attempts"], m["lastError"]) for m in pending] == \
        [("PENDING", 1, "HTTP 500")]
    scheduler.tick(T0 + timedelta(seconds=60))
    scheduler.tick(T0 + timedelta(seconds=180))

    page = messages(running, jid)
    [message] = page["data"]
    assert page["meta"] == {"total": 1, "skip": 0, "take": 25}
    assert (message["status"], message["attempts"], message["lastError"]) == \
        ("DELIVERED", 3, "HTTP 503")
    assert message["id"] == receiver.requests[0]["key"]
    assert (message["channel"], message["templateId"], message["customerId"]) == \
        ("EMAIL", "hello", "ada")
    assert message["requestedAt"] == "2025-12-14T09:00:00.000Z"
    assert message["deliveredAt"] == "2025-12-14T09:03:00.000Z"
    assert messages(running, jid, status="FAILED")["data"] == []
    assert messages(running, jid, status="DELIVERED")["data"] == [message]
    series = running.client.simulate_get(f"/journeys/{jid}/stats", params={
        "from": "2025-12-14T00:00:00+02:00", "to": "2025-12-15T00:00:00+02:00"}).json["series"]
    [day] = series["buckets"]
    assert day["start"] == "2025-12-14T00:00:00+02:00", "a day of the journey's time zone"
    assert (day["enrolled"], day["completed"], day["messagesSent"], day["messagesFailed"]) == \
        (1, 1, 1, 0)


def test_a_message_that_failed_or_was_abandoned_says_so(
    running: Running, receiver: Receiver, clock: Clock
) -> None:
    clock.now = T0
    receiver.script = [422]
    failed = send_journey(running)
    scheduler = running.system.scheduler
    scheduler.tick(T0)
    [message] = messages(running, failed)["data"]
    assert (message["status"], message["attempts"], message["lastError"]) == \
        ("FAILED", 1, "HTTP 422")
    stats = running.client.simulate_get(f"/journeys/{failed}/stats").json
    assert stats["series"]["buckets"][-1]["messagesFailed"] == 1

    receiver.script = [503]
    cancelled = send_journey(running)
    scheduler.tick(T0)
    assert running.client.simulate_delete(
        f"/journeys/{cancelled}/enrollments/ada").status_code == 204
    [message] = messages(running, cancelled)["data"]
    assert (message["status"], message["attempts"], message["lastError"]) == \
        ("CANCELLED", 1, "HTTP 503")
    steps = running.client.simulate_get(f"/journeys/{cancelled}/stats").json["steps"]
    assert (steps[0]["exited"], steps[0]["failed"]) == (1, 0)
    assert running.client.simulate_get(f"/journeys/{cancelled}/messages",
                                       params={"status": "BOUNCED"}).status_code == 422
    assert running.client.simulate_get(f"/journeys/{cancelled}/messages",
                                       params={"tenantId": "tenant_other"}).status_code == 404
