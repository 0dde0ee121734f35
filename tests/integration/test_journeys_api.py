"""Journey endpoints and lifecycle, on SQLite and PostgreSQL, through the real HTTP app."""

from __future__ import annotations

import pytest
from falcon import testing

from tests.integration.builders import (
    JOURNEY,
    activatable_journey,
    active_journey,
    add_step,
    create_journey,
)

DETAIL_FIELDS = {
    "id", "tenantId", "name", "description", "status", "triggerType", "triggerConfig",
    "allowReentry", "timezone", "totalEnrolled", "totalCompleted", "totalExited",
    "totalFailed", "activeEnrollments", "stepsCount", "activatedAt", "pausedAt",
    "resumedAt", "archivedAt", "createdBy", "createdAt", "updatedAt",
}
LIST_FIELDS = {
    "id", "name", "status", "triggerType", "totalEnrolled", "totalCompleted",
    "totalExited", "stepsCount", "activatedAt",
}


def test_creating_a_journey_returns_it_in_draft_with_every_contract_field(
    client: testing.TestClient,
) -> None:
    result = client.simulate_post("/journeys", json={**JOURNEY, "createdBy": "user_123"})

    assert result.status_code == 201
    journey = result.json
    assert set(journey) >= DETAIL_FIELDS
    assert journey["id"].startswith("journey_")
    assert journey["status"] == "DRAFT"
    assert journey["tenantId"] == "tenant_123"
    assert journey["triggerConfig"] == JOURNEY["triggerConfig"]
    assert journey["timezone"] == "Africa/Johannesburg"
    assert journey["createdBy"] == "user_123"
    assert journey["createdAt"] == "2025-12-14T09:00:00.000Z"
    assert journey["updatedAt"] == journey["createdAt"]
    assert journey["activatedAt"] is None
    assert (journey["totalEnrolled"], journey["activeEnrollments"], journey["stepsCount"]) == (
        0, 0, 0,
    )
    assert result.headers["location"] == f"/journeys/{journey['id']}"


def test_a_get_right_after_create_shows_what_the_command_answered(
    client: testing.TestClient,
) -> None:
    created = create_journey(client)

    fetched = client.simulate_get(f"/journeys/{created['id']}")

    assert fetched.status_code == 200
    assert fetched.json == created


def test_defaults_apply_when_optional_fields_are_left_out(client: testing.TestClient) -> None:
    journey = create_journey(
        client, description=None, triggerConfig=None, allowReentry=False, timezone="UTC"
    )
    minimal = client.simulate_post(
        "/journeys", json={"tenantId": "t", "name": "n", "triggerType": "x"}
    ).json

    assert journey["triggerConfig"] == {"conditions": []}
    assert (minimal["timezone"], minimal["allowReentry"], minimal["description"]) == (
        "UTC", False, None,
    )


def test_listing_is_per_tenant_and_filters_by_status_and_trigger_type(
    client: testing.TestClient,
) -> None:
    draft = create_journey(client)
    live = active_journey(client, triggerType="order.placed")
    create_journey(client, tenantId="other_tenant")

    everything = client.simulate_get("/journeys", params={"tenantId": "tenant_123"}).json["data"]
    active = client.simulate_get(
        "/journeys", params={"tenantId": "tenant_123", "status": "ACTIVE"}
    ).json["data"]
    by_trigger = client.simulate_get(
        "/journeys", params={"tenantId": "tenant_123", "triggerType": "scl.member.created"}
    ).json["data"]

    assert [j["id"] for j in everything] == [draft["id"], live["id"]]
    assert all(set(j) >= LIST_FIELDS for j in everything)
    assert [j["id"] for j in active] == [live["id"]]
    assert active[0]["stepsCount"] == 3
    assert active[0]["activatedAt"] == "2025-12-14T09:00:00.000Z"
    assert [j["id"] for j in by_trigger] == [draft["id"]]


def test_listing_needs_a_tenant_and_a_known_status(client: testing.TestClient) -> None:
    missing = client.simulate_get("/journeys")
    bad_status = client.simulate_get("/journeys", params={"tenantId": "t", "status": "LIVE"})

    assert missing.status_code == 422
    assert missing.json["errors"][0]["field"] == "tenantId"
    assert bad_status.status_code == 422


