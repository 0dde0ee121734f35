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


def test_the_log_reads_as_the_library_reads_it(services: Services) -> None:
    """`EventLog.read` (binary tuples on PostgreSQL) gives what the recorder's
    `select_notifications` gives: same bounds, topics, limit, and state bytes."""
    recorder = services.app.recorder
    recorder.insert_events([StoredEvent(f"customer_{n}", 1, f"topic{n % 3}", AWKWARD + bytes([n]))
                            for n in range(12)])
    head = services.runner.head()
    for start, stop, topics, limit in ((1, head, ["topic0", "topic2"], 100),
                                       (3, head - 2, ["topic1"], 100),
                                       (1, head, ["topic0", "topic1", "topic2"], 5),
                                       (2, head, [], 4)):
        ours = services.runner.log.read(start, stop, topics, limit)
        theirs = recorder.select_notifications(start=start, stop=stop, topics=topics,
                                               limit=limit)
        assert ours == theirs
        assert ours and all(type(n.state) is bytes for n in ours)
