"""One place where portal views turn service errors into pages.

Services decide; views only report. A service raises:

- ``PermissionDenied``: left alone, Django answers 403 (``permission_denied`` below renders it
  when ``handler403`` points here);
- ``RuleViolation`` or any other ``ValidationError``: the page is shown again with
  ``exc.messages``, status 400;
- ``ConcurrentEditError``: the same, status 409, so the user reloads and tries again;
- ``Gone`` (a file missing from storage, a purged image): ``gone_response`` answers 410 with the message
  (``answers_gone`` does it for a whole view, the image views).

Views that a page's script calls for JSON (``json_errors``) answer the same refusals as JSON
``{"errors": [message, ...]}``: 400, 409, 403 and 410, like the API (core/api.py).

``service_call()`` is a context manager that also opens one transaction, so a view that calls two
services (create a subject, then add its image) saves both or neither::

    with service_call(form) as call:
        subject = subject_create(...)
        reference_image_add(...)
    if call.failed:
        return render(request, "...", {"form": form, "call": call}, status=call.status)

``perform(...)`` wraps the POST/redirect/GET pattern of the small action buttons.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string

from core.errors import ConcurrentEditError, Gone
from core.images import no_store


class ServiceCall:
    """Runs a block as one transaction and records a refused rule instead of raising it."""

    def __init__(self, form=None):
        self.form = form
        self.messages: list[str] = []
        self.status = 200
        self.concurrent = False
        self._atomic = transaction.atomic()

    def __enter__(self) -> ServiceCall:
        self._atomic.__enter__()
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        # Leave the transaction first: any exception rolls back everything the block wrote.
        self._atomic.__exit__(exc_type, exc, traceback)
        if exc is None or not isinstance(exc, ValidationError):
            return False  # success, or PermissionDenied / Http404 / a bug: let Django answer
        self.concurrent = isinstance(exc, ConcurrentEditError)
        self.status = 409 if self.concurrent else 400
        self.messages = list(exc.messages)
        if self.form is not None:
            for message in self.messages:
                self.form.add_error(None, message)
        return True

    @property
    def failed(self) -> bool:
        return self.status >= 400


def service_call(form=None) -> ServiceCall:
    return ServiceCall(form)


def perform(request: HttpRequest, action: Callable[[], object], *, success: str, redirect_to: str,
            failure: Callable[[ServiceCall], HttpResponse]) -> HttpResponse:
    """Run ``action()``; on success flash ``success`` and redirect; when a rule refuses it,
    answer ``failure(call)`` (which renders the page again with ``call.messages`` and ``call.status``)."""
    with service_call() as call:
        action()
    if call.failed:
        return failure(call)
    if success:
        messages.success(request, success)
    return redirect(redirect_to)


def gone_response(exc: Exception) -> HttpResponse:
    """410 with the service's words, in plain text: what the image views answer instead of the picture."""
    return no_store(HttpResponse(str(exc), content_type="text/plain; charset=utf-8", status=410))


def answers_gone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view whose service may raise ``Gone``: 410 with its words (``gone_response``). No transaction is
    opened around the view, so the service's audit of the attempt stays."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Gone as exc:
            return gone_response(exc)

    return wrapped


def json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view a page's script calls: the services' refusals as JSON ``{"errors": [...]}``, with the API's
    codes: a rule 400, a stale version 409, not allowed 403, gone 410. ``Http404`` stays Django's. No
    transaction is opened around the view: each service opens its own."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ValidationError as exc:
            return JsonResponse({"errors": list(exc.messages)},
                                status=409 if isinstance(exc, ConcurrentEditError) else 400)
        except PermissionDenied as exc:
            return JsonResponse({"errors": [str(exc)]}, status=403)
        except Gone as exc:
            return JsonResponse({"errors": [str(exc)]}, status=410)

    return wrapped


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """A 403 page that says why (set ``handler403 = "core.views_errors.permission_denied"``)."""
    reason = str(exception) if exception is not None and str(exception) else ""
    return HttpResponse(render_to_string("403.html", {"reason": reason}, request), status=403)
