"""bench/faults.py, short: a private `lfr up` with a live camera loses no alert and duplicates none when the
process running the camera is SIGKILLed, or when Redis is stopped for 12 s and started again.

It runs the bench's own code (bench/faults.py run_scenarios) on its own PostgreSQL, Redis and ports, so it
shares nothing with the test database; the counting rules are in bench/fault_count.py.
"""

from __future__ import annotations

import pytest

from bench.fault_count import tally
from bench.faults import run_scenarios

pytestmark = pytest.mark.slow


def _lines(record: dict) -> str:
    keep = ("scenario", "error", "expected", "delivered", "lost", "lost_at", "duplicates", "duplicate_alert_ids",
            "blind_s", "recovery_s", "portal_stayed_up", "lfr_up_running_after", "fault")
    return ", ".join(f"{key}={record[key]}" for key in keep if key in record)


def test_a_killed_worker_or_a_restarted_redis_loses_and_duplicates_no_alert(tmp_path):
    run = run_scenarios(["worker_kill", "redis_restart"], seconds=50, var=tmp_path / "faults")
    records = {r["scenario"]: r for r in run["scenarios"]}
    report = "\n".join(_lines(r) for r in run["scenarios"]) + f"\n(lfr up's output: {run['lfr_up_log']})"
    for name in ("worker_kill", "redis_restart"):
        record = records[name]
        assert "error" not in record, report
        assert record["expected"] >= 2, report  # the run saw enough of the camera to mean something
        assert record["lost"] == 0, report
        assert record["duplicates"] == 0, report


def test_the_count_owes_an_alert_per_pass_seen_whole_and_names_duplicates_and_losses():
    """The counting rules on a made-up timeline: pass 10 s, the subject on screen 2-6 s, deciding at 3 s."""
    kwargs = {"pass_s": 10.0, "appearances": {"S": [2.0, 6.0]}, "decisions": {"S": 3.0}, "window": (0.0, 60.0)}
    clean = tally(alerts=[{"id": i, "subject": "S", "frame_time": 3.0 + 10 * i} for i in range(6)], origins=[0.0],
                  cuts=[], **kwargs)
    assert (clean.expected, clean.delivered, clean.lost, clean.duplicates) == (6, 6, 0, 0)

    replayed = tally(alerts=[{"id": 1, "subject": "S", "frame_time": 3.0}, {"id": 2, "subject": "S", "frame_time": 3.0},
                             *[{"id": 10 + i, "subject": "S", "frame_time": 3.0 + 10 * i} for i in range(1, 6)]],
                     origins=[0.0], cuts=[], **kwargs)
    assert (replayed.delivered, replayed.duplicates, replayed.duplicate_alerts) == (6, 1, [2])

    # Killed at 24.5 s (after the third pass's decision point: owed), streaming again at 41 s (video from 0).
    killed = tally(alerts=[{"id": 1, "subject": "S", "frame_time": 3.0}, {"id": 2, "subject": "S", "frame_time": 13.0},
                           {"id": 3, "subject": "S", "frame_time": 44.0}, {"id": 4, "subject": "S", "frame_time": 54.0}],
                   origins=[0.0, 41.0], cuts=[24.5], **kwargs)
    assert (killed.expected, killed.delivered, killed.lost, round(killed.blind_s, 1)) == (5, 4, 1, 16.5)
    assert killed.lost_at == [{"subject": "S", "from": 20.5, "to": 27.5}]

    # Killed at 23.5 s: the third walk-by had not reached its decision point, so it is not owed.
    early = tally(alerts=[{"id": 1, "subject": "S", "frame_time": 3.0}, {"id": 2, "subject": "S", "frame_time": 13.0},
                          {"id": 3, "subject": "S", "frame_time": 44.0}, {"id": 4, "subject": "S", "frame_time": 54.0}],
                  origins=[0.0, 41.0], cuts=[23.5], **kwargs)
    assert (early.expected, early.lost) == (4, 0)
