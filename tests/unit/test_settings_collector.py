"""Every `journeys` process collects garbage less often than Python's default."""

from __future__ import annotations

import gc

from journeys.settings import COLLECTOR_THRESHOLDS, tune_collector


def test_tune_collector_raises_the_thresholds_and_freezes_what_exists() -> None:
    thresholds = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS
        assert COLLECTOR_THRESHOLDS[0] > thresholds[0]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
