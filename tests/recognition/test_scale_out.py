"""Two worker processes started separately (as on two GPU hosts) share a deployment's cameras."""

import os
import signal
import subprocess
import sys
import time

import pytest

from deployments.services import camera_create, deployment_authorise, deployments_tick
from recognition.demo_media import walking_face_video
from recognition.leases import camera_lease_holder
from recognition.tasks import cameras_supervise_task
from tests.conftest import subprocess_database_url
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment
from tests.samples import person_crops

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def start_worker(name: str, concurrency: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=subprocess_database_url(),
               CAMERA_WORKER_CAPACITY="1", INFERENCE_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "recognition", "-l", "WARNING",
         "--concurrency", str(concurrency), "-n", f"{name}@%h", "--without-gossip", "--without-mingle"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def holders(deployment, cameras) -> dict[int, str | None]:
    return {c.pk: camera_lease_holder(deployment_id=deployment.pk, camera_id=c.pk) for c in cameras}


def wait_until(condition, timeout, deployment):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cameras_supervise_task()  # what beat runs every 5 s
        value = condition()
        if value:
            return value
        time.sleep(1)
    return condition()


def pid_of(holder: str) -> int:
    return int(holder.split(":")[1])


def test_two_workers_share_cameras_and_take_over_from_a_dead_one(detective, commander, officer, settings, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path
    videos = [walking_face_video(face=person_crops("t1")[i], path=tmp_path / f"cam{i}.mp4", seconds=2, fps=8)
              for i in (1, 5)]
    cameras = [camera_create(actor=detective, name=f"Cam {i}", source_url=str(v), location="Square")
               for i, v in enumerate(videos)]
    for camera in cameras:
        camera.loop_playback = True
        camera.save(update_fields=["loop_playback"])
    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])
    deployment = submitted_deployment(detective, watchlist, cameras)
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)

    first = start_worker("gpu-host-a", concurrency=1)
    second = None
    try:
        assert wait_until(lambda: any(holders(deployment, cameras).values()), 60, deployment), "nobody took a camera"
        second = start_worker("gpu-host-b", concurrency=2)
        shared = wait_until(lambda: all(holders(deployment, cameras).values()) and holders(deployment, cameras), 60,
                            deployment)
        assert shared, f"cameras not all taken: {holders(deployment, cameras)}"
        owners = {camera_id: pid_of(h) for camera_id, h in shared.items()}
        assert len(set(owners.values())) == 2, f"one process holds both cameras: {owners}"

        # Kill the host that holds the first camera; its lease lapses and the other host takes over.
        victim_camera, victim_pid = next(iter(owners.items()))
        victim = first if victim_pid in {p.pid for p in _tree(first)} else second
        survivor = second if victim is first else first
        os.killpg(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        taken = wait_until(lambda: (h := holders(deployment, cameras)[victim_camera]) and pid_of(h) != victim_pid and h,
                           45, deployment)
        assert taken, "the surviving worker never took the dead worker's camera"
        assert time.monotonic() - killed_at < 30
        assert pid_of(taken) in {p.pid for p in _tree(survivor)}
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def _tree(process: subprocess.Popen):
    import psutil

    try:
        parent = psutil.Process(process.pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
