"""Portal pages for watchlists, subjects, reference images and bulk import.

Views parse input with forms, fetch objects with the permission-checked selectors, call the services
and render. Rules and permissions are decided by the services; what a page hides is only a courtesy.
Refused rules come back through ``core.views_errors`` (400, or 409 for a concurrent edit).
"""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required, require_capability, user_can
from core.downloads import csv_download
from core.images import image_response
from core.uploads import UploadTooLarge, capped_upload
from core.views_errors import ServiceCall, answers_gone, perform, service_call
from watchlists import bulk_import, services
from watchlists.categories import RULES, rule_summary
from watchlists.forms import (
    AddSubjectsForm,
    ApproveForm,
    BulkImportForm,
    ConfirmDuplicateForm,
    ImageAddForm,
    ReturnWatchlistForm,
    ReviewWatchlistForm,
    SubjectCreateForm,
    SubjectEditForm,
    WatchlistForm,
)
from watchlists.models import BulkImport, InclusionCategory, Priority, ReferenceImage, WarningMarker, Watchlist
from watchlists.policies import (
    ACTION_CAPABILITIES,
    Action,
    watchlist_actions,
    watchlist_approval_notice,
    watchlist_refusal,
    watchlist_role_refusal,
)
from watchlists.quality_words import face_box, similarity_words
from watchlists.selectors import (
    access_reference_image,
    access_subject,
    access_watchlist,
    enrolment_model_id,
    reference_image_duplicate_match,
    reference_image_face_outlined,
    reference_image_quality_summary,
    reference_images_of_subjects,
    subject_category_problems,
    subject_list,
    subjects_breaking_category_rules,
    subjects_review_due,
    subjects_without_enrolled_image,
    watchlist_approval_queue,
    watchlist_list,
)

SUBJECTS_PER_PAGE = 50
APPROVAL_SUBJECTS_PER_PAGE = 100
RECENT_IMPORTS = 5


def _can(request, capability: str) -> bool:
    return user_can(user=request.user, capability=capability)


