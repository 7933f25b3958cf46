"""The spool itself (alerts/alert_spool.py, no Django): durable, private, held by one drainer at a time,
and never losing an entry to a failed delivery. The deliverers here are fakes: what is tested is the spool."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time

from alerts.alert_spool import AlertSpool, Backoff, SpoolDrainer, SpoolEntry, spool_drain


def entry(n: int = 1) -> SpoolEntry:
    return SpoolEntry(meta={"deployment_id": 1, "track_id": n}, jpeg=b"\xff\xd8 face %d \xff\xd9" % n)


def test_an_entry_is_written_whole_private_and_read_back(tmp_path):
    spool = AlertSpool(tmp_path / "spool")
    held = spool.put(entry(1))
    [path] = spool.paths()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(spool.folder).st_mode) == 0o700
    assert held.read() == entry(1)
    assert not [p for p in spool.folder.iterdir() if p != path]  # no temporary left
    held.remove()
    assert spool.size() == 0


def test_a_held_entry_is_skipped_by_other_drainers_until_released(tmp_path):
    spool = AlertSpool(tmp_path)
    held = spool.put(entry(1))
    assert spool.hold(held.path) is None  # the writer holds it from the moment it exists
    held.release()
    again = spool.hold(held.path)
    assert again is not None and again.read() == entry(1)
    again.release()


def test_an_entry_removed_by_one_drainer_is_not_taken_by_another(tmp_path):
    spool = AlertSpool(tmp_path)
    held = spool.put(entry(1))
    late = os.open(held.path, os.O_RDWR)  # another drainer opened it just before the removal
    held.remove()
    os.close(late)
    assert spool.hold(held.path) is None and spool.size() == 0


def test_a_killed_writers_entry_is_free_for_the_next_drainer(tmp_path):
    script = textwrap.dedent(f"""
        import os
        from alerts.alert_spool import AlertSpool, SpoolEntry
        AlertSpool({str(tmp_path)!r}).put(SpoolEntry(meta={{"track_id": 9}}, jpeg=b"crop"))
        os.kill(os.getpid(), 9)
    """)
    subprocess.run([sys.executable, "-c", script], check=False, cwd=os.getcwd())
    spool = AlertSpool(tmp_path)
    [path] = spool.paths()
    held = spool.hold(path)
    assert held is not None and held.read().meta == {"track_id": 9}
    held.release()


def test_a_failed_delivery_keeps_the_entry_and_the_ones_after_it(tmp_path):
    spool = AlertSpool(tmp_path)
    for n in (1, 2, 3):
        spool.put(entry(n)).release()
    delivered = []

    def database_down(held):
        raise ConnectionError("database unavailable")

    assert spool_drain(spool, database_down).failed == 1
    assert spool.size() == 3

    def deliver(held):
        delivered.append(held.read().meta["track_id"])
        held.remove()

    assert spool_drain(spool, deliver).delivered == 3
    assert delivered == [1, 2, 3] and spool.size() == 0  # oldest first


def test_an_entry_refused_for_good_does_not_hold_up_the_rest(tmp_path):
    spool = AlertSpool(tmp_path)
    spool.put(entry(1)).release()
    spool.put(entry(2)).release()

    def deliver(held):
        if held.read().meta["track_id"] == 1:
            raise LookupError("no such deployment")
        held.remove()

    result = spool_drain(spool, deliver, transient=lambda exc: not isinstance(exc, LookupError))
    assert (result.undeliverable, result.delivered) == (1, 1)
    assert spool.size() == 1  # kept for an operator, not deleted


def test_a_damaged_entry_is_reported_not_delivered(tmp_path):
    spool = AlertSpool(tmp_path)
    held = spool.put(entry(1))
    held.release()
    held.path.write_bytes(held.path.read_bytes()[:-3])
    assert spool_drain(spool, lambda held: held.read()).undeliverable == 1


def test_the_drainer_retries_with_back_off_until_delivered(tmp_path):
    spool = AlertSpool(tmp_path)
    spool.put(entry(1)).release()
    attempts = []

    def flaky(held):
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("not yet")
        held.remove()

    drainer = SpoolDrainer(spool, flaky, backoff=Backoff(0.05, 0.2), idle_s=0.05).start()
    deadline = time.monotonic() + 10
    while spool.size() and time.monotonic() < deadline:
        time.sleep(0.02)
    drainer.stop()
    assert spool.size() == 0 and len(attempts) == 3
    assert not drainer.failing


def test_back_off_doubles_up_to_its_limit_and_resets():
    backoff = Backoff(1.0, 4.0)
    assert [backoff.failed() for _ in range(4)] == [1.0, 2.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.failed() == 1.0
