"""Stored events decoded by orjson, to the same values as the library's decoder
(`decisions/0028`).

The library's `JSONTranscoder` decodes with the standard library's parser and an
`object_hook` called for every object, where replaying the log spent much of its CPU.
orjson parses the same text faster; the objects that stand for a transcoded value
(`{"_type_": …, "_data_": …}`) are then turned into their values by one walk. Encoding
is left to the library. Whatever orjson refuses but the standard parser accepts (NaN,
escaped lone surrogates) is decoded by the library, and so is a document with a float of
2**63 or more: orjson reads an integer past 64 bits as a float, where the standard parser
keeps it an int. A value therefore decodes the same either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Transcoding

_ROUNDED = 2.0**63  # orjson's floats from here on may have been integers in the text


class _Rounded(Exception):
    """A float orjson may have made of an integer too large for 64 bits."""


class JourneysTranscoder(JSONTranscoder):
    _iso_datetimes = False  # "datetime_iso" is the library's DatetimeAsISO

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._iso_datetimes = type(self.names.get("datetime_iso")) is DatetimeAsISO

    def decode(self, data: bytes) -> Any:
        try:
            return self._revive(orjson.loads(data))
        except (orjson.JSONDecodeError, _Rounded):
            return super().decode(data)

    def _revive(self, value: Any) -> Any:
        """`value` with every transcoded object, innermost first, replaced by its value,
        as the library's `_decode_obj` would have it."""
        if type(value) is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                data = value["_data_"]
                if type(data) is str and value["_type_"] == "datetime_iso" and self._iso_datetimes:
                    return datetime.fromisoformat(data)  # DatetimeAsISO.decode, but for its assert
                value["_data_"] = self._revive(data)
                return self._decode_obj(value)
            for key, item in value.items():
                kind = type(item)
                if kind is dict or kind is list:
                    value[key] = self._revive(item)
                elif kind is float and not -_ROUNDED < item < _ROUNDED:
                    raise _Rounded
        elif type(value) is list:
            for index, item in enumerate(value):
                kind = type(item)
                if kind is dict or kind is list:
                    value[index] = self._revive(item)
                elif kind is float and not -_ROUNDED < item < _ROUNDED:
                    raise _Rounded
        elif type(value) is float and not -_ROUNDED < value < _ROUNDED:
            raise _Rounded
        return value
