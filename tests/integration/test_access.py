"""API keys and tenants: open mode until the first key, 401 without a good key, a tenant's
key confined to its tenant, an operator's key for all, and the actor in the log."""

from __future__ import annotations

import time
from typing import Any

import pytest
from falcon import testing

from tests.conftest import Running
from tests.integration.builders import JOURNEY, create_journey


def make_key(running: Running, tenant: str | None, name: str | None = None) -> tuple[str, str]:
    """A key made as `journeys keys create` makes it: (id, secret)."""
    secret = f"jrn_test_{tenant}_{name}_{time.monotonic_ns()}"
    key = running.services.keys.issue(name or f"{tenant} key", tenant, secret)
    running.services.key_cache.refresh = 0  # this process sees it at once
    return key.id, secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class As:
    """A client that sends one key with every request."""

    def __init__(self, client: testing.TestClient, secret: str) -> None:
        self.client = client
        self.headers = bearer(secret)

    def get(self, path: str, **kwargs: Any) -> testing.Result:
        return self.client.simulate_get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> testing.Result:
        return self.client.simulate_post(path, headers=self.headers, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> testing.Result:
        return self.client.simulate_patch(path, headers=self.headers, **kwargs)

    def put(self, path: str, **kwargs: Any) -> testing.Result:
        return self.client.simulate_put(path, headers=self.headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> testing.Result:
        return self.client.simulate_delete(path, headers=self.headers, **kwargs)


@pytest.fixture
def tenants(running: Running) -> tuple[As, As, As]:
    """Keys of tenant_a and tenant_b, and an operator's key for all tenants."""
    client = running.client
    return (As(client, make_key(running, "tenant_a")[1]),
            As(client, make_key(running, "tenant_b")[1]),
            As(client, make_key(running, None, "ops")[1]))


def test_until_the_first_key_no_credentials_are_needed(running: Running) -> None:
    assert running.client.simulate_get("/journeys", params={"tenantId": "t"}).status_code == 200


def test_once_a_key_exists_every_route_but_health_ready_and_openapi_needs_one(
    running: Running
) -> None:
    make_key(running, "tenant_a")
    client = running.client

    for path in ("/journeys?tenantId=t", "/journeys/journey_" + "0" * 32, "/customers/c",
                 "/metrics"):
        refused = client.simulate_get(path)
        assert refused.status_code == 401, path
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused.json["code"] == "UNAUTHORIZED"
    assert client.simulate_post("/events", json={"type": "x", "customerId": "c"}).status_code == 401
    for path in ("/health", "/ready", "/openapi.json"):
        assert client.simulate_get(path).status_code == 200, path


@pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwYXNz", "Bearer jrn_unknown", "jrn_x"])
def test_a_malformed_or_unknown_key_is_401_invalid_token(running: Running, header: str) -> None:
    make_key(running, "tenant_a")

    refused = running.client.simulate_get("/journeys", headers={"Authorization": header})

    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_a_revoked_key_stops_working_within_two_seconds(running: Running) -> None:
    key_id, secret = make_key(running, "tenant_a")
    running.services.key_cache.refresh = 1.0  # as in every API process
    client = As(running.client, secret)
    assert client.get("/journeys").status_code == 200

    running.services.keys.revoke(key_id)  # as `journeys keys revoke` does, from elsewhere
    deadline = time.monotonic() + 2
    while client.get("/journeys").status_code == 200:
        assert time.monotonic() < deadline, "still accepted after 2 s"
        time.sleep(0.05)

    assert client.get("/journeys").status_code == 401


def test_a_tenants_key_acts_for_its_tenant_and_may_leave_tenant_id_out(
    tenants: tuple[As, As, As]
) -> None:
    a, _, _ = tenants
    body = {k: v for k, v in JOURNEY.items() if k != "tenantId"}

    made = a.post("/journeys", json=body)

    assert made.status_code == 201
    assert made.json["tenantId"] == "tenant_a"
    assert [j["id"] for j in a.get("/journeys").json["data"]] == [made.json["id"]]
    assert a.put("/customers/ada", json={"name": "Ada"}).json["tenantId"] == "tenant_a"
    assert a.get("/customers/ada").status_code == 200
    assert a.post("/events", json={"type": "x", "customerId": "ada"}).status_code == 202


def test_a_tenants_key_naming_another_tenant_is_403(tenants: tuple[As, As, As]) -> None:
    a, _, _ = tenants
    journey = a.post("/journeys", json={**JOURNEY, "tenantId": "tenant_a"}).json

    for refused in (
        a.get("/journeys", params={"tenantId": "tenant_b"}),
        a.post("/journeys", json={**JOURNEY, "tenantId": "tenant_b"}),
        a.get(f"/journeys/{journey['id']}", params={"tenantId": "tenant_b"}),
        a.put("/customers/ada", json={"tenantId": "tenant_b"}),
        a.get("/customers/ada", params={"tenantId": "tenant_b"}),
        a.post("/events", json={"tenantId": "tenant_b", "type": "x", "customerId": "c"}),
        a.post("/events/batch", json={"events": [
            {"type": "x", "customerId": "c"},
            {"tenantId": "tenant_b", "type": "x", "customerId": "c"}]}),
    ):
        assert refused.status_code == 403, refused.text
        assert refused.json["code"] == "TENANT_FORBIDDEN"


def test_another_tenants_journey_is_404_exactly_as_an_unknown_one(
    tenants: tuple[As, As, As]
) -> None:
    a, b, _ = tenants
    journey = a.post("/journeys", json={**JOURNEY, "tenantId": "tenant_a"}).json
    jid = journey["id"]
    step = a.post(f"/journeys/{jid}/steps", json={"type": "END", "name": "done"}).json
    a.put("/customers/ada", json={"name": "Ada"})

    for seen in (
        b.get(f"/journeys/{jid}"),
        b.patch(f"/journeys/{jid}", json={"name": "mine now"}),
        b.delete(f"/journeys/{jid}"),
        b.post(f"/journeys/{jid}/activate"),
        b.get(f"/journeys/{jid}/steps"),
        b.get(f"/journeys/{jid}/steps/{step['id']}"),
        b.post(f"/journeys/{jid}/steps", json={"type": "END", "name": "x"}),
        b.get(f"/journeys/{jid}/enrollments"),
        b.post(f"/journeys/{jid}/enrollments", json={"customerId": "c"}),
        b.get(f"/journeys/{jid}/stats"),
        b.get(f"/journeys/{jid}/validation"),
        b.get(f"/journeys/{jid}/events"),
        b.get(f"/journeys/{jid}/messages"),
        b.get(f"/journeys/{jid}", params={"asOf": "2030-01-01T00:00:00Z"}),
        b.post(f"/journeys/{jid}/simulate", json={"customers": [{"customerId": "ada"}]}),
        b.get("/customers/ada"),
        b.get("/customers/ada/enrollments"),
    ):
        assert seen.status_code == 404, seen.text
    assert a.get(f"/journeys/{jid}").json["name"] == journey["name"], "nothing changed"


def test_an_operators_key_acts_for_every_tenant_as_open_mode_does(
    tenants: tuple[As, As, As]
) -> None:
    a, _, ops = tenants
    jid = a.post("/journeys", json={**JOURNEY, "tenantId": "tenant_a"}).json["id"]

    assert ops.get(f"/journeys/{jid}").status_code == 200
    assert ops.get("/journeys").status_code == 422, "an operator names the tenant"
    assert ops.get("/journeys", params={"tenantId": "tenant_a"}).json["data"][0]["id"] == jid
    assert ops.get(f"/journeys/{jid}", params={"tenantId": "tenant_b"}).status_code == 404
    assert ops.get("/metrics").status_code == 200
    assert a.get("/metrics").status_code == 403


def test_in_open_mode_a_tenant_id_confines_a_journeys_routes(running: Running) -> None:
    client = running.client
    jid = create_journey(client, tenantId="tenant_a")["id"]

    assert client.simulate_get(f"/journeys/{jid}", params={"tenantId": "tenant_b"}).status_code == 404
    assert client.simulate_get(f"/journeys/{jid}", params={"tenantId": "tenant_a"}).status_code == 200
    assert client.simulate_get(f"/journeys/{jid}/steps",
                               params={"tenantId": "tenant_b"}).status_code == 404


def test_every_command_records_who_gave_it(running: Running) -> None:
    key_id, secret = make_key(running, "tenant_a")
    client = As(running.client, secret)
    jid = client.post("/journeys", json=JOURNEY | {"tenantId": "tenant_a"}).json["id"]
    client.post(f"/journeys/{jid}/steps", json={"type": "END", "name": "done"})
    client.post(f"/journeys/{jid}/activate")
    client.post(f"/journeys/{jid}/enrollments", json={"customerId": "ada"})
    client.delete(f"/journeys/{jid}/enrollments/ada")

    app = running.services.app
    journey_events = list(app.events.get(jid))
    assert [e.actor for e in journey_events] == [key_id] * 3
    enrollment = next(row["id"] for row in running.services.database.query(
        "SELECT id FROM enrollments WHERE journey_id = ?", (jid,)))
    enrolled, exited = list(app.events.get(enrollment))
    assert enrolled.source == {"type": "manual", "actor": key_id}
    assert exited.facts[0]["actor"] == key_id
