import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import RuleViolation
from deployments.models import Deployment, DeploymentAuthorisation, ManifestEntry, SnapshotReference
from deployments.services import (
    camera_source_validate,
    deployment_authorise,
    deployment_cancel,
    deployment_reject,
    deployment_stop,
    deployments_tick,
    post_deployment_record_save,
    snapshots_delete_biometrics,
)
from deployments.signals import deployment_state_changed
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera
from watchlists.models import Watchlist
from watchlists.services import subject_update, watchlist_subject_remove

pytestmark = pytest.mark.django_db
State = Deployment.State


@pytest.fixture
def ready(detective, commander):
    subjects = [enrolled_subject(detective, i) for i in range(3)]
    watchlist = approved_watchlist(detective, commander, subjects)
    camera = video_camera(detective)
    return {"subjects": subjects, "watchlist": watchlist, "camera": camera}


def test_authorisation_freezes_the_watchlist(detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment = deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")

    assert deployment.state == State.AUTHORISED
    snapshot = deployment.snapshot
    assert snapshot.subject_count == 3 and snapshot.reference_count == 3
    frozen = {r.subject_id: np.asarray(r.embedding) for r in SnapshotReference.objects.filter(snapshot=snapshot)}
    assert set(frozen) == {s.pk for s in ready["subjects"]}
    assert DeploymentAuthorisation.objects.get(deployment=deployment).decided_by == commander
    event = AuditEvent.objects.get(action="deployment.authorised")
    assert event.deployment_id == deployment.pk and event.details["subjects"] == 3

    # Later edits to the watchlist do not reach the deployment.
    first = ready["subjects"][0]
    watchlist_subject_remove(actor=detective, watchlist=ready["watchlist"], subject=first)
    subject_update(actor=detective, subject=ready["subjects"][1], expected_version=ready["subjects"][1].version,
                   changes={"name": "Renamed"})
    assert SnapshotReference.objects.filter(snapshot=snapshot).count() == 3
    assert SnapshotReference.objects.get(snapshot=snapshot, subject_id=ready["subjects"][1].pk).name == "Subject 1"
    assert Watchlist.objects.get(pk=ready["watchlist"].pk).status == Watchlist.Status.DRAFT
    assert ManifestEntry.objects.filter(deployment=deployment).count() == 3


def test_nobody_authorises_their_own_submission(detective, commander, make_user, ready):
    from accounts.roles import Role

    planner_and_commander = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    deployment = submitted_deployment(planner_and_commander, ready["watchlist"], [ready["camera"]])
    with pytest.raises(RuleViolation, match="another authorising officer must decide"):
        deployment_authorise(actor=planner_and_commander, deployment=deployment, reasons="ok")
    assert Deployment.objects.get(pk=deployment.pk).state == State.SUBMITTED


@pytest.mark.parametrize("role", ["detective", "officer", "oversight", "outsider"])
def test_only_authorising_officers_authorise(request, detective, ready, role):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    with pytest.raises(PermissionDenied):
        deployment_authorise(actor=request.getfixturevalue(role), deployment=deployment, reasons="ok")


def test_threshold_below_the_floor_is_refused(detective, commander, ready, settings):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]],
                                      threshold=settings.DEPLOYMENT_THRESHOLD_FLOOR - 0.05)
    with pytest.raises(RuleViolation, match="below the floor"):
        deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    assert not SnapshotReference.objects.exists()


def test_window_must_be_in_the_future_and_not_too_long(detective, commander, ready, settings):
    past = submitted_deployment(detective, ready["watchlist"], [ready["camera"]], starts_in=-dt.timedelta(hours=1))
    with pytest.raises(RuleViolation, match="already started"):
        deployment_authorise(actor=commander, deployment=past, reasons="ok")
    long = submitted_deployment(detective, ready["watchlist"], [ready["camera"]],
                                hours=settings.DEPLOYMENT_MAX_HOURS + 1)
    with pytest.raises(RuleViolation, match="longer than the maximum"):
        deployment_authorise(actor=commander, deployment=long, reasons="ok")


def test_watchlist_must_be_approved_and_recently_reviewed(detective, commander, ready, settings):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    Watchlist.objects.filter(pk=ready["watchlist"].pk).update(
        reviewed_at=timezone.now() - dt.timedelta(days=settings.WATCHLIST_REVIEW_MAX_AGE_DAYS + 1))
    with pytest.raises(RuleViolation, match="last reviewed more than"):
        deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    Watchlist.objects.filter(pk=ready["watchlist"].pk).update(status=Watchlist.Status.DRAFT)
    with pytest.raises(RuleViolation, match="is not approved"):
        deployment_authorise(actor=commander, deployment=deployment, reasons="ok")


def test_watchlist_over_the_cap_is_refused(detective, commander, ready, settings):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    settings.WATCHLIST_MAX_SUBJECTS = 2
    with pytest.raises(RuleViolation, match="the cap is 2"):
        deployment_authorise(actor=commander, deployment=deployment, reasons="ok")


