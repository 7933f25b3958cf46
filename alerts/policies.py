"""Who may see a deployment's alerts and who records its test walks: each rule is written here once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.selectors import user_can
from deployments.models import Deployment

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TEST_WALK_REFUSED = "only the deployment's assigned officers and authorising officers record test walks"


def deployment_alert_access(*, user: User, deployment: Deployment) -> str | None:
    """"adjudicate" for assigned officers, "watch" for commanders and oversight, None for everyone else."""
    if not getattr(user, "is_authenticated", False) or not user_can(user=user, capability="view_alerts"):
        return None
    if user_can(user=user, capability="adjudicate_alert") and deployment.officers.filter(pk=user.pk).exists():
        return "adjudicate"
    if user_can(user=user, capability="watch_alerts"):
        return "watch"
    return None


def test_walk_policy(*, user: User, deployment: Deployment) -> bool:
    """Who records test walks on a deployment: its assigned officers and the authorising officers who watch it
    (the operators on the ground and in command), not oversight (read-only), not detectives."""
    access = deployment_alert_access(user=user, deployment=deployment)
    return access == "adjudicate" or (access == "watch" and user_can(user=user, capability="record_test_walk"))
