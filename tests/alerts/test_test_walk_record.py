"""alerts.services.test_walk_record: who may record a consenting test subject's walk, when, and its audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from alerts import services
from alerts.models import TestWalk
from audit.models import AuditEvent
from core.errors import RuleViolation
from deployments.models import Deployment
from deployments.services import deployment_stop

pytestmark = pytest.mark.django_db


def _record(deployment, actor, **overrides):
    values = {"actor": actor, "deployment": deployment, "camera": deployment.cameras.first(),
                  "subject": deployment.test_subject, "walked_at": timezone.now() - dt.timedelta(minutes=1)}
    return services.test_walk_record(**(values | overrides))


def test_an_assigned_officer_records_a_walk_audited(test_subject_deployment, officer):
    walk = _record(test_subject_deployment, officer)
    assert TestWalk.objects.get() == walk and walk.recorded_by == officer
    event = AuditEvent.objects.get(action="test_walk.recorded")
    assert event.actor == officer and event.deployment_id == test_subject_deployment.pk
    assert event.details["subject"] == "TEST-0001" and event.details["camera"] == walk.camera_id


def test_an_authorising_officer_records_a_walk(test_subject_deployment, commander):
    assert _record(test_subject_deployment, commander).recorded_by == commander


def test_the_time_defaults_to_now(test_subject_deployment, officer):
    walk = _record(test_subject_deployment, officer, walked_at=None)
    assert abs(walk.walked_at - timezone.now()) < dt.timedelta(seconds=5)


def test_roles_that_do_not_operate_the_deployment_are_refused(test_subject_deployment, oversight, detective,
                                                              make_user):
    from accounts.roles import Role

    unassigned = make_user(Role.OFFICER, username="pc_elsewhere")
    for user in (oversight, detective, unassigned):
        with pytest.raises(PermissionDenied):
            _record(test_subject_deployment, user)
    assert not TestWalk.objects.exists() and not AuditEvent.objects.filter(action="test_walk.recorded").exists()


def test_only_a_test_subject_of_the_frozen_watchlist(test_subject_deployment, officer):
    with pytest.raises(RuleViolation, match="not a test subject"):
        _record(test_subject_deployment, officer, subject=test_subject_deployment.real_subject)
    assert not TestWalk.objects.exists()


def test_only_a_camera_of_the_deployment(test_subject_deployment, officer, detective):
    from tests.factories import video_camera

    with pytest.raises(RuleViolation, match="not one of this deployment's cameras"):
        _record(test_subject_deployment, officer, camera=video_camera(detective, "Elsewhere"))


def test_the_walk_is_while_live_and_not_in_the_future(test_subject_deployment, officer):
    with pytest.raises(RuleViolation, match="while the deployment was live"):
        _record(test_subject_deployment, officer, walked_at=test_subject_deployment.went_live_at
                - dt.timedelta(minutes=1))
    with pytest.raises(RuleViolation, match="not in the future"):
        _record(test_subject_deployment, officer, walked_at=timezone.now() + dt.timedelta(minutes=5))


def test_recorded_shortly_after_the_end_but_not_later(test_subject_deployment, officer, commander, settings):
    deployment = deployment_stop(actor=commander, deployment=test_subject_deployment, reason="testing over")
    deployment.test_subject = test_subject_deployment.test_subject
    assert _record(deployment, officer, walked_at=deployment.ended_at - dt.timedelta(minutes=2))
    with pytest.raises(RuleViolation, match="while the deployment was live"):
        _record(deployment, officer, walked_at=deployment.ended_at + dt.timedelta(seconds=30))
    Deployment.objects.filter(pk=deployment.pk).update(
        ended_at=timezone.now() - dt.timedelta(minutes=settings.TEST_WALK_RECORD_GRACE_MINUTES + 1))
    deployment.refresh_from_db()
    deployment.test_subject = test_subject_deployment.test_subject
    with pytest.raises(RuleViolation, match="minutes after the deployment ended"):
        _record(deployment, officer, walked_at=deployment.ended_at - dt.timedelta(minutes=1))
    assert TestWalk.objects.count() == 1


def test_not_before_the_deployment_went_live(detective, commander, officer, make_user):
    from deployments.services import deployment_authorise
    from tests.factories import approved_watchlist, enrolled_test_subject, submitted_deployment, video_camera

    tester = enrolled_test_subject(detective, 1)
    deployment = submitted_deployment(detective, approved_watchlist(detective, commander, [tester]),
                                      [video_camera(detective)])
    deployment.officers.set([officer])
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    with pytest.raises(RuleViolation, match="is or was live"):
        services.test_walk_record(actor=officer, deployment=deployment, camera=deployment.cameras.first(),
                                  subject=tester)
