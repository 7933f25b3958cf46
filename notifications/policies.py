"""Who may have background alerts sent to their browser: whoever may see alerts live (alerts.policies gives each
deployment's access on top of the same capability). Removing one's own subscription is always allowed."""

from __future__ import annotations

from accounts.permissions import capability_refusal
from core.policy import Refusal


def push_subscription_policy(*, user) -> Refusal | None:
    return capability_refusal(user=user, capabilities=("view_alerts",))
