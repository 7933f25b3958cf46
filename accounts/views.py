from __future__ import annotations

import django_otp
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import login_throttle, services
from accounts.forms import ConfirmForm, MfaCodeForm, UserCreateForm, UserPickForm, UserRolesForm
from accounts.mfa import mfa_exempt, totp_qr_svg, totp_secret_text
from accounts.password_check import password_check
from accounts.policies import UserAction, manage_users_refusal, user_actions, user_refusal
from accounts.roles import Role
from accounts.selectors import (
    access_managed_user,
    mfa_device,
    mfa_required,
    sign_in_failures,
    users_for_management,
)
from core.policy import enforce
from core.views_errors import perform, service_call


class SignInForm(AuthenticationForm):
    """The password was checked before validation (password_check, off the request thread); `clean`
    takes its answer instead of calling authenticate()."""

    checked_user = None

    def clean(self):
        if self.cleaned_data.get("username") is not None and self.cleaned_data.get("password"):
            self.user_cache = self.checked_user
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = SignInForm


_login_page = LoginView.as_view()


def _login_answer(request, form):
    view = LoginView()
    view.setup(request)
    response = view.form_valid(form) if form.is_valid() else view.form_invalid(form)
    login_throttle.device_cookie_set(request=request, response=response)
    return response


@login_not_required
@sensitive_post_parameters()
@never_cache
async def login(request):
    """Sign-in. The limits were applied before this (login_throttle.sign_in_limit_middleware)."""
    if request.method != "POST" or (await request.auser()).is_authenticated:
        return await sync_to_async(_login_page)(request)
    form = SignInForm(request, data=request.POST)
    username = form.fields["username"].to_python(request.POST.get("username", ""))
    password = request.POST.get("password", "")
    if username and password:
        form.checked_user = await password_check(request=request, username=username, password=password)
    return await sync_to_async(_login_answer)(request, form)


class LogoutView(auth_views.LogoutView):
    pass


# --- multi-factor authentication ---------------------------------------------------------------

def _next_url(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return wanted
    return reverse("home")


def _mfa_done(request) -> bool:
    return not mfa_required(user=request.user) or request.user.is_verified()


def _verified(request, device):
    """Mark the session verified: a new session key (more privilege now), then django-otp's device id."""
    request.session.cycle_key()
    django_otp.login(request, device)
    return redirect(_next_url(request))


@mfa_exempt
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    if _mfa_done(request):
        return redirect(_next_url(request))
    if mfa_device(user=request.user) is None:
        return redirect(f"{reverse('accounts:mfa_enrol')}?{request.GET.urlencode()}")
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.mfa_verify(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            login_throttle.address_attempt_refund(request=request)
            return _verified(request, device)
    status = 400 if form.errors else 200
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request)}, status=status)


