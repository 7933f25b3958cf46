"""Who may see a deployment's alerts and who records its test walks: each rule is written here once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from accounts.permissions import user_can
from alerts.history import amendable_until, current, superseded_ids
from alerts.models import Adjudication
from core.policy import Refusal
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


def adjudication_amend_policy(*, user: User, adjudication: Adjudication, adjudications: Sequence[Adjudication],
                              now: dt.datetime | None = None) -> Refusal | None:
    """An officer corrects their own decision (stage 1 or 2), the latest of its chain, for
    ALERT_DECISION_AMEND_MINUTES after first making it; a decision a second officer has verified stays.
    ``adjudications``: all of the alert's, to read the chain and the verification from."""
    if adjudication.officer_id != getattr(user, "pk", None):
        return Refusal("only the officer who made a decision may amend it")
    if adjudication.pk in superseded_ids(adjudications):
        return Refusal("this decision has already been amended: amend the latest one", by_rule=True)
    until = amendable_until(adjudication, adjudications, minutes=settings.ALERT_DECISION_AMEND_MINUTES)
    if (now or timezone.now()) > until:
        return Refusal(f"too late to amend: a decision can be amended only within "
                       f"{settings.ALERT_DECISION_AMEND_MINUTES} minutes of making it (until "
                       f"{timezone.localtime(until):%H:%M})", by_rule=True)
    if adjudication.kind == Adjudication.Kind.DECISION and current(adjudications, Adjudication.Kind.VERIFICATION):
        return Refusal("a second officer has verified this decision: it can no longer be amended", by_rule=True)
    return None
