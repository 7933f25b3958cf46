"""Alert delivery from the camera worker's match to PostgreSQL: at least once (the spool), at most once (the
delivery key), whatever fails on the way - the broker, the database, the worker itself.

Real PostgreSQL and Redis throughout: the faults are a Redis address nothing listens on, a TCP path to
PostgreSQL that is cut for real, and a worker process killed with SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection, connections
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertRecord
from audit.models import AuditEvent
from tests.alerts.worker_matches import match, worker_run
from tests.conftest import subprocess_database_url

pytestmark = [pytest.mark.django_db(transaction=True)]


def _dead_redis_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens here: every connection is refused


def _alert_crops(deployment_id: int) -> set[str]:
    from django.conf import settings

    folder = Path(settings.PROTECTED_MEDIA_ROOT) / "alerts" / str(deployment_id)
    if not folder.is_dir():
        return set()
    return {p.relative_to(settings.PROTECTED_MEDIA_ROOT).as_posix() for p in folder.glob("*")}


def _wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.1, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def spool_dir(settings, tmp_path):
    """This test's own spool and protected storage, so files of other tests do not count."""
    settings.ALERT_SPOOL_DIR = tmp_path / "alert-spool"
    settings.PROTECTED_MEDIA_ROOT = tmp_path / "protected"
    return settings.ALERT_SPOOL_DIR


def test_a_broadcast_failure_keeps_the_alert_its_crop_and_the_rest_of_the_batch(
        settings, spool_dir, live_deployment, officer, client_as):
    """Redis down after commit: the alert keeps its image for the officer, and the batch's next alert is saved."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
        "hosts": [{"address": _dead_redis_url(), "socket_connect_timeout": 1}]}}}
    run = worker_run(live_deployment)

    for index in (0, 1):  # two matches of one batch
        run.on_alert(match(run, subject_index=index, track_id=index + 1))

    alerts = list(Alert.objects.filter(deployment=live_deployment).order_by("pk"))
    assert len(alerts) == 2
    client = client_as(officer)
    for alert in alerts:
        response = client.get(reverse("alerts:probe_image", args=[alert.pk]))
        assert response.status_code == 200 and response.content[:2] == b"\xff\xd8"  # the JPEG crop
    assert _alert_crops(live_deployment.pk) == {a.probe_file for a in alerts}
    assert not list(Path(spool_dir).glob("*.alert"))  # delivered: nothing of the faces left in the spool


def test_an_alert_raised_while_postgresql_is_unreachable_appears_once_it_is_back(spool_dir, live_deployment):
    from alerts.alert_spool import Backoff, SpoolDrainer
    from tests.alerts.tcp_proxy import TcpProxy

    run = worker_run(live_deployment)
    database = connection.settings_dict
    original = database["HOST"], database["PORT"]
    proxy = TcpProxy((database["HOST"], int(database["PORT"]))).start()
    # Every connection of this process, the drainer thread's included, now goes through the proxy.
    database["HOST"], database["PORT"] = "127.0.0.1", str(proxy.port)
    connection.close()
    try:
        run.drainer = SpoolDrainer(run.spool, run.deliver_spooled, backoff=Backoff(0.2, 1.0),
                                   on_exit=connections.close_all).start()
        proxy.cut()
        run.on_alert(match(run, subject_index=0, track_id=1))  # must not raise: the match is on disk
        run.on_alert(match(run, subject_index=1, track_id=2))
        assert run.spool.size() == 2
        _wait_for(lambda: run.drainer.failing, what="the drainer to find the database down")
        assert run.spool.size() == 2
        proxy.restore()

        def delivered() -> bool:
            try:
                return run.spool.size() == 0 and Alert.objects.filter(deployment=live_deployment).count() == 2
            except OperationalError:
                connection.close()  # this thread's connection was reset with the cut
                return False

        _wait_for(delivered, what="the spooled alerts to reach PostgreSQL")
        run.drainer.stop()
    finally:
        proxy.close()
        database["HOST"], database["PORT"] = original
        connections.close_all()

    alerts = list(Alert.objects.filter(deployment=live_deployment).order_by("track_id"))
    assert [a.track_id for a in alerts] == [1, 2]  # each exactly once
    assert AlertRecord.objects.filter(deployment=live_deployment).count() == 2
    assert AuditEvent.objects.filter(action="alert.created", deployment_id=live_deployment.pk).count() == 2
    assert _alert_crops(live_deployment.pk) == {a.probe_file for a in alerts}
    assert sorted(run.alerts) == sorted(a.pk for a in alerts)


def test_a_worker_killed_between_crop_and_commit_leaves_no_orphan_and_its_alert_is_delivered(
        settings, spool_dir, live_deployment):
    from audit.services import AUDIT_CHAIN_LOCK

    env = dict(os.environ, DATABASE_URL=subprocess_database_url(), ALERT_SPOOL_DIR=str(spool_dir),
               PROTECTED_MEDIA_ROOT=str(settings.PROTECTED_MEDIA_ROOT),
               DJANGO_SETTINGS_MODULE="config.settings", PYTHONUNBUFFERED="1")
    with connection.cursor() as cursor:
        # Holding the audit chain's lock stops the worker's alert transaction just before it commits.
        cursor.execute("SELECT pg_advisory_lock(%s)", [AUDIT_CHAIN_LOCK])
    worker = subprocess.Popen([sys.executable, "-m", "tests.alerts.worker_matches", str(live_deployment.pk),
                               "killed-host:4242:0123456789ab"], env=env, cwd=settings.BASE_DIR,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def waiting_to_commit() -> bool:
            if worker.poll() is not None:
                raise AssertionError(f"the worker exited: {worker.stdout.read().decode()}")
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                return cursor.fetchone()[0] > 0

        _wait_for(waiting_to_commit, timeout=60, what="the worker to wait on its commit")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [AUDIT_CHAIN_LOCK])

    assert not Alert.objects.filter(deployment=live_deployment).exists()
    left_by_the_killed_worker = _alert_crops(live_deployment.pk)
    assert left_by_the_killed_worker  # its crop, written before the transaction

    # The next worker on the host (or the beat drain) delivers the spooled match.
    from alerts.services import alert_files_sweep, alerts_spool_drain

    assert alerts_spool_drain()["delivered"] == 1
    alert = Alert.objects.get(deployment=live_deployment)
    assert alert.run_token == "killed-host:4242:0123456789ab" and alert.track_id == 1

    counts = alert_files_sweep(now=timezone.now() + dt.timedelta(seconds=settings.ALERT_ORPHAN_GRACE_SECONDS + 1))
    assert _alert_crops(live_deployment.pk) == {alert.probe_file}  # the orphan is gone, the alert's crop kept
    assert counts == {"unreferenced_crops": 0, "pending_crops": 1, "spool_temporaries": 0, "expired_spool_entries": 0}
    assert len(left_by_the_killed_worker) == 1
    swept = AuditEvent.objects.get(action="alert.files_swept")
    assert swept.details == counts  # counts only: no names, no faces
    assert not list(Path(spool_dir).iterdir())


def test_the_same_match_delivered_twice_or_at_once_makes_one_alert(spool_dir, live_deployment):
    """A crash after commit and before the spool entry's removal delivers it again; two drainers may race."""
    from alerts.alert_spool import SpoolEntry
    from alerts.services import alerts_spool_drain
    from alerts.spool import alert_spool

    run = worker_run(live_deployment)
    run.on_alert(match(run, subject_index=0, track_id=7))
    alert = Alert.objects.get(deployment=live_deployment)
    entry_bytes = _entry_bytes_of(run, alert)

    spool = alert_spool()
    for _ in range(3):  # the same entry, found again by three drainers at once
        spool.put(SpoolEntry.from_bytes(entry_bytes)).release()
    barrier = threading.Barrier(3)
    results = []

    def drain() -> None:
        barrier.wait()
        try:
            results.append(alerts_spool_drain())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(r["delivered"] for r in results) == 3 and not any(r["failed"] for r in results)
    assert list(Alert.objects.filter(deployment=live_deployment).values_list("pk", flat=True)) == [alert.pk]
    assert AlertRecord.objects.filter(deployment=live_deployment).count() == 1
    assert AuditEvent.objects.filter(action="alert.created", deployment_id=live_deployment.pk).count() == 1
    assert _alert_crops(live_deployment.pk) == {alert.probe_file}  # no pending copies left behind
    assert spool.size() == 0


