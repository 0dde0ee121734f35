"""Bad input gets a clear 4xx in the one error shape, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from falcon import testing

from tests.conftest import Running
from tests.integration.builders import END, JOURNEY, SEND, add_step, create_journey

ERROR_KEYS = {"title", "description", "code"}


def _assert_refused(running: Running, result: Any, status: int, head_before: int) -> None:
    assert result.status_code == status, result.text
    assert set(result.json) >= ERROR_KEYS
    assert running.services.runner.head() == head_before, "a refused request wrote events"


@pytest.fixture
def draft(client: testing.TestClient) -> dict[str, Any]:
    journey = create_journey(client)
    journey["step"] = add_step(client, journey["id"], **SEND)
    return journey


def test_malformed_json_is_a_400(running: Running, draft: dict[str, Any]) -> None:
    head = running.services.runner.head()
    for path, method in (
        ("/journeys", "POST"),
        (f"/journeys/{draft['id']}", "PATCH"),
        (f"/journeys/{draft['id']}/steps", "POST"),
        (f"/journeys/{draft['id']}/steps/reorder", "POST"),
    ):
        result = running.client.simulate_request(
            method, path, body='{"name": "x",', headers={"Content-Type": "application/json"}
        )
        _assert_refused(running, result, 400, head)
        assert result.json["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(running: Running, constant: str) -> None:
    """Python's parser takes them; JSON (RFC 8259) has no such numbers."""
    head = running.services.runner.head()
    for path, method, body in (
        ("/customers/c1", "PUT", '{"attributes": {"score": NUMBER}}'.replace("NUMBER", constant)),
        ("/events", "POST",
         '{"type": "x", "customerId": "c1", "properties": {"v": NUMBER}}'.replace(
             "NUMBER", constant)),
    ):
        result = running.client.simulate_request(
            method, path, body=body, headers={"Content-Type": "application/json"})
        _assert_refused(running, result, 400, head)


@pytest.mark.parametrize(
    "body",
    [
        [],
        None,
        "a string",
        {**JOURNEY, "name": 123},
        {**JOURNEY, "allowReentry": "yes"},
        {**JOURNEY, "triggerConfig": "gold members"},
        {**JOURNEY, "triggerConfig": {"conditions": [{"field": "x", "operator": "like"}]}},
        {**JOURNEY, "tenantId": ""},
        {**JOURNEY, "name": "   "},
        {**JOURNEY, "name": "x" * 201},
        {**JOURNEY, "timezone": "Nowhere/Special"},
        {key: value for key, value in JOURNEY.items() if key != "triggerType"},
    ],
)
def test_invalid_journeys_are_a_422(running: Running, body: Any) -> None:
    head = running.services.runner.head()

    result = running.client.simulate_post("/journeys", body=json.dumps(body),
                                          headers={"Content-Type": "application/json"})

    _assert_refused(running, result, 422, head)
    assert result.json["errors"], "a validation error names its fields"


def test_unknown_fields_are_named(running: Running, draft: dict[str, Any]) -> None:
    head = running.services.runner.head()

    created = running.client.simulate_post("/journeys", json={**JOURNEY, "priority": 5})
    patched = running.client.simulate_patch(f"/journeys/{draft['id']}", json={"status": "ACTIVE"})
    step = running.client.simulate_post(
        f"/journeys/{draft['id']}/steps", json={**END, "stepNumber": 1}
    )

    for result, field in ((created, "priority"), (patched, "status"), (step, "stepNumber")):
        _assert_refused(running, result, 422, head)
        assert {"field": field, "message": "unknown field"} in result.json["errors"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "EMAIL", "name": "x"},
        {"type": "SEND", "name": ""},
        {"type": "SEND", "name": "x", "config": []},
        {"type": "SEND", "name": "x", "config": "channel=EMAIL"},
        {"type": "SEND", "name": "x", "afterStepId": 7},
        {"name": "no type"},
    ],
)
def test_invalid_steps_are_a_422(running: Running, draft: dict[str, Any], body: Any) -> None:
    head = running.services.runner.head()

    result = running.client.simulate_post(f"/journeys/{draft['id']}/steps", json=body)

    _assert_refused(running, result, 422, head)


@pytest.mark.parametrize(
    "journey_id",
    [
        "journey_" + "0" * 32,
        "journey_123",
        "123",
        "step_" + "0" * 32,
        "journey_%3Cscript%3E",
        "j" * 500,
        "journey_' OR 1=1 --",
    ],
)
def test_unknown_and_malformed_ids_are_a_404(running: Running, journey_id: str) -> None:
    running.client.simulate_get("/health")
    head = running.services.runner.head()
    client = running.client
    requests = [
        client.simulate_get(f"/journeys/{journey_id}"),
        client.simulate_patch(f"/journeys/{journey_id}", json={"name": "x"}),
        client.simulate_delete(f"/journeys/{journey_id}"),
        client.simulate_post(f"/journeys/{journey_id}/activate"),
        client.simulate_post(f"/journeys/{journey_id}/archive"),
        client.simulate_get(f"/journeys/{journey_id}/steps"),
        client.simulate_post(f"/journeys/{journey_id}/steps", json=END),
        client.simulate_post(f"/journeys/{journey_id}/steps/reorder", json={"stepIds": ["a"]}),
        client.simulate_delete(f"/journeys/{journey_id}/steps/step_1"),
    ]
    for result in requests:
        _assert_refused(running, result, 404, head)


