"""The process that drives time: timers, sends and trigger matching (arrives with enrollments)."""
