"""`lfr up`'s workers: with every camera slot running a camera loop, control work is still on time."""

import datetime as dt

import pytest
from django.utils import timezone

from config.launcher import beat_command, worker_commands
from deployments.models import Deployment
from deployments.services import deployment_authorise, deployments_tick
from tests.factories import approved_watchlist, enrolled_subject, make_subject, submitted_deployment, video_camera
from tests.samples import person_jpeg
from tests.worker_processes import broker, lease_holder, start_process, wait_until
from watchlists.models import ReferenceImage
from watchlists.services import reference_image_add

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ON_TIME_SECONDS = 10  # beat ticks every 5 s


def seconds_until(moment: dt.datetime) -> float:
    return max((moment - timezone.now()).total_seconds(), 0.0)


def state_of(deployment) -> str:
    return Deployment.objects.filter(pk=deployment.pk).values_list("state", flat=True).get()


def test_windows_open_and_close_on_time_and_enrolment_completes_while_every_camera_slot_is_busy(
        detective, commander, private_redis, tmp_path, settings):
    settings.CAMERA_FILE_ROOT = tmp_path
    watchlist = approved_watchlist(detective, commander, [enrolled_subject(detective, 0)])
    cameras = [video_camera(detective, name=f"Camera {i}") for i in range(3)]
    # Two live deployments for one camera slot: one camera loop runs (its file never opens, so it retries for
    # the whole window), the other waits for a slot.
    busy = []
    for camera in cameras[:2]:
        deployment = submitted_deployment(detective, watchlist, [camera], name=camera.name)
        deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
        deployments_tick(now=deployment.starts_at)
        busy.append((deployment, camera))

    url = private_redis.url
    commands = worker_commands(control_concurrency=1, camera_concurrency=1)
    processes = [start_process(name, command, redis_url=url, log_dir=tmp_path, CAMERA_FILE_ROOT=str(tmp_path))
                 for name, command in commands.items()]
    processes.append(start_process("beat", beat_command(schedule_file=tmp_path / "beat-schedule"), redis_url=url,
                                   log_dir=tmp_path, CAMERA_FILE_ROOT=str(tmp_path)))
    client = broker(url)
    try:
        def camera_slot_taken():  # beat's camera supervision hands the busy deployments' cameras out
            holders = [lease_holder(url, deployment_id=d.pk, camera_id=c.pk) for d, c in busy]
            return next((h for h in holders if h), None)

        holder = wait_until(camera_slot_taken, timeout=180, what="a camera loop in the camera slot",
                            processes=processes)

        subject = make_subject(detective)
        image = reference_image_add(actor=detective, subject=subject, data=person_jpeg(1), image_source="CUS/9",
                                    enrol=False)
        client.send_task("watchlists.tasks.reference_images_enrol_task", args=[[image.pk]])

        deployment = submitted_deployment(detective, watchlist, [cameras[2]], name="Market Square",
                                          starts_in=dt.timedelta(seconds=20), hours=25 / 3600)
        deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")

        wait_until(lambda: state_of(deployment) == Deployment.State.LIVE,
                   timeout=seconds_until(deployment.starts_at) + ON_TIME_SECONDS,
                   what="the deployment going live within 10 s of its window's start", processes=processes)
        wait_until(lambda: state_of(deployment) == Deployment.State.COMPLETED,
                   timeout=seconds_until(deployment.ends_at) + ON_TIME_SECONDS,
                   what="the window closing within 10 s of its end", processes=processes)
        status = wait_until(lambda: ReferenceImage.objects.filter(pk=image.pk).exclude(
            status=ReferenceImage.Status.PENDING).values_list("status", flat=True).first(),
            timeout=120, what="the enrolment completing", processes=processes)
        assert status == ReferenceImage.Status.ENROLLED

        # The camera slot was busy all along: the same camera loop still holds its camera.
        assert camera_slot_taken() == holder
    finally:
        for process in processes:
            process.stop()
        client.close()
