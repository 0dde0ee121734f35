"""Small request builders, so tests read as what they check."""

from __future__ import annotations

from typing import Any

from falcon import testing

JOURNEY = {
    "tenantId": "tenant_123",
    "name": "New Member Onboarding",
    "description": "Welcome sequence for new members",
    "triggerType": "scl.member.created",
    "triggerConfig": {
        "conditions": [
            {"field": "membershipTier", "operator": "in", "value": ["Gold", "Platinum"]}
        ]
    },
    "allowReentry": False,
    "timezone": "Africa/Johannesburg",
}
SEND = {"type": "SEND", "name": "Welcome Email",
        "config": {"channel": "EMAIL", "templateId": "welcome_email"}}
WAIT = {"type": "WAIT", "name": "Wait 3 days", "config": {"duration": "3 days"}}
END = {"type": "END", "name": "Journey Complete"}


def create_journey(client: testing.TestClient, **overrides: Any) -> dict[str, Any]:
    result = client.simulate_post("/journeys", json={**JOURNEY, **overrides})
    assert result.status_code == 201, result.text
    document: dict[str, Any] = result.json
    return document


def add_step(client: testing.TestClient, journey_id: str, **body: Any) -> dict[str, Any]:
    result = client.simulate_post(f"/journeys/{journey_id}/steps", json=body)
    assert result.status_code == 201, result.text
    document: dict[str, Any] = result.json
    return document


def activatable_journey(client: testing.TestClient, **overrides: Any) -> dict[str, Any]:
    """A DRAFT journey with a valid SEND, WAIT, END graph."""
    journey = create_journey(client, **overrides)
    for step in (SEND, WAIT, END):
        add_step(client, journey["id"], **step)
    return journey


def active_journey(client: testing.TestClient, **overrides: Any) -> dict[str, Any]:
    journey = activatable_journey(client, **overrides)
    result = client.simulate_post(f"/journeys/{journey['id']}/activate")
    assert result.status_code == 200, result.text
    return journey
