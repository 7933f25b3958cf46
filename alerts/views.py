from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import capability_required
from alerts import services
from alerts.demographics import DEMOGRAPHIC_FIELDS, AgeBand, Ethnicity, PerceivedSex
from alerts.forms import TestWalkForm
from alerts.models import Decision, EngagementResult
from alerts.payloads import alert_payload
from alerts.policies import TEST_WALK_REFUSED, deployment_alert_access, test_walk_policy
from alerts.selectors import (
    access_alert,
    alerts_for_deployment,
    deployment_test_subject,
    test_walks_for_deployment,
)
from core.errors import RuleViolation
from core.images import image_response
from core.inputs import query_int
from core.views_errors import answers_gone, json_errors, service_call
from deployments.selectors import access_camera, access_deployment, deployment_list


@require_GET
@capability_required("view_alerts")
def live_index(request):
    deployments = [d for d in deployment_list(user=request.user).filter(state__in=["authorised", "live"])
                   if deployment_alert_access(user=request.user, deployment=d)]
    return render(request, "alerts/live_index.html", {"deployments": deployments})


def _live_page(request, deployment, *, walk_form=None, call=None, status: int = 200):
    access = deployment_alert_access(user=request.user, deployment=deployment)
    if access is None:
        raise PermissionDenied("you are not assigned to this deployment")
    may_record_walks = test_walk_policy(user=request.user, deployment=deployment)
    if may_record_walks and walk_form is None:
        walk_form = TestWalkForm(deployment=deployment)
    return render(request, "alerts/live.html", {
        "deployment": deployment, "access": access, "decisions": Decision.choices,
        "cameras": deployment.cameras.all(), "results": EngagementResult.choices,
        "ethnicities": Ethnicity.choices, "sexes": PerceivedSex.choices, "age_bands": AgeBand.choices,
        "may_record_walks": may_record_walks and bool(walk_form.fields["subject"].choices),
        "walk_form": walk_form, "call": call,
        "test_walks": test_walks_for_deployment(user=request.user, deployment=deployment) if may_record_walks else (),
    }, status=status)


@require_GET
def live_page(request, deployment_id: int):
    return _live_page(request, access_deployment(user=request.user, id=deployment_id))


@require_POST
@capability_required("view_alerts")
def test_walk_record(request, deployment_id: int):
    """The operator's "test walk at camera X, time T" (live testing with consenting test subjects)."""
    deployment = access_deployment(user=request.user, id=deployment_id)
    if not test_walk_policy(user=request.user, deployment=deployment):
        raise PermissionDenied(TEST_WALK_REFUSED)
    form = TestWalkForm(request.POST, deployment=deployment)
    if not form.is_valid():
        return _live_page(request, deployment, walk_form=form, status=400)
    camera = access_camera(user=request.user, id=form.cleaned_data["camera"])
    subject = deployment_test_subject(user=request.user, deployment=deployment, id=form.cleaned_data["subject"])
    with service_call(form) as call:
        services.test_walk_record(actor=request.user, deployment=deployment, camera=camera, subject=subject,
                                  walked_at=form.cleaned_data["walked_at"])
    if call.failed:
        return _live_page(request, deployment, walk_form=form, call=call, status=call.status)
    messages.success(request, f"Test walk of {subject.reference} at {camera.name} recorded.")
    return redirect("alerts:live", deployment_id=deployment.pk)


@require_GET
def deployment_alerts_json(request, deployment_id: int):
    """Catch-up over HTTP (the websocket sends the same on resume)."""
    deployment = access_deployment(user=request.user, id=deployment_id)
    after = query_int(request.GET, "after")
    alerts = alerts_for_deployment(user=request.user, deployment=deployment, after_id=after)[:500]
    return JsonResponse({"alerts": [alert_payload(a) for a in alerts]})


