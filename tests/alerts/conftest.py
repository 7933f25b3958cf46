import datetime as dt

import pytest
from django.utils import timezone

from deployments.models import SnapshotReference
from deployments.services import deployment_authorise, deployments_tick
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera
from tests.samples import encode_jpeg, person_image


@pytest.fixture
def live_deployment(detective, commander, officer):
    """A live deployment with two enrolled subjects and `officer` assigned."""
    subjects = [enrolled_subject(detective, i) for i in range(2)]
    watchlist = approved_watchlist(detective, commander, subjects)
    camera = video_camera(detective)
    deployment = submitted_deployment(detective, watchlist, [camera])
    deployment.officers.set([officer])
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    deployments_tick(now=deployment.starts_at)
    deployment.refresh_from_db()
    return deployment


@pytest.fixture
def raise_alert(live_deployment):
    from alerts.services import alert_create

    def raise_(index: int = 0, score: float = 0.71):
        reference = SnapshotReference.objects.filter(snapshot=live_deployment.snapshot).order_by("subject_id")[index]
        return alert_create(deployment_id=live_deployment.pk, camera_id=live_deployment.cameras.first().pk,
                            snapshot_reference=reference, score=score, threshold=live_deployment.threshold,
                            model_id=live_deployment.snapshot.model_id, track_id=index + 1,
                            frame_time=timezone.now() - dt.timedelta(milliseconds=200),
                            probe_jpeg=encode_jpeg(person_image(index)))

    return raise_
