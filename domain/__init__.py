"""The journey domain: aggregates, pure rules and the application whose methods are commands."""
