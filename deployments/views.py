"""Portal pages for cameras and deployments: planning, authorisation, the kill switch, the record after.

Views parse input with forms, fetch objects with the permission-checked selectors, call the services
and render. Which buttons a page shows comes from ``deployments.policies``; it is a courtesy, the services
enforce the same policy, and a refused rule comes back through ``core.views_errors`` (400, or 409 for a
concurrent edit).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required, require_any_capability
from core.downloads import protected_download
from core.uploads import UploadTooLarge, capped_upload
from core.views_errors import ServiceCall, answers_gone, perform, service_call
from deployments import services
from deployments.documents import document_upload_max_bytes, too_large_message
from deployments.forms import (
    AuthoriseForm,
    CameraForm,
    DeploymentEditForm,
    DeploymentForm,
    DocumentUploadForm,
    OfficersForm,
    PostDeploymentForm,
    ReasonForm,
    ReasonsForm,
    UrgentStartForm,
)
from deployments.models import Deployment, WatchlistSnapshot
from deployments.policies import (
    ACTION_CAPABILITIES,
    CAMERA_ACTION_CAPABILITIES,
    CREATE_CAPABILITIES,
    ENDED_STATES,
    Action,
    CameraAction,
    camera_actions,
    deployment_actions,
    deployment_decision_notice,
    may_decide_deployments,
    may_plan_deployments,
    urgent_use_of,
)
from deployments.selectors import (
    access_deployment,
    access_deployment_document,
    camera_list,
    camera_sources_shown,
    camera_status_detail,
    current_documents,
    deployment_authorisation_queue,
    deployment_documents,
    deployment_list,
    deployment_not_live_reasons,
    documents_key,
)
from recognition import runtime  # runtime.current_model_id(), looked up at each call (tests replace it)
from recognition.calibration import threshold_expectation_table
from recognition.ml.models import ModelFileError
from recognition.source_urls import redact_url
from watchlists.selectors import enrolment_model_id, subjects_without_enrolled_image, watchlist_child_entries

DEPLOYMENTS_PER_PAGE = 50


# --- deployments --------------------------------------------------------------------------------

@require_GET
def deployment_index(request):
    page = Paginator(deployment_list(user=request.user), DEPLOYMENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "deployments/deployment_list.html", {
        "page": page, "can_plan": may_plan_deployments(user=request.user),
        "can_authorise": may_decide_deployments(user=request.user)})


@require_GET
def authorisation_queue(request):
    return render(request, "deployments/authorisation_queue.html",
                  {"deployments": deployment_authorisation_queue(user=request.user)})


def _calibration(threshold) -> dict:
    """What the threshold means for the model the workers use now: the figures per passer-by and per face image,
    rows around it, the curves, the key naming both, and DEPLOYMENT_MAX_GROUP_RATIO's refusals."""

    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        threshold = settings.DEPLOYMENT_DEFAULT_THRESHOLD
    if not 0.0 <= threshold <= 1.0:
        threshold = settings.DEPLOYMENT_DEFAULT_THRESHOLD
    try:
        model_id = runtime.current_model_id()
    except ModelFileError as exc:
        return {"model_error": str(exc)}
    table = threshold_expectation_table(model_id=model_id, threshold=threshold)
    return table | {"curve_json": json.dumps(table["curve"]), "walkby_curve_json": json.dumps(table["walkby_curve"])}


def _child_entries(deployment) -> dict:
    """What the authorising officer is told about entries enrolled as children (docs/evaluation.md)."""
    return {"subjects": watchlist_child_entries(watchlist=deployment.watchlist),
            "offset": settings.CHILD_ENTRY_THRESHOLD_OFFSET, "max_age": settings.CHILD_ENTRY_MAX_AGE,
            "threshold": deployment.threshold + settings.CHILD_ENTRY_THRESHOLD_OFFSET}