def test_oversized_bodies_are_a_413(running: Running, draft: dict[str, Any]) -> None:
    head = running.services.runner.head()
    huge = {**JOURNEY, "description": "x" * (6 * 1024 * 1024)}

    result = running.client.simulate_post("/journeys", json=huge)

    _assert_refused(running, result, 413, head)


def test_other_media_types_are_a_415(running: Running) -> None:
    head = running.services.runner.head()

    result = running.client.simulate_post(
        "/journeys", body="<journey/>", headers={"Content-Type": "application/xml"}
    )

    _assert_refused(running, result, 415, head)


def test_a_body_without_content_type_is_read_as_json(running: Running) -> None:
    result = running.client.simulate_post("/journeys", body=json.dumps(JOURNEY))

    assert result.status_code == 201


def test_unknown_routes_and_methods_use_the_error_shape(running: Running) -> None:
    missing = running.client.simulate_get("/nowhere")
    wrong_method = running.client.simulate_put("/journeys")

    assert missing.status_code == 404 and set(missing.json) >= ERROR_KEYS
    assert wrong_method.status_code == 405 and set(wrong_method.json) >= ERROR_KEYS


def test_nul_characters_in_the_url_are_a_400(running: Running, draft: dict[str, Any]) -> None:
    head = running.services.runner.head()

    in_query = running.client.simulate_get("/journeys", query_string="tenantId=a%00b")
    in_path = running.client.simulate_get(f"/journeys/{draft['id']}%00")
    in_include = running.client.simulate_get(
        f"/journeys/{draft['id']}", query_string="tenantId=%00"
    )

    for result in (in_query, in_path, in_include):
        _assert_refused(running, result, 400, head)


