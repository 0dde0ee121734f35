"""The event store as Journeys configures it: what an append sends, and what comes back."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import StoredEvent

from api.context import Services

AWKWARD = b'\x00\\"\'{},()\n\xff' * 40  # NUL, backslash, quotes, braces, commas: escaped as text


def test_stored_events_come_back_byte_for_byte(services: Services) -> None:
    recorder = services.app.recorder
    events = [StoredEvent(f'customer_"{n}"\\x', 1, 'topic:"quoted", (x)', AWKWARD + bytes([n]))
              for n in range(3)]
    recorder.insert_events(events)

    for event in events:
        [found] = recorder.select_events(event.originator_id)
        assert (found.originator_id, found.topic, found.state) == \
            (event.originator_id, event.topic, event.state)


def test_an_append_sends_its_events_as_a_binary_array(services: Services) -> None:
    """PostgreSQL: psycopg's text array of composite records is escaped in Python, ten
    times the binary array's cost (`decisions/0024`)."""
    if services.database.dialect != "postgres":
        pytest.skip("SQLite stores what it is given")
    from psycopg.adapt import PyFormat, Transformer

    recorder = services.app.recorder
    datastore = recorder.datastore  # type: ignore[attr-defined]
    with datastore.get_connection() as connection:
        record = datastore.psycopg_python_types[recorder.stored_event_type_name](  # type: ignore[attr-defined]
            "customer_1", 1, "topic", AWKWARD)
        dumper = Transformer(connection).get_dumper([record], PyFormat.AUTO)
        assert dumper.format == 1  # binary