def _unenrolled(deployment) -> list:
    """The entries authorising now would leave out of the snapshot: no image enrolled with the current model."""
    return list(subjects_without_enrolled_image(watchlist=deployment.watchlist, model_id=enrolment_model_id()))


def _form_page(request, form, *, deployment=None, status=200):
    return render(request, "deployments/deployment_form.html", {
        "form": form, "deployment": deployment, "floor": settings.DEPLOYMENT_THRESHOLD_FLOOR,
        "max_hours": settings.DEPLOYMENT_MAX_HOURS, "stale": status == 409,
        "calibration": _calibration(form["threshold"].value())}, status=status)


@require_http_methods(["GET", "POST"])
def deployment_create(request):
    require_any_capability(user=request.user, capabilities=CREATE_CAPABILITIES)
    form = DeploymentForm(request.POST or None, user=request.user)
    if request.method == "GET":
        return _form_page(request, form)
    call = ServiceCall()
    if form.is_valid():
        with service_call(form) as call:
            deployment = services.deployment_create(actor=request.user, **form.create_values())
        if not call.failed:
            messages.success(request, "Deployment drafted. Check the list below, then submit it for authorisation.")
            return redirect("deployments:detail", pk=deployment.pk)
    return _form_page(request, form, status=call.status if call.failed else 400)


@require_http_methods(["GET", "POST"])
def deployment_edit(request, pk: int):
    deployment = access_deployment(user=request.user, id=pk)
    require_any_capability(user=request.user, capabilities=ACTION_CAPABILITIES[Action.EDIT])
    form = DeploymentEditForm(request.POST or None, user=request.user, initial=DeploymentForm.initial_for(deployment))
    if request.method == "GET":
        return _form_page(request, form, deployment=deployment)
    call = ServiceCall()
    if form.is_valid():
        changes, cameras, officers = form.changes(), form.changed_cameras(), form.changed_officers()
        if not changes and cameras is None and officers is None:
            messages.info(request, "Nothing was changed.")
            return redirect("deployments:detail", pk=pk)
        with service_call(form) as call:
            services.deployment_update(actor=request.user, deployment=deployment, changes=changes, cameras=cameras,
                                       officers=officers, expected_version=form.cleaned_data["version"])
        if not call.failed:
            messages.success(request, "Deployment updated.")
            return redirect("deployments:detail", pk=pk)
    return _form_page(request, form, deployment=deployment, status=call.status if call.failed else 400)


# The page's controls, by the policy action each shows.
CONTROLS = {"edit": Action.EDIT, "submit": Action.SUBMIT, "decide": Action.AUTHORISE, "stop": Action.STOP,
            "cancel": Action.CANCEL, "post_record": Action.WRITE_POST_RECORD, "officers": Action.ASSIGN_OFFICERS,
            "checklist": Action.SEE_CHECKLIST, "documents": Action.VIEW_DOCUMENTS, "upload": Action.UPLOAD_DOCUMENT,
            "urgent_start": Action.START_URGENT, "decide_urgent": Action.DECIDE_URGENT,
            "urgent_notification": Action.VIEW_URGENT_NOTIFICATION}


def _actions(request, deployment: Deployment) -> dict[str, bool]:
    """Which controls to show (deployments.policies). A courtesy only: every action's service checks again."""
    allowed = deployment_actions(user=request.user, deployment=deployment)
    return {control: action in allowed for control, action in CONTROLS.items()}


