"""The public pages (no sign-in: only these in the portal) and the portal's form for what the public is told.

The public pages send no cookie of their own and may be kept by caches for PUBLIC_PAGE_MAX_AGE seconds; a
request that carries a session is answered private, so a shared cache never holds a signed-in response.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods, require_safe

from core.policy import enforce
from core.views_errors import ServiceCall, service_call
from transparency import services
from transparency.forms import PublicNoticeForm
from transparency.policies import public_notice_refusal
from transparency.selectors import (
    access_public_notice,
    notice_text,
    public_entry,
    public_record_entries,
    public_records,
    public_upcoming,
    public_upcoming_entry,
)

RECORDS_PER_PAGE = 20


def cache_for_public(response, request):
    """Public and cacheable for anonymous callers; private for a request with a session."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, max_age=settings.PUBLIC_PAGE_MAX_AGE)
    return response


def public_page(view):
    """A page anyone may read without signing in, GET and HEAD only, cache-friendly."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        return cache_for_public(view(request, *args, **kwargs), request)

    return login_not_required(require_safe(wrapped))


def _common() -> dict:
    return {"force_name": settings.FORCE_NAME}


@public_page
def public_index(request):
    page = Paginator(public_records(), RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "transparency/index.html", _common() | {
        "upcoming": public_upcoming(), "records": public_record_entries(page.object_list), "page": page})


@public_page
def public_deployment(request, pk: int):
    return render(request, "transparency/deployment.html", _common() | {"entry": public_entry(id=pk)})


@public_page
def public_signage(request, pk: int):
    return render(request, "transparency/signage.html", _common() | {"entry": public_upcoming_entry(id=pk)})


# --- the portal: writing the notice -----------------------------------------------------------------

def _initial(deployment, notice) -> dict:
    text = notice_text(deployment=deployment)
    if notice is None:
        return {"area": text.area, "purpose": text.purpose}
    return {"area": notice.area, "purpose": notice.purpose, "more_info": notice.more_info,
            "more_info_url": notice.more_info_url}


def _form_page(request, deployment, notice, form, *, status=200):
    return render(request, "transparency/notice_form.html", {
        "deployment": deployment, "notice": notice, "form": form, "shown": notice_text(deployment=deployment),
        "refusal": public_notice_refusal(user=request.user, deployment=deployment),
        "default_contact": settings.PUBLIC_NOTICE_CONTACT}, status=status)


@require_http_methods(["GET", "POST"])
def public_notice_edit(request, pk: int):
    deployment, notice = access_public_notice(user=request.user, id=pk)
    if request.method == "GET":
        return _form_page(request, deployment, notice, PublicNoticeForm(initial=_initial(deployment, notice)))
    refusal = public_notice_refusal(user=request.user, deployment=deployment)
    if refusal is not None and not refusal.by_rule:
        enforce(refusal)  # 403 before reading the form
    form = PublicNoticeForm(request.POST)
    call = ServiceCall()
    if form.is_valid():
        with service_call(form) as call:
            services.public_notice_save(actor=request.user, deployment=deployment, **form.cleaned_data)
        if not call.failed:
            messages.success(request, "Public notice saved. The public sees it once the deployment is authorised.")
            return redirect("transparency:notice_edit", pk=pk)
    return _form_page(request, deployment, notice, form, status=call.status if call.failed else 400)
