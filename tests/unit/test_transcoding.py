"""`JourneysTranscoder` decodes every stored state to what the library's decoder gives."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from domain.application import JourneysApplication
from journeys.wiring import TRANSCODER
from storage.transcoding import JourneysTranscoder


def _transcoders() -> tuple[JSONTranscoder, JourneysTranscoder]:
    library, ours = JSONTranscoder(), JourneysTranscoder()
    for transcoder in (library, ours):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)
    return library, ours


STATES: list[Any] = [
    {"at": datetime(2030, 1, 7, 9, tzinfo=UTC), "facts": [
        {"kind": "StepCompleted", "outcome": {"branch": "no", "values": {"score": None}},
         "at": datetime(2030, 1, 8, 9, tzinfo=timezone(timedelta(hours=-5)))},
        {"kind": "Completed", "at": datetime(2030, 1, 8, 9, 0, 0, 123456)}]},
    {"id": UUID("12345678123456781234567812345678"), "amount": Decimal("1.10"),
     "nested": [[{"deep": [Decimal("-0"), {"when": datetime(2029, 12, 31, 23, 59)}]}]]},
    {"two": 1, "keys": 2, "_type_": "not alone"},  # three keys: an ordinary object
    {"_type_": 5},  # one key: an ordinary object
    {"attributes": {"name": "Zoë 𝄞", "tags": ["a", "b"], "big": 2**63 - 1, "neg": -(2**63),
                    "float": 0.1, "exp": 1e-300, "empty": {}, "list": []}},
    {"past_64_bits": [2**64 - 1, 2**64, -(2**63) - 1, 10**30], "float": 1e30,
     "floats": [-(2.0**70), 2.0**63]},
    [Decimal("2"), 2.0**64],
]


@pytest.mark.parametrize("state", STATES)
def test_decodes_what_the_library_decodes(state: Any) -> None:
    library, ours = _transcoders()
    data = library.encode(state)
    assert ours.decode(data) == library.decode(data) == state
    assert [type(v) for v in _leaves(ours.decode(data))] == \
        [type(v) for v in _leaves(library.decode(data))]


@pytest.mark.parametrize("text", [
    b'{"score": NaN, "up": Infinity, "down": -Infinity}',  # the library's encoder writes these
    b'{"huge": 123456789012345678901234567890}',
    b'{"lone": "\\ud800"}',
    b'{"at": {"_type_": "datetime_iso", "_data_": "2030-01-07T09:00:00+00:00"}, "x": NaN}',
])
def test_what_orjson_refuses_is_decoded_by_the_library(text: bytes) -> None:
    library, ours = _transcoders()
    decoded, expected = ours.decode(text), library.decode(text)
    assert _same(decoded, expected)


def test_an_unknown_type_is_refused_as_the_library_refuses_it() -> None:
    _, ours = _transcoders()
    with pytest.raises(TranscodingNotRegisteredError):
        ours.decode(b'{"x": {"_type_": "rocket", "_data_": "1"}}')


def test_another_datetime_transcoding_is_used_rather_than_the_shortcut() -> None:
    class Stamp(DatetimeAsISO):
        def decode(self, data: str) -> datetime:
            return super().decode(data).replace(microsecond=1)

    transcoder = JourneysTranscoder()
    transcoder.register(Stamp())
    decoded = transcoder.decode(b'{"_type_": "datetime_iso", "_data_": "2030-01-07T09:00:00"}')
    assert decoded == datetime(2030, 1, 7, 9, 0, 0, 1)


def test_the_composition_root_chooses_it_for_the_application() -> None:
    app = JourneysApplication(env={"TRANSCODER_TOPIC": TRANSCODER},
                              clock=lambda: datetime(2030, 1, 7, tzinfo=UTC))
    assert type(app.mapper.transcoder) is JourneysTranscoder
    assert type(app.mapper.transcoder.decode(b'{"at": {"_type_": "datetime_iso", '
                                             b'"_data_": "2030-01-07T09:00:00+00:00"}}')["at"]) \
        is datetime


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
