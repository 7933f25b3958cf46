"""Who may do what with deployments and cameras: each rule is written here once.

Services enforce these answers (``core.policy.enforce``), selectors filter with them (the authorisation
queue, which deployments a user sees), views and templates show controls from them, and the API's
capability gates and descriptions read them. Changing who may authorise is one function here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from accounts.permissions import capability_refusal, user_can
from core.policy import Refusal
from deployments.models import Camera, Deployment, UrgentUse

if TYPE_CHECKING:
    from django.contrib.auth.models import User

State = Deployment.State
EDITABLE_STATES = (State.DRAFT, State.REJECTED)
ENDED_STATES = (State.COMPLETED, State.STOPPED, State.CANCELLED)
STOPPABLE_STATES = (State.LIVE, State.AUTHORISED)
BEFORE_AUTHORISATION = (State.DRAFT, State.REJECTED, State.SUBMITTED)
PLANNER_CANCELS = (State.DRAFT, State.SUBMITTED, State.REJECTED)
COMMANDER_CANCELS = (State.SUBMITTED, State.AUTHORISED)
DOCUMENT_UPLOAD_STATES = (State.DRAFT, State.SUBMITTED, State.REJECTED)
URGENT_START_STATES = (State.DRAFT, State.SUBMITTED, State.REJECTED)

OWN_DEPLOYMENT_REFUSED = "you planned or submitted this deployment, so another authorising officer must decide"
OFFICERS_REFUSED = "only the planner (before authorisation) or a commander can assign officers"
CANCEL_REFUSED = "your role does not allow cancelling this deployment"


class Action(StrEnum):
    """What a user may do to one deployment."""

    EDIT = "edit"
    SUBMIT = "submit"
    AUTHORISE = "authorise"
    REJECT = "reject"
    STOP = "stop"
    CANCEL = "cancel"
    ASSIGN_OFFICERS = "assign_officers"
    WRITE_POST_RECORD = "write_post_record"
    SEE_CHECKLIST = "see_checklist"  # what stands in the way of authorising, shown with the deployment
    VIEW_DOCUMENTS = "view_documents"  # the DPIA, EIA and APD: list and download
    UPLOAD_DOCUMENT = "upload_document"
    START_URGENT = "start_urgent"  # EU AI Act Art. 5(3): live now, authorised afterwards
    DECIDE_URGENT = "decide_urgent"  # authorise or refuse an urgent use after the fact
    VIEW_URGENT_NOTIFICATION = "view_urgent_notification"  # the record for the authorities (Art. 5(4))


# The capabilities that may ever allow each action, any one of them: the gate portal views and the API check
# before reading input, so a role that can never act gets a 403, not a complaint about its form.
CREATE_CAPABILITIES = ("plan_deployment",)
VIEW_CAPABILITIES = ("view_deployment",)
ACTION_CAPABILITIES: dict[Action, tuple[str, ...]] = {
    Action.EDIT: ("plan_deployment",),
    Action.SUBMIT: ("plan_deployment",),
    Action.AUTHORISE: ("authorise_deployment",),
    Action.REJECT: ("authorise_deployment",),
    Action.STOP: ("stop_deployment",),
    Action.CANCEL: ("plan_deployment", "cancel_deployment"),
    Action.ASSIGN_OFFICERS: ("plan_deployment", "stop_deployment"),
    Action.WRITE_POST_RECORD: ("stop_deployment",),
    Action.SEE_CHECKLIST: ("plan_deployment", "authorise_deployment"),
    Action.VIEW_DOCUMENTS: ("plan_deployment", "authorise_deployment", "view_all_deployments"),
    Action.UPLOAD_DOCUMENT: ("plan_deployment",),
    Action.START_URGENT: ("start_urgent_deployment",),
    Action.DECIDE_URGENT: ("authorise_deployment",),
    Action.VIEW_URGENT_NOTIFICATION: ("authorise_deployment", "view_audit_log"),
}

# Who may do each action, in words: the API's descriptions show these.
ACTION_RULES: dict[Action, str] = {
    Action.EDIT: "Planners, while the deployment is a draft or rejected.",
    Action.SUBMIT: "Planners, while the deployment is a draft or rejected.",
    Action.AUTHORISE: "Only an authorising officer who neither planned nor submitted it, while it is submitted.",
    Action.REJECT: "Only an authorising officer who neither planned nor submitted it, while it is submitted.",
    Action.STOP: "Commanders, while the deployment is authorised or live.",
    Action.CANCEL: "Planners before authorisation (draft, submitted, rejected); commanders while it is submitted "
                   "or authorised. A live or ended deployment cannot be cancelled.",
    Action.ASSIGN_OFFICERS: "The planner before authorisation, a commander at any time. Only active officers (who "
                            "may adjudicate alerts) can be assigned.",
    Action.WRITE_POST_RECORD: "Commanders, after the deployment has ended.",
    Action.SEE_CHECKLIST: "Planners and authorising officers, before authorisation.",
    Action.VIEW_DOCUMENTS: "Planners, authorising officers and oversight.",
    Action.UPLOAD_DOCUMENT: "Planners, while the deployment is a draft, submitted or rejected, or while its urgent "
                            "use awaits authorisation. A new upload adds a version; none is overwritten.",
    Action.START_URGENT: "Where DEPLOYMENT_URGENT_USE_ENABLED: an officer holding the urgent-start capability "
                         "(authorising officers) who did not plan it, before authorisation, with a recorded "
                         "justification of the urgency (EU AI Act Art. 5(3)).",
    Action.DECIDE_URGENT: "An authorising officer who neither started, planned nor submitted it, while its urgent "
                          "use awaits authorisation and the deadline has not passed.",
    Action.VIEW_URGENT_NOTIFICATION: "Authorising officers and oversight, for a deployment started as urgent use.",
}


def _state(deployment: Deployment) -> str:
    return deployment.get_state_display().lower()


def _by_rule(reason: str) -> Refusal:
    return Refusal(reason, by_rule=True)


def deployment_role_refusal(*, user: User, action: Action) -> Refusal | None:
    """Whether ``user``'s roles could ever allow ``action``, whatever the deployment."""
    return capability_refusal(user=user, capabilities=ACTION_CAPABILITIES[action])


