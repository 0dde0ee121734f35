"""Composition root: settings, wiring and the `journeys` console script."""