def test_a_delivery_that_committed_but_lost_its_crop_rename_gets_the_crop_back(spool_dir, live_deployment):
    from alerts.alert_spool import SpoolEntry
    from alerts.services import alerts_spool_drain
    from alerts.spool import alert_spool
    from watchlists.storage import protected_delete, protected_exists

    run = worker_run(live_deployment)
    run.on_alert(match(run, subject_index=0, track_id=3))
    alert = Alert.objects.get(deployment=live_deployment)
    entry_bytes = _entry_bytes_of(run, alert)
    protected_delete(alert.probe_file)  # as if killed after commit, before the rename

    alert_spool().put(SpoolEntry.from_bytes(entry_bytes)).release()
    assert alerts_spool_drain()["delivered"] == 1

    assert protected_exists(alert.probe_file)
    assert Alert.objects.filter(deployment=live_deployment).count() == 1


def test_matches_of_a_new_worker_run_are_not_taken_for_an_old_runs_track(spool_dir, live_deployment):
    """Track ids restart at 1 in every worker process: the run's holder token keeps its matches apart."""
    first, second = worker_run(live_deployment, holder="h:1:aaaaaaaaaaaa"), worker_run(live_deployment,
                                                                                      holder="h:2:bbbbbbbbbbbb")
    first.on_alert(match(first, subject_index=0, track_id=1))
    second.on_alert(match(second, subject_index=0, track_id=1))
    assert Alert.objects.filter(deployment=live_deployment, track_id=1).count() == 2