@mfa_exempt
@require_http_methods(["GET", "POST"])
def mfa_enrol(request):
    if _mfa_done(request):
        return redirect(_next_url(request))
    if mfa_device(user=request.user) is not None:
        return redirect(f"{reverse('accounts:mfa_verify')}?{request.GET.urlencode()}")
    device = services.mfa_enrolment_start(user=request.user)
    form = MfaCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.mfa_enrolment_confirm(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            login_throttle.address_attempt_refund(request=request)
            messages.success(request, "Authenticator set up: you will be asked for a code at each sign-in.")
            return _verified(request, device)
    status = 400 if form.errors else 200
    return render(request, "accounts/mfa_enrol.html", {
        "form": form, "next": _next_url(request), "qr_svg": totp_qr_svg(device),
        "secret": totp_secret_text(device)}, status=status)


# --- user administration -----------------------------------------------------------------------
# Every change is confirmed (a ticked box the server requires, accounts.forms) and audited by its service.

def _users_page(request, *, create_form=None, call=None, status: int = 200, form=None):
    accounts = list(users_for_management(actor=request.user))
    failures = sign_in_failures(users=accounts)
    for account in accounts:
        account.sign_in_failures = failures[account.pk]
    return render(request, "accounts/users.html", {
        "users": accounts, "form": form, "create_form": create_form or UserCreateForm(), "call": call,
        "open_form": create_form is not None, "failure_limit": settings.LOGIN_FAILURE_LIMIT}, status=status)


@require_GET
def users(request):
    return _users_page(request)


@require_POST
def user_create(request):
    enforce(user_refusal(actor=request.user, action=UserAction.CREATE))  # before reading input: no probing
    form = UserCreateForm(request.POST)
    if not form.is_valid():
        return _users_page(request, create_form=form, status=400)
    data = form.cleaned_data
    with service_call(form) as call:
        user = services.user_create(actor=request.user, username=data["username"], password=data["password"],
                                    roles=[Role(r) for r in data["roles"]], full_name=data["full_name"],
                                    email=data["email"])
    if call.failed:
        return _users_page(request, create_form=form, status=call.status)
    messages.success(request, f"Account {user.get_username()} created.")
    return redirect("accounts:user_detail", pk=user.pk)


def _user_page(request, pk: int, *, forms=None, call=None, status: int = 200):
    account = access_managed_user(actor=request.user, id=pk)
    forms = forms or {}
    roles_form = forms.get("roles_form") or UserRolesForm(initial={
        "roles": [g.name for g in account.groups.all()]})
    return render(request, "accounts/user_detail.html", {
        "account": account, "actions": {a.value for a in user_actions(actor=request.user, user=account)},
        "roles_form": roles_form, "action_form": forms.get("action_form"), "failed_action": forms.get("action"),
        "sign_in_failures": sign_in_failures(users=[account])[account.pk],
        "failure_limit": settings.LOGIN_FAILURE_LIMIT, "call": call}, status=status)


@require_GET
def user_detail(request, pk: int):
    enforce(manage_users_refusal(user=request.user))
    return _user_page(request, pk)


def _user_change(request, pk: int, *, form, action: str, change, success: str):
    """Check the form (the confirmation box) and run ``change(account, data)``; the user's page again on a
    refusal, else back to it with ``success``."""
    enforce(manage_users_refusal(user=request.user))  # before reading input: no probing
    account = access_managed_user(actor=request.user, id=pk)
    forms = {"roles_form": form} if action == "roles" else {"action_form": form, "action": action}
    if not form.is_valid():
        return _user_page(request, pk, forms=forms, status=400)
    with service_call(form) as call:
        change(account, form.cleaned_data)
    if call.failed:
        return _user_page(request, pk, forms=forms, call=call, status=call.status)
    messages.success(request, success.format(username=account.get_username()))
    return redirect("accounts:user_detail", pk=pk)


@require_POST
def user_roles(request, pk: int):
    return _user_change(request, pk, form=UserRolesForm(request.POST), action="roles",
                        change=lambda account, data: services.user_roles_set(
                            actor=request.user, user=account, roles=[Role(r) for r in data["roles"]]),
                        success="Roles of {username} saved.")


@require_POST
def user_deactivate(request, pk: int):
    return _user_change(request, pk, form=ConfirmForm(request.POST), action="deactivate",
                        change=lambda account, data: services.user_deactivate(actor=request.user, user=account),
                        success="{username} deactivated: they can no longer sign in.")


@require_POST
def user_reactivate(request, pk: int):
    return _user_change(request, pk, form=ConfirmForm(request.POST), action="reactivate",
                        change=lambda account, data: services.user_reactivate(actor=request.user, user=account),
                        success="{username} reactivated: they can sign in again.")


@require_POST
def user_unlock(request, pk: int):
    return _user_change(request, pk, form=ConfirmForm(request.POST), action="unlock",
                        change=lambda account, data: services.user_unlock(actor=request.user, user=account),
                        success="Failed sign-ins of {username} forgotten: they may sign in at once.")


@require_POST
def user_mfa_reset(request):
    enforce(manage_users_refusal(user=request.user))  # before reading input: no probing
    form = UserPickForm(request.POST)
    if not form.is_valid():
        if "user" in form.errors:
            return _users_page(request, form=form, status=400)
        return _user_page(request, form.cleaned_data["user"].pk,
                          forms={"action_form": form, "action": "reset_mfa"}, status=400)
    user = form.cleaned_data["user"]
    return perform(request, lambda: services.mfa_device_reset(actor=request.user, user=user),
                   success=f"Authenticator of {user.get_username()} removed: they set up a new one at next sign-in.",
                   redirect_to=reverse("accounts:user_detail", kwargs={"pk": user.pk}),
                   failure=lambda call: redirect(reverse("accounts:user_detail", kwargs={"pk": user.pk})))