def test_deeply_nested_json_is_refused_not_crashed_on(running: Running) -> None:
    head = running.services.runner.head()
    body = '{"tenantId": "t", "type": "x", "customerId": "c", "data": ' + "[" * 100_000 + "]" * 100_000 + "}"

    result = running.client.simulate_post("/events", body=body,
                                          headers={"Content-Type": "application/json"})

    nested = {"tenantId": "t", "type": "x", "customerId": "c", "data": {"a": [[[[[[[[[[[[[[[[
        [[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}
    too_deep = running.client.simulate_post("/events", json=nested)

    assert result.status_code == 400
    assert too_deep.status_code == 422
    assert too_deep.json["errors"][0]["message"] == "nested deeper than 32 levels"
    assert running.services.runner.head() == head


def test_repeated_query_parameters_are_a_422(running: Running) -> None:
    result = running.client.simulate_get("/journeys", query_string="tenantId=a&tenantId=b")

    assert result.status_code == 422


WEIRD_VALUES: list[Any] = [
    None, True, 0, -1, 1.5, 10**30, "", "x" * 5000, "\u0000", "😀", [], [None], {}, {"a": {"b": []}},
]


def test_no_field_value_produces_a_500(running: Running, draft: dict[str, Any]) -> None:
    """Every field of every body, set to every odd value: always a 2xx or a 4xx."""
    jid, sid = draft["id"], draft["step"]["id"]
    targets = [
        ("POST", "/journeys", JOURNEY),
        ("PATCH", f"/journeys/{jid}", {"name": "n", "description": "d", "triggerType": "t",
                                       "triggerConfig": {"conditions": []}, "allowReentry": True,
                                       "timezone": "UTC"}),
        ("POST", f"/journeys/{jid}/steps", {**SEND, "afterStepId": sid, "nextStepId": sid,
                                            "nextStepYesId": sid, "nextStepNoId": sid}),
        ("PATCH", f"/journeys/{jid}/steps/{sid}", {"name": "n", "config": {}, "nextStepId": sid}),
        ("POST", f"/journeys/{jid}/steps/reorder", {"stepIds": [sid]}),
        ("PUT", "/customers/ada", {"tenantId": "t", "name": "n", "email": "e",
                                   "attributes": {"a": 1}}),
        ("POST", "/events", {"tenantId": "t", "type": "x", "customerId": "c", "eventId": "e",
                             "occurredAt": "2025-01-01T00:00:00Z", "data": {},
                             "customer": {"name": "n"}}),
        ("POST", "/events/batch", {"events": [{"tenantId": "t", "type": "x",
                                               "customerId": "c"}]}),
        ("POST", f"/journeys/{jid}/enrollments", {"customerId": "c"}),
    ]
    for method, path, template in targets:
        for field in template:
            for value in WEIRD_VALUES:
                result = running.client.simulate_request(
                    method, path, json={**template, field: value}
                )
                assert result.status_code < 500, (method, path, field, value, result.text)
    services = running.services
    assert services.waits.wait_for(services.runner.head(), timeout=5), \
        "what was accepted could not be projected"


def test_nul_characters_are_refused_anywhere_in_a_body(
    running: Running, draft: dict[str, Any]
) -> None:
    head = running.services.runner.head()

    named = running.client.simulate_post("/journeys", json={**JOURNEY, "name": "a\u0000b"})
    nested = running.client.simulate_post(
        f"/journeys/{draft['id']}/steps",
        json={**SEND, "config": {"channel": "EMAIL", "templateId": "t", "x\u0000": 1}},
    )

    _assert_refused(running, named, 422, head)
    _assert_refused(running, nested, 422, head)


@pytest.mark.parametrize("number", ["1e309", "-1e309", "1E400"])
def test_numbers_beyond_a_double_are_refused_not_stored_as_null(
    running: Running, number: str
) -> None:
    head = running.services.runner.head()
    result = running.client.simulate_put(
        "/customers/c1", body=f'{{"tenantId": "t", "attributes": {{"score": {number}}}}}',
        headers={"Content-Type": "application/json"})
    _assert_refused(running, result, 400, head)


def test_lone_surrogates_are_a_422_anywhere_in_a_body(running: Running) -> None:
    head = running.services.runner.head()
    for path, method, body in (
        ("/customers/c1", "PUT", '{"tenantId": "t", "attributes": {"name": "\\ud800"}}'),
        ("/customers/c1", "PUT", '{"tenantId": "t", "attributes": {"\\udfff": 1}}'),
        ("/events", "POST", '{"tenantId": "t", "type": "x", "customerId": "c", '
                            '"data": {"v": ["\\ud800"]}}'),
        ("/journeys", "POST", '{"tenantId": "t", "name": "a\\ud800", "triggerType": "x"}'),
    ):
        result = running.client.simulate_request(
            method, path, body=body, headers={"Content-Type": "application/json"})
        _assert_refused(running, result, 422, head)


def test_multipart_forms_are_a_415(running: Running) -> None:
    head = running.services.runner.head()
    result = running.client.simulate_post(
        "/journeys", body=b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=b"})
    _assert_refused(running, result, 415, head)


@pytest.mark.parametrize(("path", "field", "value"), [
    ("/customers/c1", "attributes", {f"k{n}": n for n in range(101)}),
    ("/customers/c1", "attributes", {"blob": "x" * 20_000}),
    ("/events", "data", {"blob": "x" * 20_000}),
])
def test_free_form_objects_are_bounded(running: Running, path: str, field: str,
                                       value: dict[str, Any]) -> None:
    head = running.services.runner.head()
    body = {"tenantId": "t", field: value, **({"type": "x", "customerId": "c"}
                                                if path == "/events" else {})}
    result = running.client.simulate_request("PUT" if path.startswith("/customers") else "POST",
                                             path, json=body)
    _assert_refused(running, result, 422, head)
    assert result.json["errors"][0]["field"].endswith(field)


def test_a_step_config_is_bounded(running: Running, draft: dict[str, Any]) -> None:
    head = running.services.runner.head()
    rules = [{"field": f"f{n}", "operator": "eq", "value": "x" * 200} for n in range(100)]
    result = running.client.simulate_post(f"/journeys/{draft['id']}/steps", json={
        "type": "CONDITION", "name": "big", "config": {"rules": rules}})
    _assert_refused(running, result, 422, head)


def test_a_wait_longer_than_five_years_is_refused_at_the_edit(
    running: Running, draft: dict[str, Any]
) -> None:
    head = running.services.runner.head()
    added = running.client.simulate_post(f"/journeys/{draft['id']}/steps", json={
        "type": "WAIT", "name": "forever", "config": {"duration": "999999 weeks"}})
    assert added.status_code == 201  # a DRAFT may hold an invalid step; activation refuses it
    validation = running.client.simulate_get(f"/journeys/{draft['id']}/validation").json
    assert any("five years" in problem["message"] for problem in validation["errors"])
    refused = running.client.simulate_post(f"/journeys/{draft['id']}/activate")
    assert refused.status_code == 409 and refused.json["code"] == "JOURNEY_INVALID"
    assert running.services.runner.head() == head + 1


def test_a_journey_has_at_most_a_hundred_steps(running: Running) -> None:
    jid = create_journey(running.client)["id"]
    for n in range(100):
        add_step(running.client, jid, type="END", name=f"end {n}")
    head = running.services.runner.head()

    refused = running.client.simulate_post(f"/journeys/{jid}/steps", json=END)

    _assert_refused(running, refused, 422, head)
