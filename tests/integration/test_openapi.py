"""The OpenAPI document is generated from the resources and covers the whole contract."""

from __future__ import annotations

from falcon import testing

CONTRACT = {
    "/journeys": {"get", "post"},
    "/journeys/{journey_id}": {"get", "patch", "delete"},
    "/journeys/{journey_id}/activate": {"post"},
    "/journeys/{journey_id}/pause": {"post"},
    "/journeys/{journey_id}/resume": {"post"},
    "/journeys/{journey_id}/archive": {"post"},
    "/journeys/{journey_id}/steps": {"get", "post"},
    "/journeys/{journey_id}/steps/reorder": {"post"},
    "/journeys/{journey_id}/steps/{step_id}": {"patch", "delete"},
    "/journeys/{journey_id}/validation": {"get"},
    "/journeys/{journey_id}/enrollments": {"get", "post"},
    "/journeys/{journey_id}/enrollments/{key}": {"get", "delete"},
    "/journeys/{journey_id}/stats": {"get"},
    "/customers/{customer_id}": {"get", "put"},
    "/events": {"post"},
    "/events/batch": {"post"},
    "/health": {"get"},
}


def test_every_endpoint_and_its_schemas_are_described(client: testing.TestClient) -> None:
    result = client.simulate_get("/openapi.json")

    assert result.status_code == 200
    document = result.json
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path, methods in CONTRACT.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    create = paths["/journeys"]["post"]
    assert "requestBody" in create
    assert {"201", "422"} <= set(create["responses"])
    schemas = document["components"]["schemas"]
    assert any(name.startswith("CreateJourney") for name in schemas)
    assert any(name.startswith("Error") for name in schemas)