def is_own_deployment(*, user: User, deployment: Deployment) -> bool:
    """Nobody decides on a deployment they planned or submitted: a second person authorises it."""
    return user.pk is not None and user.pk in (deployment.created_by_id, deployment.submitted_by_id)


def awaiting_decision_by(*, user: User) -> Q:
    """The deployments ``user`` may decide on, as a filter (the authorisation queue): the same rule as
    ``is_own_deployment`` and the submitted state, or an urgent use awaiting authorisation that ``user`` did not
    start (``_decide_urgent_refusal``)."""
    urgent = Q(urgent_use__outcome=UrgentUse.Outcome.PENDING) & ~Q(urgent_use__started_by=user)
    return (Q(state=State.SUBMITTED) | urgent) & ~Q(created_by=user) & ~Q(submitted_by=user)


def _edit_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if deployment.state not in EDITABLE_STATES:
        return _by_rule(f"a {_state(deployment)} deployment cannot be edited")
    return None


def _submit_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if deployment.state not in EDITABLE_STATES:
        return _by_rule(f"only a draft can be submitted; this deployment is {_state(deployment)}")
    return None


def _authorise_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if is_own_deployment(user=user, deployment=deployment):
        return _by_rule(OWN_DEPLOYMENT_REFUSED)
    if deployment.state != State.SUBMITTED:
        return _by_rule(f"only a submitted deployment can be authorised; this one is {_state(deployment)}")
    return None


def _reject_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if is_own_deployment(user=user, deployment=deployment):
        return _by_rule(OWN_DEPLOYMENT_REFUSED)
    if deployment.state != State.SUBMITTED:
        return _by_rule("only a submitted deployment can be rejected")
    return None


def _stop_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if deployment.state not in STOPPABLE_STATES:
        return _by_rule("only a live or authorised deployment can be stopped")
    return None


