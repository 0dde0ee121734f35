"""Step endpoints: add (with afterStepId), update, delete, reorder, and live-journey limits."""

from __future__ import annotations

from falcon import testing

from tests.integration.builders import END, SEND, WAIT, active_journey, add_step, create_journey


def _steps(client: testing.TestClient, journey_id: str) -> list[dict[str, object]]:
    result = client.simulate_get(f"/journeys/{journey_id}/steps")
    assert result.status_code == 200
    data: list[dict[str, object]] = result.json["data"]
    return data


def test_added_steps_are_numbered_and_chained_in_order(client: testing.TestClient) -> None:
    jid = create_journey(client)["id"]

    send = add_step(client, jid, **SEND)
    wait = add_step(client, jid, **WAIT)
    end = add_step(client, jid, **END)

    assert send["id"].startswith("step_")
    assert send == {
        "id": send["id"], "stepNumber": 1, "type": "SEND", "name": "Welcome Email",
        "config": {"channel": "EMAIL", "templateId": "welcome_email"}, "nextStepId": None,
    }
    steps = _steps(client, jid)
    assert [(s["id"], s["stepNumber"], s["nextStepId"]) for s in steps] == [
        (send["id"], 1, wait["id"]),
        (wait["id"], 2, end["id"]),
        (end["id"], 3, None),
    ]
    assert client.simulate_get(f"/journeys/{jid}").json["stepsCount"] == 3


def test_after_step_id_inserts_in_the_middle(client: testing.TestClient) -> None:
    jid = create_journey(client)["id"]
    first = add_step(client, jid, **SEND)
    last = add_step(client, jid, **END)

    middle = add_step(client, jid, **WAIT, afterStepId=first["id"])

    assert middle["stepNumber"] == 2
    assert middle["nextStepId"] == last["id"]
    assert [s["id"] for s in _steps(client, jid)] == [first["id"], middle["id"], last["id"]]
    assert _steps(client, jid)[0]["nextStepId"] == middle["id"]


def test_after_an_unknown_step_is_refused(client: testing.TestClient) -> None:
    jid = create_journey(client)["id"]
    add_step(client, jid, **SEND)

    result = client.simulate_post(
        f"/journeys/{jid}/steps", json={**WAIT, "afterStepId": "step_" + "0" * 32}
    )

    assert result.status_code == 422
    assert result.json["errors"][0]["field"] == "afterStepId"
    assert len(_steps(client, jid)) == 1


def test_condition_branches_show_their_targets_and_fall_through_when_unset(
    client: testing.TestClient,
) -> None:
    jid = create_journey(client)["id"]
    condition = add_step(client, jid, type="CONDITION", name="Check if opened",
                         config={"rules": [{"field": "lastEmailOpenAt", "operator": "isNotNull"}]})
    engaged = add_step(client, jid, **SEND)
    end = add_step(client, jid, **END)

    patched = client.simulate_patch(
        f"/journeys/{jid}/steps/{condition['id']}", json={"nextStepNoId": end["id"]}
    )

    assert patched.status_code == 200
    assert patched.json["nextStepYesId"] == engaged["id"]
    assert patched.json["nextStepNoId"] == end["id"]
    assert patched.json["nextStepId"] is None
    assert _steps(client, jid)[0] == patched.json


def test_successors_must_be_steps_of_the_same_journey_and_fit_the_type(
    client: testing.TestClient,
) -> None:
    jid = create_journey(client)["id"]
    other = add_step(client, create_journey(client)["id"], **END)
    send = add_step(client, jid, **SEND)

    foreign = client.simulate_patch(
        f"/journeys/{jid}/steps/{send['id']}", json={"nextStepId": other["id"]}
    )
    wrong_kind = client.simulate_post(
        f"/journeys/{jid}/steps", json={**END, "nextStepId": send["id"]}
    )
    branch_on_send = client.simulate_patch(
        f"/journeys/{jid}/steps/{send['id']}", json={"nextStepYesId": send["id"]}
    )

    assert foreign.status_code == 422
    assert foreign.json["errors"][0]["field"] == "nextStepId"
    assert wrong_kind.status_code == 422
    assert branch_on_send.status_code == 422
    assert _steps(client, jid)[0]["nextStepId"] is None


def test_an_explicit_successor_skips_ahead(client: testing.TestClient) -> None:
    jid = create_journey(client)["id"]
    send = add_step(client, jid, **SEND)
    add_step(client, jid, **WAIT)
    end = add_step(client, jid, **END)

    result = client.simulate_patch(
        f"/journeys/{jid}/steps/{send['id']}", json={"nextStepId": end["id"], "name": "Hello"}
    )
    cleared = client.simulate_patch(
        f"/journeys/{jid}/steps/{send['id']}", json={"nextStepId": None}
    )

    assert result.json["nextStepId"] == end["id"]
    assert result.json["name"] == "Hello"
    assert cleared.json["nextStepId"] == _steps(client, jid)[1]["id"]


