"""The OpenAPI document tells the truth: schemathesis sends a few hundred generated
requests, valid and not, to every operation, as a tenant's key, and finds no 5xx, no
status the document does not list, no response that breaks its schema, no valid request
refused (SQLite: the answers are the same on both databases, and this suite is about the
document)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from api.app import create_app
from journeys.wiring import build_system

EXAMPLES = 12  # per operation: a few hundred requests in all
# No 5xx, no status or content type the document does not list, no response or header
# against its schema. (A request the schema allows may still break a rule the schema
# cannot say, such as an IANA time zone or a valid step graph: those are 422, listed.)
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance,
          checks.response_headers_conformance]


SECRET = "jrn_fuzzing_tenant_key"
AS_TENANT = {"Authorization": f"Bearer {SECRET}"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "journeys.db"
    system = build_system(f"sqlite:///{path}", clock=lambda: datetime(2025, 12, 14, tzinfo=UTC),
                          consistency_timeout=0.2)
    system.services.keys.issue("fuzzing", "tenant_fuzz", SECRET)
    app = create_app(system.services)
    yield schemathesis.openapi.from_wsgi("/openapi.json", app)
    system.services.app.close()


def test_every_operation_answers_as_its_document_says(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=AS_TENANT, checks=CHECKS)

        try:
            answers_as_documented()
        except Exception as error:
            raise AssertionError(f"{operation.method.upper()} {operation.path}") from error