def _page(request, queryset, per_page: int = SUBJECTS_PER_PAGE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- watchlists ---------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@capability_required("manage_watchlist", methods=("POST",))
def watchlist_index(request):
    watchlists = watchlist_list(user=request.user)
    form = WatchlistForm(request.POST or None)
    call = ServiceCall()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            with service_call(form) as call:
                watchlist = services.watchlist_create(actor=request.user, **form.cleaned_data)
            if not call.failed:
                messages.success(request, f"Watchlist \u201c{watchlist.name}\u201d created as a draft.")
                return redirect("watchlists:detail", pk=watchlist.pk)
        status = call.status if call.failed else 400
    return render(request, "watchlists/watchlist_list.html", {
        "watchlists": watchlists, "form": form, "can_manage": _can(request, "manage_watchlist"),
        "open_form": request.method == "POST", "max_subjects": settings.WATCHLIST_MAX_SUBJECTS,
    }, status=status)


def _watchlist_page(request, pk: int, *, call: ServiceCall | None = None, **forms):
    """The watchlist page; after a refused action, with that action's form and messages."""
    watchlist = access_watchlist(user=request.user, id=pk)  # fresh: the version may have moved
    search = request.GET.get("q", "").strip()
    page = _page(request, subject_list(user=request.user, watchlist=watchlist, search=search))
    can_manage = watchlist_role_refusal(user=request.user, action=Action.EDIT) is None
    can_approve = watchlist_role_refusal(user=request.user, action=Action.APPROVE) is None
    version = {"version": watchlist.version}
    if call is not None and call.concurrent:
        # Someone changed the list meanwhile: show it as it is now, keeping what the user typed.
        typed = forms.pop("add_form", None)
        forms = {"add_form": AddSubjectsForm(initial=version | {
            "references": typed.data.get("references", "") if typed is not None else ""})}
    context = {
        "watchlist": watchlist, "page": page, "search": search, "call": call,
        "can_manage": can_manage, "can_approve": can_approve,
        "watchlist_actions": watchlist_actions(user=request.user, watchlist=watchlist),
        "approval_notice": watchlist_approval_notice(user=request.user, watchlist=watchlist),
        **_entry_checks(watchlist),
        "add_form": forms.get("add_form") or AddSubjectsForm(initial=version),
        "return_form": forms.get("return_form") or ReturnWatchlistForm(),
        "review_form": forms.get("review_form") or ReviewWatchlistForm(),
        "imports": watchlist.imports.select_related("created_by").order_by("-created_at")[:RECENT_IMPORTS]
        if can_manage else [],
    }
    return render(request, "watchlists/watchlist_detail.html", context, status=call.status if call else 200)


@require_GET
def watchlist_detail(request, pk: int):
    return _watchlist_page(request, pk)


@require_POST
@capability_required("manage_watchlist")
def watchlist_subjects_add(request, pk: int):
    watchlist = access_watchlist(user=request.user, id=pk)
    form = AddSubjectsForm(request.POST)
    call = ServiceCall(form)
    if form.is_valid():
        references = form.cleaned_data["references"]
        subjects = list(subject_list(user=request.user).filter(reference__in=references))
        unknown = sorted(set(references) - {s.reference for s in subjects})
        if unknown:
            form.add_error("references", f"no subject with the reference(s) {', '.join(unknown)}")
        else:
            with service_call(form) as call:
                added = services.watchlist_subjects_add(
                    actor=request.user, watchlist=watchlist, subjects=subjects,
                    expected_version=form.cleaned_data["version"])
            if not call.failed:
                messages.success(request, f"{added} subject(s) added; {len(subjects) - added} already on the list.")
                return redirect("watchlists:detail", pk=pk)
    if not call.failed:
        call.status = 400
    return _watchlist_page(request, pk, call=call, add_form=form)


@require_POST
@capability_required("manage_watchlist")
def watchlist_subject_remove(request, pk: int, subject_pk: int):
    watchlist = access_watchlist(user=request.user, id=pk)
    subject = access_subject(user=request.user, id=subject_pk)
    return perform(request, lambda: services.watchlist_subject_remove(
        actor=request.user, watchlist=watchlist, subject=subject),
        success=f"{subject.reference} removed from the watchlist.",
        redirect_to=reverse("watchlists:detail", args=[pk]),
        failure=lambda call: _watchlist_page(request, pk, call=call))


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.SUBMIT])
def watchlist_submit(request, pk: int):
    watchlist = access_watchlist(user=request.user, id=pk)
    unenrolled = list(subjects_without_enrolled_image(watchlist=watchlist, model_id=enrolment_model_id()))
    done = "Submitted for approval by an authorising officer."
    if unenrolled:
        done += (f" {len(unenrolled)} subject(s) have no enrolled image and will not be matched unless one is "
                 f"enrolled: {', '.join(s.reference for s in unenrolled[:10])}"
                 + (f" and {len(unenrolled) - 10} more." if len(unenrolled) > 10 else "."))
    return perform(request, lambda: services.watchlist_submit(actor=request.user, watchlist=watchlist),
                   success=done,
                   redirect_to=reverse("watchlists:detail", args=[pk]),
                   failure=lambda call: _watchlist_page(request, pk, call=call))


def _entry_checks(watchlist: Watchlist) -> dict:
    """What the watchlist, submit and approval pages flag: entries breaking their category's rules (written before
    a rule changed) and entries without an image enrolled with the current model."""
    return {"breaking": subjects_breaking_category_rules(watchlist=watchlist),
            "unenrolled": list(subjects_without_enrolled_image(watchlist=watchlist, model_id=enrolment_model_id()))}


def _approval_page(request, pk: int, *, call: ServiceCall | None = None, form: ApproveForm | None = None):
    """The evidence an approver decides on: each subject's photo, category, reason, photo age, markers and
    instructions, a page at a time (the queries do not grow with the page), and the entries flagged."""
    watchlist = access_watchlist(user=request.user, id=pk)
    page = _page(request, subject_list(user=request.user, watchlist=watchlist), APPROVAL_SUBJECTS_PER_PAGE)
    return render(request, "watchlists/watchlist_approve.html", {
        "watchlist": watchlist, "page": page, "call": call, **_entry_checks(watchlist),
        "may_approve": watchlist_refusal(user=request.user, watchlist=watchlist, action=Action.APPROVE) is None,
        "approval_notice": watchlist_approval_notice(user=request.user, watchlist=watchlist),
        "can_view_biometrics": _can(request, "view_biometric_data"),
        "form": form or ApproveForm(initial={"version": watchlist.version}),
        "warn_years": settings.REFERENCE_IMAGE_WARN_AGE_YEARS,
    }, status=call.status if call else 200)