def test_reorder_renumbers_and_implicit_successors_follow(client: testing.TestClient) -> None:
    jid = create_journey(client)["id"]
    a = add_step(client, jid, **SEND)
    b = add_step(client, jid, **WAIT)
    c = add_step(client, jid, type="SEND", name="Second", config=SEND["config"])
    end = add_step(client, jid, **END)
    client.simulate_patch(f"/journeys/{jid}/steps/{b['id']}", json={"nextStepId": end["id"]})

    result = client.simulate_post(
        f"/journeys/{jid}/steps/reorder", json={"stepIds": [a["id"], c["id"], b["id"], end["id"]]}
    )

    assert result.status_code == 200
    assert result.json["data"] == _steps(client, jid)
    assert [(s["id"], s["stepNumber"], s["nextStepId"]) for s in result.json["data"]] == [
        (a["id"], 1, c["id"]),
        (c["id"], 2, b["id"]),
        (b["id"], 3, end["id"]),
        (end["id"], 4, None),
    ]


def test_reorder_must_name_exactly_the_journeys_steps(client: testing.TestClient) -> None:
    jid = create_journey(client)["id"]
    a = add_step(client, jid, **SEND)
    b = add_step(client, jid, **END)
    before = _steps(client, jid)

    for step_ids in ([a["id"]], [a["id"], a["id"]], [b["id"], a["id"], "step_x"], []):
        result = client.simulate_post(f"/journeys/{jid}/steps/reorder", json={"stepIds": step_ids})
        assert result.status_code == 422, step_ids

    assert _steps(client, jid) == before


def test_deleting_a_step_renumbers_the_rest(client: testing.TestClient) -> None:
    jid = create_journey(client)["id"]
    a = add_step(client, jid, **SEND)
    b = add_step(client, jid, **WAIT)
    c = add_step(client, jid, **END)

    result = client.simulate_delete(f"/journeys/{jid}/steps/{b['id']}")

    assert result.status_code == 204
    assert [(s["id"], s["stepNumber"], s["nextStepId"]) for s in _steps(client, jid)] == [
        (a["id"], 1, c["id"]),
        (c["id"], 2, None),
    ]
    assert client.simulate_delete(f"/journeys/{jid}/steps/{b['id']}").status_code == 404
    assert client.simulate_get(f"/journeys/{jid}").json["stepsCount"] == 2


def test_a_step_other_steps_lead_to_cannot_be_deleted(client: testing.TestClient) -> None:
    jid = create_journey(client)["id"]
    a = add_step(client, jid, **SEND)
    add_step(client, jid, **WAIT)
    end = add_step(client, jid, **END)
    client.simulate_patch(f"/journeys/{jid}/steps/{a['id']}", json={"nextStepId": end["id"]})

    result = client.simulate_delete(f"/journeys/{jid}/steps/{end['id']}")

    assert result.status_code == 409
    assert result.json["code"] == "STEP_IN_USE"
    assert len(_steps(client, jid)) == 3


def test_a_live_journey_allows_only_content_edits(client: testing.TestClient) -> None:
    journey = active_journey(client)
    jid = journey["id"]
    send, wait, end = _steps(client, jid)
    step_path = f"/journeys/{jid}/steps"

    renamed = client.simulate_patch(f"{step_path}/{send['id']}", json={"name": "Hi again"})
    template = client.simulate_patch(
        f"{step_path}/{send['id']}",
        json={"config": {"channel": "EMAIL", "templateId": "new_template"}},
    )
    channel = client.simulate_patch(
        f"{step_path}/{send['id']}", json={"config": {"channel": "SMS", "templateId": "t"}}
    )
    duration = client.simulate_patch(
        f"{step_path}/{wait['id']}", json={"config": {"duration": "1 day"}}
    )
    successor = client.simulate_patch(
        f"{step_path}/{send['id']}", json={"nextStepId": end["id"]}
    )
    added = client.simulate_post(step_path, json=END)
    deleted = client.simulate_delete(f"{step_path}/{wait['id']}")
    reordered = client.simulate_post(
        f"{step_path}/reorder", json={"stepIds": [wait["id"], send["id"], end["id"]]}
    )

    assert renamed.status_code == 200
    assert template.status_code == 200
    assert template.json["config"]["templateId"] == "new_template"
    emptied = client.simulate_patch(
        f"{step_path}/{send['id']}", json={"config": {"channel": "EMAIL", "templateId": ""}}
    )

    for refused in (channel, duration, successor, added, deleted, reordered):
        assert refused.status_code == 409
    assert emptied.status_code == 422
    steps = _steps(client, jid)
    assert [s["id"] for s in steps] == [send["id"], wait["id"], end["id"]]
    assert steps[0]["name"] == "Hi again"
    assert steps[0]["config"] == {"channel": "EMAIL", "templateId": "new_template"}
    assert steps[1]["config"] == {"duration": "3 days"}


def test_steps_of_an_unknown_journey_are_not_found(client: testing.TestClient) -> None:
    missing = "journey_" + "f" * 32

    assert client.simulate_get(f"/journeys/{missing}/steps").status_code == 404
    assert client.simulate_post(f"/journeys/{missing}/steps", json=END).status_code == 404
    jid = create_journey(client)["id"]
    assert client.simulate_patch(
        f"/journeys/{jid}/steps/step_nope", json={"name": "x"}
    ).status_code == 404
    assert client.simulate_get(f"/journeys/{jid}/steps/step_nope").status_code == 404