def test_signage_and_notice_must_be_confirmed(detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]], signage_confirmed=False,
                                      public_notice_confirmed=False)
    with pytest.raises(RuleViolation) as refused:
        deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    assert {"signage has not been confirmed", "the public notice has not been confirmed"} <= set(refused.value.messages)


def test_rejection_records_reasons(detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment = deployment_reject(actor=commander, deployment=deployment, reasons="Location reason too vague")
    assert deployment.state == State.REJECTED
    assert deployment.authorisations.get().reasons == "Location reason too vague"


def test_beat_opens_and_closes_the_window_and_emits_the_signal(detective, commander, ready):
    heard = []

    def listener(sender, deployment_id, state, **kwargs):
        heard.append((deployment_id, state))

    deployment_state_changed.connect(listener)
    try:
        deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
        deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
        before = deployment.starts_at - dt.timedelta(seconds=1)
        assert deployments_tick(now=before) == {"started": 0, "completed": 0, "urgent_expired": 0}
        assert deployments_tick(now=deployment.starts_at) == {"started": 1, "completed": 0, "urgent_expired": 0}
        assert Deployment.objects.get(pk=deployment.pk).state == State.LIVE
        assert deployments_tick(now=deployment.ends_at) == {"started": 0, "completed": 1, "urgent_expired": 0}
        assert Deployment.objects.get(pk=deployment.pk).state == State.COMPLETED
    finally:
        deployment_state_changed.disconnect(listener)
    # Non-transactional test: on_commit callbacks run via django_capture_on_commit_callbacks elsewhere.
    assert [t.to_state for t in deployment.transitions.all()] == ["draft", "submitted", "authorised", "live",
                                                                   "completed"]


def test_state_change_signal_is_sent_after_commit(detective, commander, ready, django_capture_on_commit_callbacks):
    heard = []
    deployment_state_changed.connect(lambda sender, **kw: heard.append(kw["state"]), weak=False, dispatch_uid="t")
    try:
        deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
        with django_capture_on_commit_callbacks(execute=True):
            deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    finally:
        deployment_state_changed.disconnect(dispatch_uid="t")
    assert heard == ["authorised"]


def test_kill_switch_and_snapshot_deletion_keep_the_manifest(detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)
    with pytest.raises(PermissionDenied):
        deployment_stop(actor=detective, deployment=deployment, reason="not theirs to stop")
    deployment_stop(actor=commander, deployment=deployment, reason="Crowd disorder nearby")
    assert Deployment.objects.get(pk=deployment.pk).state == State.STOPPED

    assert snapshots_delete_biometrics() == 1
    assert not SnapshotReference.objects.exists()
    snapshot = Deployment.objects.get(pk=deployment.pk).snapshot
    assert snapshot.biometrics_deleted_at is not None
    assert sorted(ManifestEntry.objects.filter(deployment=deployment).values_list("subject_reference", flat=True)) == [
        "PNC-0000", "PNC-0001", "PNC-0002"]
    assert AuditEvent.objects.filter(action="snapshot.biometrics_deleted", deployment_id=deployment.pk).exists()
    assert snapshots_delete_biometrics() == 0


def test_live_deployments_keep_their_snapshot(detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    deployment_authorise(actor=commander, deployment=deployment, reasons="ok")
    deployments_tick(now=deployment.starts_at)
    assert snapshots_delete_biometrics() == 0
    assert SnapshotReference.objects.count() == 3


def test_cancel_and_post_deployment_record(detective, commander, ready):
    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    with pytest.raises(RuleViolation, match="after the deployment has ended"):
        post_deployment_record_save(actor=commander, deployment=deployment, outcomes="-")
    deployment_cancel(actor=detective, deployment=deployment, reason="Event postponed")
    deployment.refresh_from_db()
    record = post_deployment_record_save(actor=commander, deployment=deployment, outcomes="Not deployed", arrests=0)
    assert record.outcomes == "Not deployed"


@pytest.mark.parametrize("source, ok", [
    ("rtsp://10.0.0.5:554/stream1", True), ("https://192.168.4.20/mjpeg", True), ("ftp://cam/x", False),
    ("/etc/passwd", False), ("rtsp:///nohost", False), ("javascript:alert(1)", False),
])
def test_camera_sources_are_checked(source, ok):
    if ok:
        assert camera_source_validate(source) == source
    else:
        with pytest.raises(RuleViolation):
            camera_source_validate(source)


def test_only_officers_can_be_assigned(detective, commander, officer, outsider, ready):
    from deployments.services import deployment_officers_set

    deployment = submitted_deployment(detective, ready["watchlist"], [ready["camera"]])
    with pytest.raises(RuleViolation, match="only active officers can be assigned.*no_role"):
        deployment_officers_set(actor=commander, deployment=deployment, officers=[officer, outsider])
    assert not deployment.officers.exists()
    deployment_officers_set(actor=commander, deployment=deployment, officers=[officer])
    assert list(deployment.officers.all()) == [officer]
