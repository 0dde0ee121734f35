"""Read models built only from domain events, each exactly-once and rebuildable from the log."""
