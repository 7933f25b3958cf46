"""For pages below alerts in the layers (the deployment page): whether the viewer may watch a deployment's alerts,
by alerts.policies' one rule."""

from django import template

from alerts.policies import deployment_alert_access

register = template.Library()


@register.simple_tag
def alert_access(user, deployment) -> str | None:
    """"adjudicate", "watch" or None (alerts.policies.deployment_alert_access)."""
    return deployment_alert_access(user=user, deployment=deployment)