def _deployment_page(request, pk: int, *, call: ServiceCall | None = None, status: int | None = None, **forms):
    deployment = access_deployment(user=request.user, id=pk)  # fresh: the state may have moved on
    actions = _actions(request, deployment)
    snapshot = WatchlistSnapshot.objects.filter(deployment=deployment).first()
    post_record = getattr(deployment, "post_record", None) if deployment.state in ENDED_STATES else None
    post_initial = ({"outcomes": post_record.outcomes, "engagements": post_record.engagements,
                     "arrests": post_record.arrests} if post_record else None)
    officers = list(deployment.officers.order_by("username"))
    documents = list(deployment_documents(user=request.user, deployment=deployment)) if actions["documents"] else []
    current = current_documents(deployment=deployment) if actions["decide"] or actions["decide_urgent"] else {}
    problems = services.deployment_authorisation_problems(deployment=deployment) if actions["checklist"] else None
    urgent_problems = (services.deployment_authorisation_problems(deployment=deployment, urgent="authorise")
                       if actions["decide_urgent"] else None)
    return render(request, "deployments/deployment_detail.html", {
        "deployment": deployment, "call": call, "actions": actions,
        "decision_notice": deployment_decision_notice(user=request.user, deployment=deployment),
        "cameras": _with_display_source(deployment.cameras.order_by("name", "pk"), user=request.user),
        "officers": officers,
        "transitions": deployment.transitions.select_related("actor").order_by("at", "pk"),
        "authorisations": deployment.authorisations.select_related("decided_by").order_by("decided_at", "pk"),
        "snapshot": snapshot, "manifest_count": deployment.manifest.count(), "post_record": post_record,
        "not_live_reasons": deployment_not_live_reasons(deployment=deployment),
        "problems": problems, "urgent_problems": urgent_problems,
        "floor": settings.DEPLOYMENT_THRESHOLD_FLOOR,
        "calibration": _calibration(deployment.threshold) if actions["decide"] or actions["decide_urgent"] else None,
        "child_entries": _child_entries(deployment) if actions["decide"] else None,
        "documents": documents, "documents_key": documents_key(current),
        "current_document_ids": {d.pk for d in current.values()},
        "urgent": urgent_use_of(deployment),
        "upload_form": forms.get("upload_form") or DocumentUploadForm(),
        "urgent_form": forms.get("urgent_form") or UrgentStartForm(),
        "urgent_decision_form": forms.get("urgent_decision_form") or ReasonsForm(),
        "unenrolled": _unenrolled(deployment) if actions["decide"] else None,
        "authorise_form": forms.get("authorise_form") or AuthoriseForm(),
        "reject_form": forms.get("reject_form") or ReasonsForm(),
        "stop_form": forms.get("stop_form") or ReasonForm(),
        "cancel_form": forms.get("cancel_form") or ReasonForm(),
        "post_form": forms.get("post_form") or PostDeploymentForm(initial=post_initial),
        "officers_form": forms.get("officers_form") or OfficersForm(initial={"officers": officers}),
    }, status=status or (call.status if call else 200))


@require_GET
def deployment_detail(request, pk: int):
    return _deployment_page(request, pk)


def _action(request, pk: int, run, *, success: str, form_name: str | None = None, form=None):
    return perform(request, run, success=success, redirect_to=reverse("deployments:detail", args=[pk]),
                   failure=lambda call: _deployment_page(request, pk, call=call, **({form_name: form} if form_name else {})))


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.SUBMIT])
def deployment_submit(request, pk: int):
    deployment = access_deployment(user=request.user, id=pk)
    return _action(request, pk, lambda: services.deployment_submit(
        actor=request.user, deployment=deployment),
        success="Submitted: an authorising officer other than you must now decide.")


def _decision(request, pk: int, service, *, form_class, field: str, success: str, form_name: str):
    """The four state changes that carry a written reason: one shape, one place."""
    deployment = access_deployment(user=request.user, id=pk)
    form = form_class(request.POST)
    form.is_valid()
    return _action(request, pk, lambda: service(
        actor=request.user, deployment=deployment, **{field: form.cleaned_data.get(field, "")}),
        success=success, form_name=form_name, form=form)


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.AUTHORISE])
def deployment_authorise(request, pk: int):
    return _authorise(request, pk, services.deployment_authorise, form_name="authorise_form",
                      success="Authorised: the watchlist is frozen into this deployment's snapshot.")


