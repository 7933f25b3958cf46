from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from accounts.mfa import mfa_exempt
from core.policy import enforce
from core.views_errors import json_errors
from notifications import services
from notifications.policies import push_subscription_policy

BODY_MAX_BYTES = 8 * 1024  # a subscription is well under 1 KiB


@require_GET
@login_not_required
@mfa_exempt
def service_worker(request):
    """The service worker of the live pages (scope /alerts/), from the site root so that it may control them.
    Public, like any script: the browser fetches updates to it whether or not a session is open."""
    response = HttpResponse(render_to_string("notifications/service_worker.js"),
                            content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


def _body(request) -> dict:
    if request.content_type != "application/json":
        raise ValidationError("send the subscription as JSON")
    if len(request.body) > BODY_MAX_BYTES:
        raise ValidationError("the subscription is too large")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError("the subscription could not be read: send JSON") from None
    if not isinstance(body, dict):
        raise ValidationError("send the subscription as a JSON object")
    return body


@require_POST
@json_errors
def push_subscribe(request):
    """The browser's PushSubscription.toJSON(): {"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}}."""
    enforce(push_subscription_policy(user=request.user))  # a role that may never subscribe: 403 before the body
    body = _body(request)
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    services.push_subscription_create(actor=request.user, endpoint=body.get("endpoint"), p256dh=keys.get("p256dh"),
                                      auth=keys.get("auth"))
    return JsonResponse({"subscribed": True}, status=201)


@require_POST
@json_errors
def push_unsubscribe(request):
    body = _body(request)
    removed = services.push_subscription_delete(actor=request.user, endpoint=body.get("endpoint"))
    return JsonResponse({"removed": removed})
