from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.permissions import require_capability
from accounts.selectors import user_can
from alerts.models import Alert
from deployments.models import Deployment


def deployment_alert_access(*, user, deployment: Deployment) -> str | None:
    """"adjudicate" for assigned officers, "watch" for commanders and oversight, None for everyone else."""
    if not getattr(user, "is_authenticated", False) or not user_can(user=user, capability="view_alerts"):
        return None
    if user_can(user=user, capability="adjudicate_alert") and deployment.officers.filter(pk=user.pk).exists():
        return "adjudicate"
    if user_can(user=user, capability="authorise_deployment") or user_can(user=user, capability="view_audit_log"):
        return "watch"
    return None


def alerts_for_deployment(*, user, deployment: Deployment, after_id: int = 0) -> QuerySet[Alert]:
    require_capability(user=user, capability="view_alerts")
    if deployment_alert_access(user=user, deployment=deployment) is None:
        raise Http404("no such deployment")
    return (Alert.objects.filter(deployment=deployment, pk__gt=after_id)
            .select_related("camera").prefetch_related("adjudications__officer").order_by("pk"))


def access_alert(*, user, id: int) -> Alert:
    require_capability(user=user, capability="view_alerts")
    alert = Alert.objects.select_related("deployment", "camera").filter(pk=id).first()
    if alert is None or deployment_alert_access(user=user, deployment=alert.deployment) is None:
        raise Http404("no such alert")
    return alert