def _post_record_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if deployment.state not in ENDED_STATES:
        return _by_rule("the post-deployment record is written after the deployment has ended")
    return None


def _checklist_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if deployment.state not in BEFORE_AUTHORISATION:
        return _by_rule("the checklist is for deployments not yet authorised")
    return None


def urgent_use_of(deployment: Deployment) -> UrgentUse | None:
    try:
        return deployment.urgent_use
    except UrgentUse.DoesNotExist:
        return None


def urgent_use_pending(deployment: Deployment) -> bool:
    urgent = urgent_use_of(deployment)
    return urgent is not None and urgent.outcome == UrgentUse.Outcome.PENDING


def _upload_document_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if deployment.state in DOCUMENT_UPLOAD_STATES or urgent_use_pending(deployment):
        return None
    return _by_rule(f"documents are added before authorisation; this deployment is {_state(deployment)}")


def _start_urgent_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if not settings.DEPLOYMENT_URGENT_USE_ENABLED:
        return _by_rule("urgent use without prior authorisation is not enabled (DEPLOYMENT_URGENT_USE_ENABLED)")
    if user.pk is not None and user.pk == deployment.created_by_id:
        return _by_rule("you planned this deployment; another senior officer must start it in an urgency")
    if deployment.state not in URGENT_START_STATES:
        return _by_rule(f"only a deployment not yet authorised can be started as urgent use; this one is "
                        f"{_state(deployment)}")
    return None


def _decide_urgent_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    urgent = urgent_use_of(deployment)
    if urgent is None or urgent.outcome != UrgentUse.Outcome.PENDING:
        return _by_rule("only an urgent use awaiting authorisation can be authorised or refused")
    if user.pk is not None and user.pk == urgent.started_by_id:
        return _by_rule("you started this urgent use, so another authorising officer must decide")
    if is_own_deployment(user=user, deployment=deployment):
        return _by_rule(OWN_DEPLOYMENT_REFUSED)
    return None


def _urgent_notification_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    if not user_can(user=user, capability="view_deployment"):  # an administrator reads the audit log, not deployments
        return Refusal("your role does not allow seeing deployments")
    if urgent_use_of(deployment) is None:
        return _by_rule("this deployment was not started as urgent use")
    return None


def _always(*, user: User, deployment: Deployment) -> Refusal | None:
    return None


# Each rule after the role gate (ACTION_CAPABILITIES) has let the user through.
_RULES_AFTER_GATE = {
    Action.EDIT: _edit_refusal,
    Action.SUBMIT: _submit_refusal,
    Action.AUTHORISE: _authorise_refusal,
    Action.REJECT: _reject_refusal,
    Action.STOP: _stop_refusal,
    Action.WRITE_POST_RECORD: _post_record_refusal,
    Action.SEE_CHECKLIST: _checklist_refusal,
    Action.VIEW_DOCUMENTS: _always,
    Action.UPLOAD_DOCUMENT: _upload_document_refusal,
    Action.START_URGENT: _start_urgent_refusal,
    Action.DECIDE_URGENT: _decide_urgent_refusal,
    Action.VIEW_URGENT_NOTIFICATION: _urgent_notification_refusal,
}


def _cancel_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    # A state nobody may cancel in is said as such, whoever asks.
    planner_may = deployment.state in PLANNER_CANCELS and user_can(user=user, capability="plan_deployment")
    commander_may = deployment.state in COMMANDER_CANCELS and user_can(user=user, capability="cancel_deployment")
    if planner_may or commander_may:
        return None
    if deployment.state in ENDED_STATES or deployment.state == State.LIVE:
        return _by_rule(f"a {_state(deployment)} deployment cannot be cancelled")
    return Refusal(CANCEL_REFUSED)


def _officers_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    planner_may = deployment.state in BEFORE_AUTHORISATION and user_can(user=user, capability="plan_deployment")
    if planner_may or user_can(user=user, capability="stop_deployment"):
        return None
    return Refusal(OFFICERS_REFUSED)


