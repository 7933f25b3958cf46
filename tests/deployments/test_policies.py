"""deployments/policies.py: each rule, with the shared role fixtures. The policy reads a deployment's state and
who planned and submitted it, so most deployments here are unsaved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.roles import Role
from deployments.models import Deployment
from deployments.policies import (
    CANCEL_REFUSED,
    OFFICERS_REFUSED,
    OWN_DEPLOYMENT_REFUSED,
    Action,
    CameraAction,
    assignable_officers_filter,
    awaiting_decision_by,
    camera_actions,
    camera_refusal,
    deployment_actions,
    deployment_decision_notice,
    deployment_refusal,
    is_assignable_officer,
    sees_every_deployment,
)

pytestmark = pytest.mark.django_db
State = Deployment.State
ROLES = ["detective", "commander", "officer", "oversight", "administrator", "outsider"]


def planned(planner, state=State.DRAFT, *, submitted_by=None) -> Deployment:
    return Deployment(state=state, created_by_id=planner.pk, submitted_by_id=getattr(submitted_by, "pk", None))


def allowed(user, deployment, action) -> bool:
    return deployment_refusal(user=user, deployment=deployment, action=action) is None


def roles_allowed(request, deployment, action) -> set[str]:
    return {role for role in ROLES if allowed(request.getfixturevalue(role), deployment, action)}


# --- deciding: nobody authorises their own deployment ------------------------------------------------

@pytest.mark.parametrize("action", [Action.AUTHORISE, Action.REJECT])
def test_only_authorising_officers_decide_a_submitted_deployment(request, detective, action):
    assert roles_allowed(request, planned(detective, State.SUBMITTED, submitted_by=detective), action) == {"commander"}


@pytest.mark.parametrize("action", [Action.AUTHORISE, Action.REJECT])
@pytest.mark.parametrize("own", ["planned", "submitted"])
def test_nobody_decides_a_deployment_they_planned_or_submitted(make_user, detective, action, own):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    deployment = (planned(both, State.SUBMITTED, submitted_by=detective) if own == "planned"
                  else planned(detective, State.SUBMITTED, submitted_by=both))
    refusal = deployment_refusal(user=both, deployment=deployment, action=action)
    assert refusal.reason == OWN_DEPLOYMENT_REFUSED and refusal.by_rule  # a 400 saying so, not a bare 403
    assert deployment_decision_notice(user=both, deployment=deployment) == OWN_DEPLOYMENT_REFUSED


def test_a_role_that_cannot_decide_is_refused_by_role_not_by_rule(detective):
    refusal = deployment_refusal(user=detective, deployment=planned(detective, State.SUBMITTED),
                                 action=Action.AUTHORISE)
    assert not refusal.by_rule and "authorise or reject deployments" in refusal.reason
    assert deployment_decision_notice(user=detective, deployment=planned(detective, State.SUBMITTED)) is None


def test_only_a_submitted_deployment_is_decided(detective, commander):
    refusal = deployment_refusal(user=commander, deployment=planned(detective, State.DRAFT), action=Action.AUTHORISE)
    assert refusal.by_rule and refusal.reason == "only a submitted deployment can be authorised; this one is draft"
    assert deployment_refusal(user=commander, deployment=planned(detective, State.LIVE),
                              action=Action.REJECT).reason == "only a submitted deployment can be rejected"
    assert deployment_decision_notice(user=commander, deployment=planned(commander, State.DRAFT)) is None


def test_the_authorisation_queue_filter_is_the_same_rule(detective, commander, make_user):
    from watchlists.models import Watchlist

    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    watchlist = Watchlist.objects.create(name="Op Lantern", purpose="test", compiled_by=detective)
    now = timezone.now()

    def saved(planner, state, submitted_by=None):
        return Deployment.objects.create(
            name="d", purpose="crime_hotspot", location="x", location_reason="x", starts_at=now,
            ends_at=now + dt.timedelta(hours=1), watchlist=watchlist, threshold=0.6, necessity_statement="x",
            dpia_reference="x", state=state, created_by=planner, submitted_by=submitted_by)

    deployments = [saved(detective, State.SUBMITTED, detective), saved(both, State.SUBMITTED, both),
                   saved(detective, State.SUBMITTED, both), saved(detective, State.DRAFT),
                   saved(detective, State.AUTHORISED, detective)]
    for user in (commander, both):
        queue = set(Deployment.objects.filter(awaiting_decision_by(user=user)))
        assert queue == {d for d in deployments if allowed(user, d, Action.AUTHORISE)}
    assert set(Deployment.objects.filter(awaiting_decision_by(user=commander))) == set(deployments[:3])


# --- planning -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("action", [Action.EDIT, Action.SUBMIT])
@pytest.mark.parametrize("state", [State.DRAFT, State.REJECTED])
def test_planners_edit_and_submit_drafts_and_rejected_deployments(request, commander, action, state):
    assert roles_allowed(request, planned(commander, state), action) == {"detective"}


def test_a_submitted_deployment_is_not_edited_or_submitted_again(detective):
    deployment = planned(detective, State.SUBMITTED)
    assert deployment_refusal(user=detective, deployment=deployment, action=Action.EDIT).reason == (
        "a submitted for authorisation deployment cannot be edited")
    assert deployment_refusal(user=detective, deployment=deployment, action=Action.SUBMIT).by_rule


# --- the kill switch, cancelling, the record after -----------------------------------------------------

@pytest.mark.parametrize("state", [State.AUTHORISED, State.LIVE])
def test_commanders_stop_an_authorised_or_live_deployment(request, detective, state):
    assert roles_allowed(request, planned(detective, state), Action.STOP) == {"commander"}


def test_only_a_live_or_authorised_deployment_is_stopped(detective, commander):
    refusal = deployment_refusal(user=commander, deployment=planned(detective, State.DRAFT), action=Action.STOP)
    assert refusal.by_rule and refusal.reason == "only a live or authorised deployment can be stopped"


@pytest.mark.parametrize("state, roles", [
    (State.DRAFT, {"detective"}), (State.REJECTED, {"detective"}), (State.SUBMITTED, {"detective", "commander"}),
    (State.AUTHORISED, {"commander"}),
])
def test_who_cancels(request, detective, state, roles):
    assert roles_allowed(request, planned(detective, state), Action.CANCEL) == roles


def test_a_role_that_may_not_cancel_now_is_told_so(detective, commander, officer):
    assert deployment_refusal(user=commander, deployment=planned(detective, State.DRAFT),
                              action=Action.CANCEL).reason == CANCEL_REFUSED
    refusal = deployment_refusal(user=officer, deployment=planned(detective, State.SUBMITTED), action=Action.CANCEL)
    assert refusal.reason == CANCEL_REFUSED and not refusal.by_rule


@pytest.mark.parametrize("state", [State.LIVE, State.COMPLETED, State.STOPPED, State.CANCELLED])
def test_nobody_cancels_a_live_or_ended_deployment(request, detective, state):
    deployment = planned(detective, state)
    for role in ROLES:
        refusal = deployment_refusal(user=request.getfixturevalue(role), deployment=deployment, action=Action.CANCEL)
        assert refusal.by_rule and refusal.reason.endswith("deployment cannot be cancelled")


@pytest.mark.parametrize("state", [State.COMPLETED, State.STOPPED, State.CANCELLED])
def test_commanders_write_the_record_after_the_deployment_ended(request, detective, state):
    assert roles_allowed(request, planned(detective, state), Action.WRITE_POST_RECORD) == {"commander"}
    assert deployment_refusal(user=request.getfixturevalue("commander"), deployment=planned(detective, State.LIVE),
                              action=Action.WRITE_POST_RECORD).by_rule


# --- officers -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("state, roles", [
    (State.DRAFT, {"detective", "commander"}), (State.SUBMITTED, {"detective", "commander"}),
    (State.AUTHORISED, {"commander"}), (State.LIVE, {"commander"}), (State.COMPLETED, {"commander"}),
])
def test_who_assigns_officers(request, detective, state, roles):
    assert roles_allowed(request, planned(detective, state), Action.ASSIGN_OFFICERS) == roles
    assert deployment_refusal(user=request.getfixturevalue("officer"), deployment=planned(detective, state),
                              action=Action.ASSIGN_OFFICERS).reason == OFFICERS_REFUSED


def test_officers_are_active_users_who_may_adjudicate(request, make_user, django_user_model):
    retired = make_user(Role.OFFICER, is_active=False)
    assert {role for role in ROLES if is_assignable_officer(user=request.getfixturevalue(role))} == {"officer"}
    assert not is_assignable_officer(user=retired)
    everyone = [request.getfixturevalue(role) for role in ROLES] + [retired, make_user(Role.OFFICER, Role.DETECTIVE)]
    by_filter = set(django_user_model.objects.filter(assignable_officers_filter()).distinct())
    assert by_filter == {u for u in everyone if is_assignable_officer(user=u)}


# --- seeing, the checklist, the page's controls ---------------------------------------------------------

def test_who_sees_every_deployment(request):
    assert {role for role in ROLES if sees_every_deployment(user=request.getfixturevalue(role))} == {
        "detective", "commander", "oversight"}  # officers: those they are assigned to


@pytest.mark.parametrize("state, roles", [
    (State.DRAFT, {"detective", "commander"}), (State.SUBMITTED, {"detective", "commander"}),
    (State.AUTHORISED, set()),
])
def test_who_sees_the_authorisation_checklist(request, detective, state, roles):
    assert roles_allowed(request, planned(detective, state), Action.SEE_CHECKLIST) == roles


def test_deployment_actions_are_every_action_allowed(detective, commander, officer):
    submitted = planned(detective, State.SUBMITTED, submitted_by=detective)
    assert deployment_actions(user=commander, deployment=submitted) == {
        Action.AUTHORISE, Action.REJECT, Action.CANCEL, Action.ASSIGN_OFFICERS, Action.SEE_CHECKLIST,
        Action.VIEW_DOCUMENTS}
    assert deployment_actions(user=detective, deployment=submitted) == {
        Action.CANCEL, Action.ASSIGN_OFFICERS, Action.SEE_CHECKLIST, Action.VIEW_DOCUMENTS, Action.UPLOAD_DOCUMENT}
    assert deployment_actions(user=officer, deployment=submitted) == set()


# --- cameras ------------------------------------------------------------------------------------------

def test_camera_actions(request):
    actions = {role: camera_actions(user=request.getfixturevalue(role)) for role in ROLES}
    assert actions == {"detective": {CameraAction.VIEW, CameraAction.CREATE, CameraAction.EDIT},
                       "commander": {CameraAction.VIEW}, "officer": {CameraAction.VIEW},
                       "oversight": {CameraAction.VIEW}, "administrator": set(), "outsider": set()}


def test_camera_refusals_say_who_may(commander, administrator):
    assert camera_refusal(user=commander, action=CameraAction.CREATE).reason == "only a planner can register a camera"
    assert camera_refusal(user=commander, action=CameraAction.EDIT).reason == (
        "only a planner can read a camera's full source URL")
    assert camera_refusal(user=administrator, action=CameraAction.VIEW).reason == (
        "your role does not allow this (see deployments)")


def test_every_action_has_a_gate_and_words_for_the_api():
    from deployments.policies import ACTION_CAPABILITIES, ACTION_RULES

    assert set(ACTION_CAPABILITIES) == set(ACTION_RULES) == set(Action)