def _alert_image(request, alert_id: int, image: str) -> HttpResponse:
    alert = access_alert(user=request.user, id=alert_id)
    crop = request.GET.get("crop", "")
    try:
        data = services.alert_image_read(actor=request.user, alert=alert, image=image,
                                         view=request.GET.get("view", ""), crop=crop)
    except RuleViolation as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
    return image_response(data, filename=f"alert-{alert.pk}-{image}{'-face' if crop else ''}")


@require_GET
@answers_gone
def probe_image(request, alert_id: int):
    return _alert_image(request, alert_id, "probe")


@require_GET
@answers_gone
def reference_image(request, alert_id: int):
    """The watchlist image beside the probe: allowed to whoever may see the alert, audited."""
    return _alert_image(request, alert_id, "reference")


_YES_NO = {True: True, False: False, None: None, "": None, "yes": True, "no": False, "true": True, "false": False}


def _yes_no(value, name: str = "engaged") -> bool | None:
    key = value.lower() if isinstance(value, str) else value
    if not isinstance(key, (str, bool, type(None))) or key not in _YES_NO:
        raise ValidationError(f"{name} must be yes or no")
    return _YES_NO[key]


def _demographics(body) -> dict | None:
    """JSON posts nest them ({"demographics": {...}}); a plain form posts the fields themselves."""
    if "demographics" in body:
        return body["demographics"]
    flat = {name: body.get(name) for name in DEMOGRAPHIC_FIELDS if name in body}
    return flat or None


UNREADABLE = "the request could not be read: send JSON with a decision"


def _body(request):
    """JSON posts (the live page's script) or a plain form."""
    if request.content_type != "application/json":
        return request.POST
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError(UNREADABLE) from None
    if not hasattr(body, "get"):
        raise ValidationError("send the decision as a JSON object")
    return body


def _version(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(UNREADABLE) from None


def _minutes(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ValidationError("stop minutes must be a whole number") from None


def _stage_two(body) -> dict:
    return {"engaged": _yes_no(body.get("engaged")),
            "identity_confirmed": _yes_no(body.get("identity_confirmed"), "identity confirmed"),
            "stop_minutes": _minutes(body.get("stop_minutes")), "result": str(body.get("result") or "")}


def _answer(request, alert) -> JsonResponse:
    return JsonResponse({"alert": alert_payload(access_alert(user=request.user, id=alert.pk))})


@require_POST
@json_errors
def adjudicate(request, alert_id: int):
    """Stage 1: the decision on the images."""
    alert = access_alert(user=request.user, id=alert_id)
    body = _body(request)
    alert = services.alert_adjudicate(
        actor=request.user, alert=alert, decision=str(body.get("decision", "")), notes=str(body.get("notes", "")),
        outcome=str(body.get("outcome", "")), demographics=_demographics(body),
        expected_version=_version(body.get("version")))
    return _answer(request, alert)


@require_POST
@json_errors
def engagement(request, alert_id: int):
    """Stage 2: the engagement, for true and false alerts alike."""
    alert = access_alert(user=request.user, id=alert_id)
    body = _body(request)
    alert = services.alert_engagement_record(actor=request.user, alert=alert, notes=str(body.get("notes", "")),
                                             expected_version=_version(body.get("version")), **_stage_two(body))
    return _answer(request, alert)


@require_POST
@json_errors
def amend(request, alert_id: int, adjudication_id: int):
    """An officer's correction of their own decision (stage 1 or 2), with a reason, within the window."""
    alert = access_alert(user=request.user, id=alert_id)
    body = _body(request)
    stage_two = _stage_two(body) if "engaged" in body else {}
    alert = services.alert_decision_amend(
        actor=request.user, alert=alert, adjudication_id=adjudication_id, reason=str(body.get("reason", "")),
        decision=str(body.get("decision", "")), notes=str(body.get("notes", "")), demographics=_demographics(body),
        expected_version=_version(body.get("version")), **stage_two)
    return _answer(request, alert)
