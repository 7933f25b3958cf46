"""The whole loop in a real browser: a wanted person walks past a camera, the officer's page shows the
alert from a real camera worker process, the officer decides it, and the audit trail records it all."""

import os
import signal
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from alerts.models import Alert
from audit.models import AuditEvent
from deployments.models import Camera
from deployments.services import camera_create, deployment_authorise, deployments_tick
from recognition.demo_media import walking_face_video
from tests.conftest import subprocess_database_url
from tests.e2e.conftest import in_thread
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment
from tests.samples import SHARED_DATA, YAO_MING, YAO_MING_IN_PLAYERS, person_crops

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HAMILTON = SHARED_DATA / "video" / "short_hamilton_clip.mp4"
MIRANDA = SHARED_DATA / "faces" / "misc" / "face_recognition_examples" / "lin_manuel_miranda" / "lin-manuel-miranda.png"


@pytest.fixture
def recognition_worker(tmp_path):
    # The worker checks each camera's file against its own CAMERA_FILE_ROOT: the folder the test's video is in.
    env = dict(os.environ, DATABASE_URL=subprocess_database_url(), CAMERA_FILE_ROOT=str(tmp_path),
               PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "recognition", "-l", "WARNING",
         "--concurrency", "1", "-n", f"e2e-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the pool's children too, before the test database goes
    except ProcessLookupError:
        pass


@pytest.fixture
def wanted_person_on_camera(detective, settings, tmp_path):
    """(subject, video): Lin-Manuel Miranda on the Hamilton clip, or, without ../shared, Yao Ming walking
    past in a video built from a packaged photo (enrolled from a different photo)."""
    settings.CAMERA_FILE_ROOT = tmp_path
    if HAMILTON.is_file() and MIRANDA.is_file():
        video = tmp_path / "hamilton.mp4"
        video.write_bytes(HAMILTON.read_bytes())
        return enrolled_subject(detective, 0, reference="PNC-LMM", data=MIRANDA.read_bytes()), video, "Subject 0"
    photo, face = YAO_MING_IN_PLAYERS
    video = walking_face_video(face=person_crops(photo)[face], path=tmp_path / "walk.mp4", seconds=4, fps=10)
    return enrolled_subject(detective, YAO_MING, reference="PNC-YAO"), video, f"Subject {YAO_MING}"


def test_alert_from_a_real_camera_worker_reaches_the_officer(page, login, asgi_server, recognition_worker, detective,
                                                             commander, officer, wanted_person_on_camera):
    subject, video, name = wanted_person_on_camera

    def plan_and_authorise():  # outside Playwright's event loop: commits broadcast through async_to_sync
        bystander = enrolled_subject(detective, 1)
        watchlist = approved_watchlist(detective, commander, [subject, bystander])
        camera = camera_create(actor=detective, name="Stage door", source_url=str(video), location="Theatre")
        Camera.objects.filter(pk=camera.pk).update(loop_playback=True)
        deployment = submitted_deployment(detective, watchlist, [camera])
        deployment.officers.set([officer])
        deployment_authorise(actor=commander, deployment=deployment, reasons="Wanted persons expected here")
        return bystander, deployment

    bystander, deployment = in_thread(plan_and_authorise)

    login(page, officer)
    page.goto(f"{asgi_server}/alerts/deployments/{deployment.pk}/live/")
    expect(page.locator("#connection")).to_have_text("live")

    in_thread(deployments_tick, now=deployment.starts_at)  # the window opens: beat's job

    expect(page.locator("#deployment-state")).to_have_text("Live")
    card = page.get_by_test_id("alert-card")
    expect(card.first).to_be_visible(timeout=120_000)
    expect(card.first.locator(".name")).to_have_text(name)
    page.wait_for_function("() => document.querySelector('[data-testid=alert-card] img.reference').naturalWidth > 0")
    card.first.get_by_role("button", name="Match", exact=True).click()
    expect(card.first.locator(".status")).to_contain_text("Match")

    alert = Alert.objects.get(deployment=deployment, subject_reference=subject.reference, status="confirmed")
    assert alert.score >= deployment.threshold
    assert not Alert.objects.filter(deployment=deployment, subject_reference=bystander.reference).exists()
    trail = list(AuditEvent.objects.filter(deployment_id=deployment.pk).order_by("sequence")
                 .values_list("action", flat=True))
    for action in ("deployment.authorised", "deployment.live", "alert.created", "alert.viewed", "alert.adjudicated"):
        assert action in trail, trail
    assert trail.index("alert.created") < trail.index("alert.adjudicated")
