"""The enrollments read model's rows of one batch, in memory: read once, changed by the
batch's events, written back in bulk (`insert_many` and `update_many`: COPY on PostgreSQL),
so the cost per event is a dictionary update, not a round trip."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from domain.steps import Step
from storage.database import Cursor, Row
from storage.values import from_json

ENROLLMENT_COLUMNS = ("id", "journey_id", "tenant_id", "customer_id", "status", "current_step_id",
                      "waiting_until", "enrolled_at", "ended_at", "reason", "source",
                      "steps_entered", "position")
HISTORY_COLUMNS = ("enrollment_id", "seq", "step_id", "step_name", "step_type", "status",
                   "started_at", "completed_at", "outcome")
STAT_COLUMNS = ("entered", "completed", "exited", "failed", "waiting", "branch_yes",
                "branch_no")
JOURNEY_STAT_COLUMNS = ("total_enrolled", "total_completed", "total_exited", "total_failed",
                        "active_enrollments")
MESSAGE_COLUMNS = ("id", "tenant_id", "journey_id", "enrollment_id", "customer_id", "step_id",
                   "channel", "template_id", "requested_at", "delivered_at", "updated_at",
                   "attempts", "status", "last_error")
MESSAGE_CHANGES = ("status", "delivered_at", "updated_at", "attempts", "last_error")
SERIES_COLUMNS = ("enrolled", "completed", "exited", "failed", "messages_sent",
                  "messages_failed")
# The quarter of an hour a minute of an instant (as `iso` writes it) falls in.
_QUARTERS = {f"{m:02d}": f"{m // 15 * 15:02d}:00.000Z" for m in range(60)}


class Batch:
    """The rows a batch of events touches, held in memory until written back: those of
    enrollments begun before it are read first (`read`); a batch of no rows folds one
    enrollment's events for an instant of the past (`projections/as_of.py`)."""

    def __init__(self) -> None:
        self.enrollments: dict[str, Row] = {}
        self.history: dict[tuple[str, int], Row] = {}
        self.new_enrollments: set[str] = set()
        self.new_history: set[tuple[str, int]] = set()
        self.stats: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.variants: Counter[tuple[str, str, int]] = Counter()
        self.journeys: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.series: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.messages: dict[str, Row] = {}
        self.new_messages: set[str] = set()

    @classmethod
    def read(cls, cursor: Cursor, enrollment_ids: set[str]) -> Batch:
        """With the rows of these enrollments, and of the step each is at."""
        batch = cls()
        batch.enrollments = {row["id"]: row for row in cursor.select_in(
            "SELECT * FROM enrollments WHERE id {any}", enrollment_ids)}
        batch.history = {(row["enrollment_id"], row["seq"]): row for row in cursor.select_in(
            "SELECT h.* FROM enrollment_steps h JOIN enrollments e "
            "ON e.id = h.enrollment_id AND h.seq = e.steps_entered WHERE e.id {any}",
            enrollment_ids)}
        return batch

    def bump(self, journey_id: str, step_id: str, column: str, by: int = 1) -> None:
        self.stats[(journey_id, step_id)][column] += by

    def enter(self, enrollment: Row, step_id: str, name: str | None, at: str) -> None:
        """`name`: the step's name when entered (None in events recorded before it was)."""
        enrollment["steps_entered"] += 1
        key = (enrollment["id"], enrollment["steps_entered"])
        self.history[key] = {"enrollment_id": key[0], "seq": key[1], "step_id": step_id,
                             "step_name": name, "step_type": None, "status": "ACTIVE",
                             "started_at": at, "completed_at": None, "outcome": "{}"}
        self.new_history.add(key)
        self.stats[(enrollment["journey_id"], step_id)]["entered"] += 1  # bump, inlined

    def current(self, enrollment: Row) -> Row:
        return self.history[(enrollment["id"], enrollment["steps_entered"])]

    def count(self, journey_id: str, at: str, column: str) -> None:
        """One more of `column` in the journey's series, in the quarter hour of `at`."""
        self.series[(journey_id, at[:14] + _QUARTERS[at[14:16]])][column] += 1

    def request(self, message: Row) -> None:
        self.messages[message["id"]] = message
        self.new_messages.add(message["id"])

    def message(self, enrollment: Row, message_id: str) -> Row:
        """The row of the message the enrollment's current step sends: as this batch has
        it, or, for one requested before it, the columns that change (read from the step's
        outcome, which counts the attempts and keeps the last error)."""
        row = self.messages.get(message_id)
        if row is None:
            outcome = from_json(self.current(enrollment)["outcome"])
            row = self.messages[message_id] = {
                "id": message_id, "status": "PENDING", "delivered_at": None, "updated_at": None,
                "attempts": outcome.get("attempts", 0), "last_error": outcome.get("lastError")}
        return row

    def as_read(self, steps: Sequence[Step]) -> dict[str, Row]:
        """Each enrollment's row as `enrollment_queries.get_enrollment` reads it: its source
        and its steps' outcomes parsed, its steps (`steps`) numbered and, where no name was
        recorded, named as in `steps`: a journey's steps at some instant."""
        numbers = {step.id: number for number, step in enumerate(steps, start=1)}
        names = {step.id: step.name for step in steps}
        entered: dict[str, list[Row]] = {}
        for (enrollment_id, _), step in sorted(self.history.items()):
            entered.setdefault(enrollment_id, []).append({
                **step, "step_name": step["step_name"] or names.get(step["step_id"]),
                "step_number": numbers.get(step["step_id"]),
                "outcome": from_json(step["outcome"]) or {}})
        return {enrollment_id: {**row, "source": from_json(row["source"]),
                                "current_step_number": numbers.get(row["current_step_id"]),
                                "current_step_name": names.get(row["current_step_id"]),
                                "steps": entered.get(enrollment_id, [])}
                for enrollment_id, row in self.enrollments.items()}

    def write(self, cursor: Cursor) -> None:
        insert_or_update(cursor, "enrollments", ENROLLMENT_COLUMNS, ("id",),
                          self.enrollments, self.new_enrollments)
        insert_or_update(cursor, "enrollment_steps", HISTORY_COLUMNS, ("enrollment_id", "seq"),
                          self.history, self.new_history)
        additions = ", ".join(f"{c} = step_stats.{c} + excluded.{c}" for c in STAT_COLUMNS)
        cursor.insert_many(
            "step_stats", ("journey_id", "step_id", *STAT_COLUMNS),
            [(*key, *(deltas[c] for c in STAT_COLUMNS)) for key, deltas in self.stats.items()],
            f"ON CONFLICT (journey_id, step_id) DO UPDATE SET {additions}",
        )
        cursor.insert_many(
            "step_variant_stats", ("journey_id", "step_id", "variant", "entered"),
            [(*key, count) for key, count in self.variants.items()],
            "ON CONFLICT (journey_id, step_id, variant) "
            "DO UPDATE SET entered = step_variant_stats.entered + excluded.entered",
        )
        cursor.insert_many("messages", MESSAGE_COLUMNS, [
            itemgetter(*MESSAGE_COLUMNS)(self.messages[i]) for i in self.new_messages])
        cursor.update_many("messages", ("id",), MESSAGE_CHANGES, [
            (*itemgetter(*MESSAGE_CHANGES)(row), key) for key, row in self.messages.items()
            if key not in self.new_messages])
        additions = ", ".join(f"{c} = journey_series.{c} + excluded.{c}" for c in SERIES_COLUMNS)
        cursor.insert_many(
            "journey_series", ("journey_id", "bucket", *SERIES_COLUMNS),
            [(*key, *(counts[c] for c in SERIES_COLUMNS)) for key, counts in self.series.items()],
            f"ON CONFLICT (journey_id, bucket) DO UPDATE SET {additions}",
        )
        additions = ", ".join(f"{c} = journey_stats.{c} + excluded.{c}"
                              for c in JOURNEY_STAT_COLUMNS)
        cursor.insert_many(
            "journey_stats", ("journey_id", *JOURNEY_STAT_COLUMNS),
            [(journey_id, *(deltas[c] for c in JOURNEY_STAT_COLUMNS))
             for journey_id, deltas in self.journeys.items()],
            f"ON CONFLICT (journey_id) DO UPDATE SET {additions}",
        )


def insert_or_update(
    cursor: Cursor,
    table: str,
    columns: Sequence[str],
    keys: Sequence[str],
    rows: dict[Any, Row],
    new: set[Any],
) -> None:
    inserted = itemgetter(*columns)
    cursor.insert_many(table, columns, [inserted(row) for key, row in rows.items() if key in new])
    values = [c for c in columns if c not in keys]
    updated = itemgetter(*values, *keys)
    cursor.update_many(table, keys, values,
                       [updated(row) for key, row in rows.items() if key not in new])