def _authorise(request, pk: int, service, *, form_name: str, success: str) -> HttpResponse:
    """An authorisation, prior or after urgent use: the reasons, and the figures and documents the page showed."""
    deployment = access_deployment(user=request.user, id=pk)
    form = AuthoriseForm(request.POST)
    form.is_valid()
    return _action(request, pk, lambda: service(
        actor=request.user, deployment=deployment, reasons=form.cleaned_data.get("reasons", ""),
        shown_calibration=form.cleaned_data.get("calibration") or None,
        shown_documents=_shown_documents(request, form)),
        success=success, form_name=form_name, form=form)


def _shown_documents(request, form) -> str | None:
    """The documents key the page showed, or None when the form sent none (a client other than the page)."""
    return form.cleaned_data.get("documents", "") if "documents" in request.POST else None


# --- documents ------------------------------------------------------------------------------------

def _document_too_large(request, exc: UploadTooLarge) -> HttpResponse:
    return _deployment_page(request, request.resolver_match.kwargs["pk"], call=_refused(too_large_message()),
                            status=413)


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.UPLOAD_DOCUMENT])
@capped_upload(max_bytes=document_upload_max_bytes, too_large=_document_too_large)
def deployment_document_upload(request, pk: int):
    deployment = access_deployment(user=request.user, id=pk)
    form = DocumentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _deployment_page(request, pk, call=_refused("choose the kind of document and a PDF file"),
                                upload_form=form)
    upload = form.cleaned_data["file"]
    return _action(request, pk, lambda: services.deployment_document_upload(
        actor=request.user, deployment=deployment, kind=form.cleaned_data["kind"], file=upload,
        original_name=upload.name or ""),
        success="Document uploaded as a new version.", form_name="upload_form", form=form)


@require_GET
@capability_required(*ACTION_CAPABILITIES[Action.VIEW_DOCUMENTS], methods=("GET",))
@answers_gone
def deployment_document_download(request, pk: int, document_id: int):
    deployment = access_deployment(user=request.user, id=pk)
    document = access_deployment_document(user=request.user, deployment=deployment, id=document_id)
    data = services.deployment_document_read(actor=request.user, document=document)
    return protected_download(data, content_type="application/pdf",
                              filename=f"deployment-{pk}-{document.kind}-v{document.version}.pdf")


# --- urgent use (EU AI Act Art. 5(3)) --------------------------------------------------------------

@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.START_URGENT])
def deployment_urgent_start(request, pk: int):
    deployment = access_deployment(user=request.user, id=pk)
    form = UrgentStartForm(request.POST)
    form.is_valid()
    return _action(request, pk, lambda: services.deployment_urgent_start(
        actor=request.user, deployment=deployment, justification=form.cleaned_data.get("justification", "")),
        success="Live as urgent use. Another authorising officer must authorise it before the deadline, or it "
                "stops and its alerts are deleted.", form_name="urgent_form", form=form)


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.DECIDE_URGENT])
def deployment_urgent_authorise(request, pk: int):
    return _authorise(request, pk, services.deployment_urgent_authorise, form_name="urgent_decision_form",
                      success="Urgent use authorised.")


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.DECIDE_URGENT])
def deployment_urgent_refuse(request, pk: int):
    return _decision(request, pk, services.deployment_urgent_refuse, form_class=ReasonsForm, field="reasons",
                     success="Urgent use refused: it is stopped and its alerts and their images are deleted.",
                     form_name="urgent_decision_form")


