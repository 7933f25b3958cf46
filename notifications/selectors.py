from __future__ import annotations

from alerts.policies import deployment_alert_access
from deployments.models import Deployment
from notifications.models import PushSubscription


def push_subscriptions_of_deployment_officers(*, deployment: Deployment) -> list[PushSubscription]:
    """The browsers of the officers who decide the deployment's alerts now (assigned, active, still allowed:
    the same rule as the live page's socket), whatever page they have open."""
    officers = [user for user in deployment.officers.filter(is_active=True)
                if deployment_alert_access(user=user, deployment=deployment) == "adjudicate"]
    return list(PushSubscription.objects.filter(user__in=officers).order_by("pk"))
