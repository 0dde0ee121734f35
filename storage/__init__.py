"""What talks to the databases: one small SQL surface with a module per dialect, the event
log's bulk reads, and how values and events are encoded for storage."""