def test_get_includes_steps_and_enrollments_on_request(client: testing.TestClient) -> None:
    journey = activatable_journey(client)

    plain = client.simulate_get(f"/journeys/{journey['id']}").json
    both = client.simulate_get(
        f"/journeys/{journey['id']}", params={"include": "steps,enrollments"}
    ).json
    unknown = client.simulate_get(f"/journeys/{journey['id']}", params={"include": "audit"})

    assert "steps" not in plain and "enrollments" not in plain
    assert [s["stepNumber"] for s in both["steps"]] == [1, 2, 3]
    assert both["enrollments"] == []
    assert unknown.status_code == 422


def test_another_tenants_journey_is_not_found(client: testing.TestClient) -> None:
    journey = create_journey(client)

    other = client.simulate_get(f"/journeys/{journey['id']}", params={"tenantId": "intruder"})
    own = client.simulate_get(f"/journeys/{journey['id']}", params={"tenantId": "tenant_123"})
    patch = client.simulate_patch(
        f"/journeys/{journey['id']}", params={"tenantId": "intruder"}, json={"name": "x"}
    )

    assert other.status_code == 404
    assert own.status_code == 200
    assert patch.status_code == 404
    assert client.simulate_get(f"/journeys/{journey['id']}").json["name"] == journey["name"]


def test_patch_in_draft_edits_every_field(client: testing.TestClient, running: object) -> None:
    journey = create_journey(client)
    running.services.app.clock.advance(hours=1)  # type: ignore[attr-defined]

    result = client.simulate_patch(
        f"/journeys/{journey['id']}",
        json={
            "name": "Renamed",
            "description": None,
            "triggerType": "member.joined",
            "triggerConfig": {"conditions": []},
            "allowReentry": True,
            "timezone": "America/New_York",
        },
    )

    assert result.status_code == 200
    fetched = client.simulate_get(f"/journeys/{journey['id']}").json
    assert fetched == result.json
    assert (fetched["name"], fetched["description"], fetched["triggerType"]) == (
        "Renamed", None, "member.joined",
    )
    assert (fetched["allowReentry"], fetched["timezone"]) == (True, "America/New_York")
    assert fetched["updatedAt"] == "2025-12-14T10:00:00.000Z"
    assert fetched["createdAt"] == journey["createdAt"]


@pytest.mark.parametrize("state", ["ACTIVE", "PAUSED"])
def test_patch_on_a_live_journey_edits_only_name_and_description(
    client: testing.TestClient, state: str
) -> None:
    journey = active_journey(client)
    if state == "PAUSED":
        client.simulate_post(f"/journeys/{journey['id']}/pause")

    allowed = client.simulate_patch(
        f"/journeys/{journey['id']}", json={"name": "Live rename", "description": "new"}
    )
    refused = client.simulate_patch(
        f"/journeys/{journey['id']}",
        json={"name": "Other", "timezone": "UTC", "allowReentry": True},
    )

    assert allowed.status_code == 200
    assert allowed.json["name"] == "Live rename"
    assert refused.status_code == 409
    assert {e["field"] for e in refused.json["errors"]} == {"timezone", "allowReentry"}
    fetched = client.simulate_get(f"/journeys/{journey['id']}").json
    assert (fetched["name"], fetched["timezone"], fetched["status"]) == (
        "Live rename", "Africa/Johannesburg", state,
    )