@require_http_methods(["GET", "POST"])
@capability_required(*ACTION_CAPABILITIES[Action.APPROVE])
def watchlist_approve(request, pk: int):
    if request.method == "GET":
        return _approval_page(request, pk)
    watchlist = access_watchlist(user=request.user, id=pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _approval_page(request, pk, call=_refused("reload the page and try again"), form=form)
    if not form.cleaned_data["confirmed"]:
        return _approval_page(request, pk, form=form, call=_refused(
            "confirm that you have checked each subject's evidence before approving"))
    return perform(request, lambda: services.watchlist_approve(
        actor=request.user, watchlist=watchlist, expected_version=form.cleaned_data["version"],
        unenrolled_acknowledged=form.cleaned_data["unenrolled_acknowledged"]),
        success="Watchlist approved.", redirect_to=reverse("watchlists:detail", args=[pk]),
        failure=lambda call: _approval_page(request, pk, call=call, form=form))


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.RETURN])
def watchlist_return(request, pk: int):
    watchlist = access_watchlist(user=request.user, id=pk)
    form = ReturnWatchlistForm(request.POST)
    form.is_valid()  # the reasons are optional here; the service says when they are missing
    return perform(request, lambda: services.watchlist_reject(
        actor=request.user, watchlist=watchlist, reasons=form.cleaned_data.get("reasons", "")),
        success="Watchlist returned to draft.", redirect_to=reverse("watchlists:detail", args=[pk]),
        failure=lambda call: _watchlist_page(request, pk, call=call, return_form=form))


@require_POST
@capability_required(*ACTION_CAPABILITIES[Action.REVIEW])
def watchlist_review(request, pk: int):
    watchlist = access_watchlist(user=request.user, id=pk)
    form = ReviewWatchlistForm(request.POST)
    form.is_valid()
    return perform(request, lambda: services.watchlist_review(
        actor=request.user, watchlist=watchlist, note=form.cleaned_data.get("note", "")),
        success="Review recorded: the watchlist is current for deployments.",
        redirect_to=reverse("watchlists:detail", args=[pk]),
        failure=lambda call: _watchlist_page(request, pk, call=call, review_form=form))


def _refused(message: str, status: int = 400) -> ServiceCall:
    call = ServiceCall()
    call.messages, call.status = [message], status
    return call


@require_GET
def approval_queue(request):
    return render(request, "watchlists/approval_queue.html",
                  {"watchlists": watchlist_approval_queue(user=request.user)})


# --- subjects -----------------------------------------------------------------------------------

@require_GET
def subject_index(request):
    search = request.GET.get("q", "").strip()
    page = _page(request, subject_list(user=request.user, search=search))
    return render(request, "watchlists/subject_list.html", {
        "page": page, "search": search, "can_manage": _can(request, "manage_watchlist")})


@require_GET
def review_due(request):
    require_capability(user=request.user, capability="manage_watchlist")
    return render(request, "watchlists/review_due.html", {
        "subjects": subjects_review_due(user=request.user),
        "breaking": subjects_breaking_category_rules(added_by=request.user)})


@require_http_methods(["GET", "POST"])
def subject_create(request):
    require_capability(user=request.user, capability="manage_watchlist")
    watchlist_id = request.POST.get("watchlist") or request.GET.get("watchlist")
    watchlist = access_watchlist(user=request.user, id=int(watchlist_id)) if str(watchlist_id or "").isdigit() else None
    form = SubjectCreateForm(request.POST or None, request.FILES or None,
                             initial={"watchlist": watchlist.pk if watchlist else None})
    status = 200
    if request.method == "POST":
        call = ServiceCall()
        if form.is_valid():
            image = form.image_values()
            with service_call(form) as call:  # a refused image leaves no subject behind
                subject = services.subject_enrol(
                    actor=request.user, reference=form.cleaned_data["reference"], watchlist=watchlist,
                    images=[services.ReferenceImageUpload(**image)] if image else [], **form.values())
            if not call.failed:
                done = f"Subject {subject.reference} created"
                done += f" and added to \u201c{watchlist.name}\u201d" if watchlist else ""
                done += "; the image is being checked for enrolment." if image else ". Add a reference image."
                messages.success(request, done)
                return redirect("watchlists:subject_detail", pk=subject.pk)
        status = call.status if call.failed else 400
    return render(request, "watchlists/subject_form.html",
                  {"form": form, "watchlist": watchlist, "creating": True, "category_rules": _category_rules()},
                  status=status)


