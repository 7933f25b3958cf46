from django.core.exceptions import PermissionDenied

from accounts.roles import CAPABILITIES
from accounts.selectors import user_can


def require_capability(*, user, capability: str) -> None:
    """Server-side check used by services: raise PermissionDenied with a reason a user understands."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    if user is None or not user_can(user=user, capability=capability):
        raise PermissionDenied(f"your role does not allow this ({CAPABILITIES[capability].lower()})")
