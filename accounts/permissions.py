from collections.abc import Callable, Iterable
from functools import wraps

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from accounts.roles import CAPABILITIES, permission_name
from core.policy import Refusal


def user_can(*, user, capability: str) -> bool:
    return bool(getattr(user, "is_active", False)) and user.has_perm(permission_name(capability))


def require_capability(*, user, capability: str) -> None:
    """Server-side check used by services: raise PermissionDenied with a reason a user understands."""
    require_any_capability(user=user, capabilities=(capability,))


def require_any_capability(*, user, capabilities: Iterable[str]) -> None:
    refusal = capability_refusal(user=user, capabilities=capabilities)
    if refusal is not None:
        raise PermissionDenied(refusal.reason)


def capability_refusal(*, user, capabilities: Iterable[str]) -> Refusal | None:
    """None when ``user`` holds any one of ``capabilities``; else why not, naming what they would need."""
    capabilities = tuple(capabilities)
    unknown = [c for c in capabilities if c not in CAPABILITIES]
    if unknown:
        raise ValueError(f"unknown capability {unknown[0]!r}")
    if user is None or not any(user_can(user=user, capability=c) for c in capabilities):
        return Refusal("your role does not allow this ("
                       + " or ".join(CAPABILITIES[c].lower() for c in capabilities) + ")")
    return None


def capability_required(*capabilities: str, methods: Iterable[str] = ("GET", "POST")) -> Callable:
    """For portal views: refuse (403) a user holding none of `capabilities` before the form is read.

    The services still check the full rule (state, ownership); this only stops a role that can never
    act from getting a 400 about the form instead of a 403.
    """
    methods = frozenset(methods)

    def decorate(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if request.method in methods:
                require_any_capability(user=request.user, capabilities=capabilities)
            return view(request, *args, **kwargs)

        return checked

    return decorate


class HasRequiredCapabilities(BasePermission):
    """DRF permission (a default for every API view): a view's ``required_capabilities`` (method -> any one of
    these) refuses a role that can never do the write before its input is read."""

    def has_permission(self, request, view) -> bool:
        capabilities = getattr(view, "required_capabilities", {}).get(request.method)
        if capabilities:
            require_any_capability(user=request.user, capabilities=capabilities)
        return True
