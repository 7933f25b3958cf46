"""Who may see what of the operational endpoints.

Anyone (a load balancer) may ask /healthz for its status code and each part's ok / failed. Its details (worker
names, camera names and their stream errors, error messages) and /metrics need the monitoring system's bearer
token (MONITORING_TOKEN); /healthz details are also shown to a signed-in user who may browse the audit log
(oversight, administrators), once past MFA. /metrics with no token configured answers 404: off by default.
"""

from __future__ import annotations

import hmac

from django.conf import settings

from accounts.permissions import user_can
from accounts.selectors import mfa_required


def monitoring_token_given(request) -> bool:
    expected = settings.MONITORING_TOKEN
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def health_details_allowed(request) -> bool:
    if monitoring_token_given(request):
        return True
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user_can(user=user, capability="view_audit_log"):
        return False
    return not mfa_required(user=user) or user.is_verified()