def deployment_refusal(*, user: User, deployment: Deployment, action: Action) -> Refusal | None:
    """None when ``user`` may do ``action`` to ``deployment`` as it is now; else why not."""
    if action == Action.CANCEL:
        return _cancel_refusal(user=user, deployment=deployment)
    if action == Action.ASSIGN_OFFICERS:
        return _officers_refusal(user=user, deployment=deployment)
    return deployment_role_refusal(user=user, action=action) or _RULES_AFTER_GATE[action](user=user, deployment=deployment)


def deployment_actions(*, user: User, deployment: Deployment) -> set[Action]:
    """Everything ``user`` may do to ``deployment`` now: the controls its page shows."""
    return {action for action in Action if deployment_refusal(user=user, deployment=deployment, action=action) is None}


def deployment_decision_notice(*, user: User, deployment: Deployment) -> str | None:
    """Why an authorising officer is not offered the decision on a submitted deployment: it is their own."""
    if (deployment.state == State.SUBMITTED and deployment_role_refusal(user=user, action=Action.AUTHORISE) is None
            and is_own_deployment(user=user, deployment=deployment)):
        return OWN_DEPLOYMENT_REFUSED
    return None


# --- seeing deployments -------------------------------------------------------------------------------

def sees_every_deployment(*, user: User) -> bool:
    return user_can(user=user, capability="view_all_deployments")


def deployments_visible_to(*, user: User) -> Q:
    """Those who see deployments at all (VIEW_CAPABILITIES) see those they are assigned to, or every one."""
    return Q() if sees_every_deployment(user=user) else Q(officers=user)


def may_plan_deployments(*, user: User) -> bool:
    return capability_refusal(user=user, capabilities=CREATE_CAPABILITIES) is None


def may_decide_deployments(*, user: User) -> bool:
    """Whether ``user`` is an authorising officer at all (the authorisation queue, its link)."""
    return deployment_role_refusal(user=user, action=Action.AUTHORISE) is None


# --- officers ---------------------------------------------------------------------------------------

OFFICER_CAPABILITY = "adjudicate_alert"


def is_assignable_officer(*, user: User) -> bool:
    """Alerts go only to people who may decide them: active users who may adjudicate alerts."""
    return user.is_active and user_can(user=user, capability=OFFICER_CAPABILITY)


def assignable_officers_filter() -> Q:
    """``is_assignable_officer`` as a filter on users (Django's permission check: groups, own permissions,
    superusers)."""
    permission = {"codename": OFFICER_CAPABILITY, "content_type__app_label": "accounts"}
    return Q(is_active=True) & (Q(is_superuser=True)
                                | Q(**{f"groups__permissions__{k}": v for k, v in permission.items()})
                                | Q(**{f"user_permissions__{k}": v for k, v in permission.items()}))


# --- cameras ------------------------------------------------------------------------------------------

class CameraAction(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"  # includes reading the source URL in clear, passwords and all


CAMERA_ACTION_CAPABILITIES: dict[CameraAction, tuple[str, ...]] = {
    CameraAction.VIEW: ("view_deployment",),
    CameraAction.CREATE: ("plan_deployment",),
    CameraAction.EDIT: ("plan_deployment",),
}
CAMERA_ACTION_REFUSED = {
    CameraAction.CREATE: "only a planner can register a camera",
    CameraAction.EDIT: "only a planner can read a camera's full source URL",
}


def camera_refusal(*, user: User, action: CameraAction, camera: Camera | None = None) -> Refusal | None:
    """None when ``user`` may do ``action`` with cameras (with ``camera``, when given); else why not."""
    refusal = capability_refusal(user=user, capabilities=CAMERA_ACTION_CAPABILITIES[action])
    if refusal is not None and action in CAMERA_ACTION_REFUSED:
        return Refusal(CAMERA_ACTION_REFUSED[action])
    return refusal


def camera_actions(*, user: User, camera: Camera | None = None) -> set[CameraAction]:
    """What ``user`` may do with cameras (with ``camera``, when given)."""
    return {action for action in CameraAction if camera_refusal(user=user, action=action, camera=camera) is None}