def _subject_page(request, pk: int, *, call: ServiceCall | None = None, image_form=None, duplicate_forms=None):
    subject = access_subject(user=request.user, id=pk)
    services.subject_view_record(actor=request.user, subject=subject)
    images = list(subject.images.select_related("duplicate_of", "uploaded_by").order_by("pk"))
    duplicate_forms = duplicate_forms or {}
    for image in images:
        image.confirm_form = duplicate_forms.get(image.pk) or ConfirmDuplicateForm()
        image.quality_words = reference_image_quality_summary(image=image)
        image.face_outlined = reference_image_face_outlined(image=image)
        image.duplicate_match = reference_image_duplicate_match(user=request.user, image=image)
        image.similarity_words = similarity_words(image.duplicate_score, threshold=settings.DUPLICATE_SIMILARITY)
    return render(request, "watchlists/subject_detail.html", {
        "subject": subject, "images": images, "call": call,
        "rule_problems": subject_category_problems(subject=subject),
        "watchlists": subject.watchlists.order_by("name", "pk"),
        "can_manage": _can(request, "manage_watchlist"),
        "can_view_biometrics": _can(request, "view_biometric_data"),
        "image_form": image_form or ImageAddForm(),
        "statuses": ReferenceImage.Status,
    }, status=call.status if call else 200)


@require_GET
def subject_detail(request, pk: int):
    return _subject_page(request, pk)


@require_http_methods(["GET", "POST"])
def subject_edit(request, pk: int):
    subject = access_subject(user=request.user, id=pk)
    require_capability(user=request.user, capability="manage_watchlist")
    initial = SubjectEditForm.initial_for(subject)
    form = SubjectEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        call = ServiceCall()
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, "Nothing was changed.")
                return redirect("watchlists:subject_detail", pk=pk)
            with service_call(form) as call:
                services.subject_update(actor=request.user, subject=subject, changes=changes,
                                        expected_version=form.cleaned_data["version"])
            if not call.failed:
                messages.success(request, f"Subject {subject.reference} updated; watchlists holding it need a "
                                          f"fresh approval.")
                return redirect("watchlists:subject_detail", pk=pk)
        status = call.status if call.failed else 400
    return render(request, "watchlists/subject_form.html", {
        "form": form, "subject": subject, "creating": False, "stale": status == 409,
        "category_rules": _category_rules()}, status=status)


def _category_rules() -> list[dict]:
    """Each category's rules in words, for the form's help list (static/js/subject_form.js shows the chosen one)."""
    return [{"category": rules.category.value, "label": rules.label, "rules": rule_summary(rules)}
            for rules in RULES.values()]


# --- reference images ---------------------------------------------------------------------------

@require_POST
@capability_required("manage_watchlist")
def image_add(request, pk: int):
    subject = access_subject(user=request.user, id=pk)
    form = ImageAddForm(request.POST, request.FILES)
    call = ServiceCall(form)
    if form.is_valid():
        with service_call(form) as call:
            services.reference_image_add(actor=request.user, subject=subject, **form.image_values())
        if not call.failed:
            messages.success(request, "Image uploaded; it is being checked for enrolment.")
            return redirect("watchlists:subject_detail", pk=pk)
    if not call.failed:
        call.status = 400
    return _subject_page(request, pk, call=call, image_form=form)


@require_GET
@answers_gone
def image_file(request, pk: int):
    """The only way a face image leaves the server: permission-checked, audited, never cached."""
    image = access_reference_image(user=request.user, id=pk)
    data = services.reference_image_read(actor=request.user, image=image)
    return image_response(data, filename=f"reference-{image.pk}")


@require_GET
@answers_gone
def image_file_outlined(request, pk: int):
    """The image with the enrolled face outlined, for a photo with several faces: checked and audited the same."""
    image = access_reference_image(user=request.user, id=pk)
    if face_box(image.quality) is None:
        raise Http404("no enrolled face is recorded for this image")
    data = services.reference_image_read_outlined(actor=request.user, image=image)
    return image_response(data, filename=f"reference-{image.pk}-outlined")


@require_POST
@capability_required("manage_watchlist")
def image_confirm_duplicate(request, pk: int):
    image = access_reference_image(user=request.user, id=pk)
    form = ConfirmDuplicateForm(request.POST)
    form.is_valid()
    subject_pk = image.subject_id
    return perform(request, lambda: services.reference_image_confirm_duplicate(
        actor=request.user, image=image, justification=form.cleaned_data.get("justification", "")),
        success="Image enrolled despite the similarity; your justification is recorded.",
        redirect_to=reverse("watchlists:subject_detail", args=[subject_pk]),
        failure=lambda call: _subject_page(request, subject_pk, call=call, duplicate_forms={image.pk: form}))


