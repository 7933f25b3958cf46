"""Multi-factor authentication: the middleware that holds MFA roles at the code page, the enrolment QR code
and a check that the configured role names exist.

A user whose role needs MFA (accounts.selectors.mfa_required) and whose session has not given a TOTP code
reaches only the MFA pages, sign-out and public pages (login, health). Pages redirect to the code page
(enrolment first when no authenticator is set up); DRF API views answer 403 JSON; the live alerts socket
refuses them in alerts/consumers.py. API tokens are a separate credential: see docs/accounts.md.
"""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

from django.conf import settings
from django.core import checks
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.roles import Role
from accounts.selectors import mfa_required

MFA_NEEDED = "two-factor verification needed: sign in on the portal and enter your authenticator code"


def mfa_exempt(view):
    """Mark a view a half-signed-in user may reach (the MFA pages themselves, sign-out)."""
    view.mfa_exempt = True
    return view


class MfaRequiredMiddleware:
    """After AuthenticationMiddleware, OTPMiddleware and LoginRequiredMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or getattr(view_func, "mfa_exempt", False):
            return None
        if not mfa_required(user=user) or user.is_verified():
            return None
        if _is_api_view(view_func):
            return JsonResponse({"detail": MFA_NEEDED}, status=403)
        if getattr(view_func, "login_required", True) is False:
            return None  # public pages (login, health) stay public
        return redirect(f"{reverse('accounts:mfa_verify')}?{urlencode({'next': request.get_full_path()})}")


def _is_api_view(view_func) -> bool:
    """A DRF view that answers JSON; the API's HTML pages (docs) are marked login_required=True."""
    return hasattr(view_func, "cls") and getattr(view_func, "login_required", True) is False


def totp_secret_text(device) -> str:
    """The secret in base32, as authenticator apps take it when typed in, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device) -> str:
    """The enrolment QR code as inline SVG, made here (segno): the secret never leaves the server."""
    import segno

    qr = segno.make(device.config_url, error="m")
    return qr.svg_inline(scale=5, border=4, dark="#000", light="#fff")


@checks.register(checks.Tags.security)
def check_mfa_roles(app_configs, **kwargs):
    unknown = sorted(set(settings.MFA_REQUIRED_ROLES) - {r.value for r in Role})
    if unknown:
        return [checks.Error(f"MFA_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}",
                             hint=f"use role names from accounts.roles.Role: {', '.join(r.value for r in Role)}",
                             id="accounts.E001")]
    return []
