"""Who may write what the public is told about a deployment, and which deployments the public sees.

One rule each: the service enforces ``public_notice_refusal``, the deployment page and the notice form show
their controls from it; the public selectors filter with ``PUBLIC_UPCOMING_STATES`` and ``PUBLIC_RECORD_STATES``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.permissions import user_can
from core.policy import Refusal
from deployments.models import Deployment
from deployments.policies import ENDED_STATES, is_own_deployment

if TYPE_CHECKING:
    from django.contrib.auth.models import User

State = Deployment.State
# Announced in advance once authorised; the published record once it has ended (never before). Drafts,
# submitted, rejected and cancelled deployments are never shown.
PUBLIC_UPCOMING_STATES = (State.AUTHORISED, State.LIVE)
PUBLIC_RECORD_STATES = (State.COMPLETED, State.STOPPED)

NOTICE_WRITERS_REFUSED = "only the deployment's planner or an authorising officer can write its public notice"
NOTICE_ENDED_REFUSED = "the deployment has ended: what the public was told stays as it was published"


def may_write_public_notices(*, user: User) -> bool:
    """Whether ``user``'s roles could ever write a public notice (the form's role gate)."""
    return user_can(user=user, capability="plan_deployment") or user_can(user=user, capability="authorise_deployment")


def public_notice_refusal(*, user: User, deployment: Deployment) -> Refusal | None:
    """None when ``user`` may write ``deployment``'s public notice now: its planner (or submitter) or any
    authorising officer, until the deployment ends."""
    planner = user_can(user=user, capability="plan_deployment") and is_own_deployment(user=user, deployment=deployment)
    if not (planner or user_can(user=user, capability="authorise_deployment")):
        return Refusal(NOTICE_WRITERS_REFUSED)
    if deployment.state in ENDED_STATES:
        return Refusal(NOTICE_ENDED_REFUSED, by_rule=True)
    return None