@require_POST
@capability_required("manage_watchlist")
def image_delete(request, pk: int):
    image = access_reference_image(user=request.user, id=pk)
    subject_pk = image.subject_id
    return perform(request, lambda: services.reference_image_delete(actor=request.user, image=image),
                   success="Image deleted.", redirect_to=reverse("watchlists:subject_detail", args=[subject_pk]),
                   failure=lambda call: _subject_page(request, subject_pk, call=call))


# --- bulk import --------------------------------------------------------------------------------

def _import_page(request, watchlist: Watchlist, form: BulkImportForm, status: int = 200) -> HttpResponse:
    return render(request, "watchlists/import_form.html", {
        "watchlist": watchlist, "form": form, "required_columns": bulk_import.REQUIRED_COLUMNS,
        "optional_columns": bulk_import.OPTIONAL_COLUMNS, "max_rows": bulk_import.MAX_ROWS,
        "example_reference": bulk_import.EXAMPLE_REFERENCE,
        "categories": InclusionCategory.choices, "priorities": Priority.choices, "markers": WarningMarker.choices,
    }, status=status)


def _import_too_large(request, exc: UploadTooLarge) -> HttpResponse:
    form = BulkImportForm()
    form.full_clean()  # an unbound form: no field errors, and somewhere to put this one
    form.cleaned_data = {}
    form.add_error(None, f"{exc} (at most {settings.BULK_IMPORT_MAX_BYTES / 1e6:.0f} MB of images and "
                         f"{settings.BULK_IMPORT_CSV_MAX_BYTES / 1e6:.0f} MB of CSV): split the list")
    watchlist = access_watchlist(user=request.user, id=request.resolver_match.kwargs["pk"])
    return _import_page(request, watchlist, form, status=413)


@require_http_methods(["GET", "POST"])
@capability_required("manage_watchlist")
@capped_upload(max_bytes=bulk_import.upload_max_bytes, too_large=_import_too_large)
def import_start(request, pk: int):
    watchlist = access_watchlist(user=request.user, id=pk)
    require_capability(user=request.user, capability="manage_watchlist")
    # Bound on every POST: a body that brought no files (no length given) is told which are missing.
    form = BulkImportForm(request.POST, request.FILES) if request.method == "POST" else BulkImportForm()
    status = 200
    if request.method == "POST":
        call = ServiceCall()
        if form.is_valid():
            with service_call(form) as call:
                job = bulk_import.bulk_import_start(
                    actor=request.user, watchlist=watchlist, csv_file=form.cleaned_data["csv_file"],
                    zip_file=form.cleaned_data["zip_file"])
            if not call.failed:
                return redirect("watchlists:import_status", pk=pk, import_pk=job.pk)
        status = call.status if call.failed else 400
    return _import_page(request, watchlist, form, status)


def _import_job(request, pk: int, import_pk: int) -> tuple[Watchlist, BulkImport]:
    watchlist = access_watchlist(user=request.user, id=pk)
    return watchlist, get_object_or_404(watchlist.imports.select_related("created_by"), pk=import_pk)


def _import_state(job: BulkImport) -> dict:
    finished = job.status in (BulkImport.Status.FINISHED, BulkImport.Status.FAILED)
    return {
        "id": job.pk, "status": job.status, "status_label": job.get_status_display(), "finished": finished,
        "total_rows": job.total_rows, "processed_rows": job.processed_rows, "enrolled": job.enrolled,
        "refused": job.refused, "duplicates": job.duplicates, "error": job.error,
        "percent": round(100 * job.processed_rows / job.total_rows) if job.total_rows else (100 if finished else 0),
    }


@require_GET
def import_status(request, pk: int, import_pk: int):
    watchlist, job = _import_job(request, pk, import_pk)
    state = _import_state(job)
    report = job.report if state["finished"] else []
    images = reference_images_of_subjects(subject_ids={r["subject_id"] for r in report if r["subject_id"]})
    for row in report:
        row["quality"] = [reference_image_quality_summary(image=i) for i in images.get(row["subject_id"], [])]
    return render(request, "watchlists/import_status.html", {
        "watchlist": watchlist, "job": job, "state": state, "report": report,
    })


@require_GET
def import_status_json(request, pk: int, import_pk: int):
    _, job = _import_job(request, pk, import_pk)
    response = JsonResponse(_import_state(job))
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
def import_template(request):
    require_capability(user=request.user, capability="manage_watchlist")
    columns = [*bulk_import.REQUIRED_COLUMNS, *bulk_import.OPTIONAL_COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerow([bulk_import.EXAMPLE_ROW.get(column, "") for column in columns])
    return csv_download(out.getvalue(), filename="watchlist-import-template.csv")