def test_patch_refuses_an_empty_body_nulls_and_unknown_time_zones(
    client: testing.TestClient,
) -> None:
    journey = create_journey(client)
    path = f"/journeys/{journey['id']}"

    assert client.simulate_patch(path, json={}).status_code == 422
    assert client.simulate_patch(path, json={"name": None}).status_code == 422
    bad_zone = client.simulate_patch(path, json={"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422
    assert bad_zone.json["errors"] == [
        {"field": "timezone", "message": "unknown IANA time zone 'Mars/Olympus'"}
    ]
    assert client.simulate_get(path).json == journey


def test_the_lifecycle_runs_draft_active_paused_active_archived(
    client: testing.TestClient, running: object
) -> None:
    clock = running.services.app.clock  # type: ignore[attr-defined]
    journey = activatable_journey(client)
    path = f"/journeys/{journey['id']}"

    activated = client.simulate_post(f"{path}/activate")
    clock.advance(minutes=1)
    paused = client.simulate_post(f"{path}/pause")
    clock.advance(minutes=1)
    resumed = client.simulate_post(f"{path}/resume")
    clock.advance(minutes=1)
    archived = client.simulate_post(f"{path}/archive")

    assert activated.status_code == 200
    assert activated.json == {
        "id": journey["id"], "status": "ACTIVE", "activatedAt": "2025-12-14T09:00:00.000Z",
    }
    assert paused.json == {
        "id": journey["id"], "status": "PAUSED", "pausedAt": "2025-12-14T09:01:00.000Z",
        "activeEnrollments": 0,
    }
    assert resumed.json == {
        "id": journey["id"], "status": "ACTIVE", "resumedAt": "2025-12-14T09:02:00.000Z",
    }
    assert archived.json == {
        "id": journey["id"], "status": "ARCHIVED", "archivedAt": "2025-12-14T09:03:00.000Z",
        "exitedEnrollments": 0,
    }
    fetched = client.simulate_get(path).json
    assert fetched["status"] == "ARCHIVED"
    assert (fetched["activatedAt"], fetched["pausedAt"], fetched["resumedAt"]) == (
        "2025-12-14T09:00:00.000Z", "2025-12-14T09:01:00.000Z", "2025-12-14T09:02:00.000Z",
    )
    assert fetched["archivedAt"] == "2025-12-14T09:03:00.000Z"


FORBIDDEN = [
    ("DRAFT", "pause"),
    ("DRAFT", "resume"),
    ("ACTIVE", "activate"),
    ("ACTIVE", "resume"),
    ("PAUSED", "pause"),
    ("PAUSED", "activate"),
    ("ARCHIVED", "activate"),
    ("ARCHIVED", "pause"),
    ("ARCHIVED", "resume"),
    ("ARCHIVED", "archive"),
]


def _journey_in(client: testing.TestClient, state: str) -> str:
    journey = activatable_journey(client)
    path = f"/journeys/{journey['id']}"
    actions = {"DRAFT": [], "ACTIVE": ["activate"], "PAUSED": ["activate", "pause"],
               "ARCHIVED": ["archive"]}[state]
    for action in actions:
        assert client.simulate_post(f"{path}/{action}").status_code == 200
    return path


@pytest.mark.parametrize(("state", "action"), FORBIDDEN)
def test_forbidden_transitions_conflict_and_change_nothing(
    client: testing.TestClient, state: str, action: str
) -> None:
    path = _journey_in(client, state)
    before = client.simulate_get(path).json

    result = client.simulate_post(f"{path}/{action}")

    assert result.status_code == 409
    assert result.json["code"] == "INVALID_STATE"
    assert {"title", "description", "code"} <= set(result.json)
    assert client.simulate_get(path).json == before


@pytest.mark.parametrize("state", ["ARCHIVED"])
def test_an_archived_journey_refuses_every_edit(client: testing.TestClient, state: str) -> None:
    path = _journey_in(client, state)
    steps = client.simulate_get(f"{path}/steps").json["data"]

    assert client.simulate_patch(path, json={"name": "x"}).status_code == 409
    assert client.simulate_delete(path).status_code == 409
    assert client.simulate_post(f"{path}/steps", json={"type": "END", "name": "e"}).status_code == 409
    assert client.simulate_patch(
        f"{path}/steps/{steps[0]['id']}", json={"name": "x"}
    ).status_code == 409


@pytest.mark.parametrize("state", ["ACTIVE", "PAUSED", "DRAFT"])
def test_archiving_is_allowed_from_every_live_state(client: testing.TestClient, state: str) -> None:
    path = _journey_in(client, state)

    assert client.simulate_post(f"{path}/archive").status_code == 200
    assert client.simulate_get(path).json["status"] == "ARCHIVED"


def test_only_draft_journeys_can_be_deleted(client: testing.TestClient) -> None:
    draft = activatable_journey(client)
    live = active_journey(client)

    deleted = client.simulate_delete(f"/journeys/{draft['id']}")
    refused = client.simulate_delete(f"/journeys/{live['id']}")

    assert deleted.status_code == 204
    assert client.simulate_get(f"/journeys/{draft['id']}").status_code == 404
    assert client.simulate_get(f"/journeys/{draft['id']}/steps").status_code == 404
    assert client.simulate_delete(f"/journeys/{draft['id']}").status_code == 404
    assert refused.status_code == 409
    assert client.simulate_get(f"/journeys/{live['id']}").json["status"] == "ACTIVE"
    listed = client.simulate_get("/journeys", params={"tenantId": "tenant_123"}).json["data"]
    assert [j["id"] for j in listed] == [live["id"]]


def test_a_valid_graph_is_shown_valid_before_activation(client: testing.TestClient) -> None:
    journey = activatable_journey(client)

    shown = client.simulate_get(f"/journeys/{journey['id']}/validation")

    assert shown.json == {"valid": True, "errors": [], "warnings": []}
    assert client.simulate_post(f"/journeys/{journey['id']}/activate").status_code == 200


def test_warnings_do_not_block_activation(client: testing.TestClient) -> None:
    from tests.integration.builders import END, SEND, add_step

    journey = create_journey(client)
    jid = journey["id"]
    condition = add_step(client, jid, type="CONDITION", name="Gold?", config={"rules": [
        {"field": "tier", "operator": "eq", "value": "Gold"}]})
    add_step(client, jid, **{**SEND, "name": "Gold offer"})
    other = add_step(client, jid, **{**SEND, "name": "Plain offer"})
    add_step(client, jid, **END)
    assert client.simulate_patch(f"/journeys/{jid}/steps/{condition['id']}",
                                 json={"nextStepNoId": other["id"]}).status_code == 200

    shown = client.simulate_get(f"/journeys/{jid}/validation").json
    assert (shown["valid"], shown["errors"]) == (True, [])
    assert [w["field"] for w in shown["warnings"]] == ["steps[1].nextStepYesId",
                                                       "steps[2].nextStepId"]
    assert "steps[3]" in shown["warnings"][1]["message"]
    assert client.simulate_post(f"/journeys/{jid}/activate").status_code == 200


def test_activation_needs_at_least_one_step(client: testing.TestClient) -> None:
    journey = create_journey(client)

    result = client.simulate_post(f"/journeys/{journey['id']}/activate")

    assert result.status_code == 409
    assert result.json["code"] == "JOURNEY_INVALID"
    assert result.json["errors"] == [
        {"field": "steps", "message": "a journey needs at least one step"}
    ]
    assert client.simulate_get(f"/journeys/{journey['id']}").json["status"] == "DRAFT"


def test_activation_lists_every_graph_problem(client: testing.TestClient) -> None:
    journey = create_journey(client)
    jid = journey["id"]
    send = add_step(client, jid, type="SEND", name="No template", config={"channel": "EMAIL"})
    add_step(client, jid, type="WAIT", name="Bad wait", config={"duration": "soon"})
    add_step(client, jid, type="CONDITION", name="Bad rule",
             config={"rules": [{"field": "x", "operator": "like", "value": 1}]})
    add_step(client, jid, type="SPLIT", name="Bad split",
             config={"splits": [{"percentage": 60}, {"percentage": 30}]})
    loop = add_step(client, jid, type="UPDATE", name="Loop",
                    config={"updates": [{"field": "tags", "action": "add", "value": "x"}]})
    client.simulate_patch(f"/journeys/{jid}/steps/{loop['id']}", json={"nextStepId": send["id"]})
    add_step(client, jid, type="TRIGGER", name="Late trigger", config={})

    shown = client.simulate_get(f"/journeys/{jid}/validation")
    result = client.simulate_post(f"/journeys/{jid}/activate")

    assert result.status_code == 409
    assert shown.status_code == 200
    assert (shown.json["valid"], shown.json["errors"]) == (False, result.json["errors"])
    assert {w["field"] for w in shown.json["warnings"]} >= {
        "steps[3].nextStepYesId", "steps[3].nextStepNoId"}, "warnings beside the errors"
    problems = {(e["field"], e["message"]) for e in result.json["errors"]}
    fields = {field for field, _ in problems}
    assert "steps[1].config.templateId" in fields
    assert "steps[2].config.duration" in fields
    assert "steps[3].config.rules[0].operator" in fields
    assert "steps[4].config.splits" in fields
    assert ("steps[6]", "a TRIGGER step may only be step 1") in problems
    cycle = {f for f, m in problems if "cycle" in m}
    assert cycle == {"steps[1]", "steps[2]", "steps[3]", "steps[4]", "steps[5]"}
    assert client.simulate_get(f"/journeys/{jid}").json["status"] == "DRAFT"