@require_GET
@capability_required(*ACTION_CAPABILITIES[Action.VIEW_URGENT_NOTIFICATION], methods=("GET",))
def deployment_urgent_notification(request, pk: int):
    """The Art. 5(4) notification record: a page, or (?format=json) the JSON file to send. Audited."""
    deployment = access_deployment(user=request.user, id=pk)
    with service_call() as call:
        notification = services.urgent_notification_read(actor=request.user, deployment=deployment)
    if call.failed:
        return _deployment_page(request, pk, call=call)
    if request.GET.get("format") == "json":
        return protected_download(json.dumps(notification, indent=2, ensure_ascii=False).encode(),
                                  content_type="application/json",
                                  filename=f"deployment-{pk}-urgent-use-notification.json")
    return render(request, "deployments/urgent_notification.html",
                  {"deployment": deployment, "notification": notification})


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.REJECT])
def deployment_reject(request, pk: int):
    return _decision(request, pk, services.deployment_reject, form_class=ReasonsForm, field="reasons",
                     success="Rejected; the planner sees your reasons.", form_name="reject_form")


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.STOP])
def deployment_stop(request, pk: int):
    return _decision(request, pk, services.deployment_stop, form_class=ReasonForm, field="reason",
                     success="Stopped. Recognition ends within seconds; the snapshot's biometric data will be deleted.",
                     form_name="stop_form")


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.CANCEL])
def deployment_cancel(request, pk: int):
    return _decision(request, pk, services.deployment_cancel, form_class=ReasonForm, field="reason",
                     success="Deployment cancelled.", form_name="cancel_form")


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.ASSIGN_OFFICERS])
def deployment_officers(request, pk: int):
    deployment = access_deployment(user=request.user, id=pk)
    form = OfficersForm(request.POST)
    if not form.is_valid():
        return _deployment_page(request, pk, call=_refused("choose officers from the list"), officers_form=form)
    return _action(request, pk, lambda: services.deployment_officers_set(
        actor=request.user, deployment=deployment, officers=list(form.cleaned_data["officers"])),
        success="Assigned officers updated.", form_name="officers_form", form=form)


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.WRITE_POST_RECORD])
def deployment_post_record(request, pk: int):
    deployment = access_deployment(user=request.user, id=pk)
    form = PostDeploymentForm(request.POST)
    if not form.is_valid():
        return _deployment_page(request, pk, call=_refused("engagements and arrests are whole numbers"),
                                post_form=form)
    return _action(request, pk, lambda: services.post_deployment_record_save(
        actor=request.user, deployment=deployment, **form.cleaned_data),
        success="Post-deployment record saved.", form_name="post_form", form=form)


def _refused(message: str) -> ServiceCall:
    call = ServiceCall()
    call.messages, call.status = [message], 400
    return call


# --- cameras ------------------------------------------------------------------------------------

def _with_display_source(cameras, *, user) -> list:
    """Only those who manage cameras see their sources, and then masked: camera URLs may carry credentials
    (rtsp://user:secret@host). Everyone else sees the name and location."""
    cameras = list(cameras)
    shown = camera_sources_shown(user=user)
    for camera in cameras:
        camera.display_source = redact_url(camera.source_url) if shown else ""
        camera.display_status_detail = camera_status_detail(camera=camera, sources_shown=shown)
    return cameras


def _cameras_page(request, form, status=200):
    cameras = _with_display_source(camera_list(user=request.user), user=request.user)
    return render(request, "deployments/camera_list.html", {
        "cameras": cameras, "form": form, "sources_shown": camera_sources_shown(user=request.user),
        "can_plan": CameraAction.CREATE in camera_actions(user=request.user),
        "open_form": request.method == "POST"}, status=status)


@require_GET
def camera_index(request):
    return _cameras_page(request, CameraForm())


@require_POST
@capability_required(*CAMERA_ACTION_CAPABILITIES[CameraAction.CREATE])
def camera_create(request):
    form = CameraForm(request.POST)
    call = ServiceCall()
    if form.is_valid():
        with service_call(form) as call:
            camera = services.camera_create(actor=request.user, **form.cleaned_data)
        if not call.failed:
            messages.success(request, f"Camera \u201c{camera.name}\u201d added.")
            return redirect("deployments:cameras")
    return _cameras_page(request, form, status=call.status if call.failed else 400)