def _entry_bytes_of(run, alert) -> bytes:
    """The spool entry the run wrote for `alert`, rebuilt (the delivered one is gone)."""
    from alerts.spool import alert_spool_entry

    return alert_spool_entry(
        deployment_id=alert.deployment_id, camera_id=alert.camera_id, run_token=alert.run_token,
        track_id=alert.track_id, reference=run.by_subject[alert.subject_id], score=alert.score,
        threshold=alert.threshold, model_id=alert.model_id, frame_time=alert.frame_time,
        probe_jpeg=b"\xff\xd8 a crop \xff\xd9").to_bytes()


def test_the_sweeper_removes_only_old_unreferenced_crops_and_stale_temporaries(settings, spool_dir, live_deployment):
    from alerts.alert_spool import SpoolEntry
    from alerts.services import alert_files_sweep
    from alerts.spool import alert_spool
    from watchlists.storage import protected_path, protected_save, protected_save_pending

    run = worker_run(live_deployment)
    run.on_alert(match(run))
    kept = Alert.objects.get(deployment=live_deployment).probe_file
    folder = f"alerts/{live_deployment.pk}"
    old_orphan, _ = protected_save(data=b"face", folder=folder, suffix=".jpg")
    young_orphan, _ = protected_save(data=b"face", folder=folder, suffix=".jpg")
    old_pending = protected_save_pending(data=b"face", folder=folder, suffix=".jpg")
    Path(spool_dir).mkdir(parents=True, exist_ok=True)
    spool_temporary = Path(spool_dir) / ".123-abc.part"
    spool_temporary.write_bytes(b"half an entry")
    long_ago = time.time() - settings.ALERT_ORPHAN_GRACE_SECONDS - 60
    for path in (protected_path(kept), protected_path(old_orphan), protected_path(old_pending + ".pending"),
                 spool_temporary):
        os.utime(path, (long_ago, long_ago))
    # A spooled match never delivered (refused for good), and one still waiting its turn.
    spool = alert_spool()
    expired = spool.put(SpoolEntry(meta={"deployment_id": 0}, jpeg=b"face"))
    expired.release()
    beyond_retention = time.time() - settings.ALERT_RETENTION_DAYS * 86400 - 60
    os.utime(expired.path, (beyond_retention, beyond_retention))
    spool.put(SpoolEntry(meta={"deployment_id": 0}, jpeg=b"face")).release()

    counts = alert_files_sweep()

    assert counts == {"unreferenced_crops": 1, "pending_crops": 1, "spool_temporaries": 1, "expired_spool_entries": 1}
    assert _alert_crops(live_deployment.pk) == {kept, young_orphan}  # referenced, or still within the grace
    assert not spool_temporary.exists() and not expired.path.exists() and spool.size() == 1
    event = AuditEvent.objects.get(action="alert.files_swept")
    assert event.details == counts and event.actor is None
    assert alert_files_sweep() == {"unreferenced_crops": 0, "pending_crops": 0, "spool_temporaries": 0,
                                   "expired_spool_entries": 0}
    assert AuditEvent.objects.filter(action="alert.files_swept").count() == 1  # nothing swept: nothing to audit


def test_a_camera_worker_starting_up_delivers_what_a_killed_predecessor_spooled(settings, tmp_path, spool_dir,
                                                                              live_deployment):
    import cv2
    import numpy as np

    from alerts.spool import alert_spool, alert_spool_entry
    from recognition.camera_worker import camera_worker_run
    from tests.samples import encode_jpeg, person_image

    predecessor = worker_run(live_deployment, holder="old-host:99:0123456789ab")
    reference = predecessor.by_subject[sorted(predecessor.by_subject)[0]]
    camera = live_deployment.cameras.get()
    # Spooled, never delivered: the worker was killed, its lock went with it.
    alert_spool().put(alert_spool_entry(
        deployment_id=live_deployment.pk, camera_id=camera.pk, run_token=predecessor.holder, track_id=1,
        reference=reference, score=0.7, threshold=live_deployment.threshold, model_id=predecessor.model_id,
        frame_time=timezone.now(), probe_jpeg=encode_jpeg(person_image(0)))).release()
    # The camera shows an empty street for a second, then its file ends and the new worker stops.
    settings.CAMERA_FILE_ROOT = tmp_path / "video"
    settings.CAMERA_FILE_ROOT.mkdir()
    video = settings.CAMERA_FILE_ROOT / "street.mp4"
    type(camera).objects.filter(pk=camera.pk).update(source_url=str(video))
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (320, 240))
    for _ in range(5):
        writer.write(np.full((240, 320, 3), 90, np.uint8))
    writer.release()

    result = camera_worker_run(deployment_id=live_deployment.pk, realtime=False)

    assert result["claimed"] == 1
    alert = Alert.objects.get(deployment=live_deployment)
    assert alert.run_token == predecessor.holder and result["alerts"] == []  # delivered, not raised by this run
    assert _alert_crops(live_deployment.pk) == {alert.probe_file}
    assert alert_spool().size() == 0
