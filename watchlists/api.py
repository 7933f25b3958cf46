"""REST API for watchlists, subjects, reference images and bulk imports.

Each view fetches through a selector (which checks the capability and 404s) and acts through a
keyword-only service (which checks the rules and writes the audit event); see core/api.py for
how their errors become responses.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser

from core.api import IMAGE_BYTES, ApiView, DetailSerializer, ImageApiView, errors, resolve_id, resolve_ids
from core.images import image_response
from core.uploads import CappedUploadApiMixin
from watchlists import bulk_import, services
from watchlists import serializers as s
from watchlists.policies import ACTION_CAPABILITIES, ACTION_RULES, Action
from watchlists.selectors import (
    access_bulk_import,
    access_reference_image,
    access_subject,
    access_watchlist,
    subject_list,
    watchlist_approval_queue,
    watchlist_list,
)

WATCHLISTS = ["watchlists"]
SUBJECTS = ["subjects"]
IMAGES = ["reference images"]
IMPORTS = ["bulk imports"]
IMPORT_TOO_LARGE = OpenApiResponse(DetailSerializer, description="the body is over the import limit (refused "
                                                                 "before it is read): split the list")


def _watchlist(view: ApiView, pk: int):
    return access_watchlist(user=view.request.user, id=pk)


# --- watchlists ---------------------------------------------------------------------------------

class WatchlistListView(ApiView):
    required_capabilities = {"POST": ("manage_watchlist",)}

    @extend_schema(tags=WATCHLISTS, summary="Watchlists", responses={200: s.WatchlistSerializer(many=True), **errors()})
    def get(self, request):
        return self.paginated(watchlist_list(user=request.user), s.WatchlistSerializer)

    @extend_schema(tags=WATCHLISTS, summary="Create a watchlist (draft)", request=s.WatchlistCreateSerializer,
                   responses={201: s.WatchlistSerializer, **errors(400)})
    def post(self, request):
        data = self.input(s.WatchlistCreateSerializer)
        watchlist = services.watchlist_create(actor=request.user, **data)
        return self.output(s.WatchlistSerializer, watchlist, status_code=status.HTTP_201_CREATED,
                           headers={"Location": reverse("api:watchlist-detail", kwargs={"pk": watchlist.pk})})


class WatchlistApprovalQueueView(ApiView):
    @extend_schema(tags=WATCHLISTS, summary="Watchlists awaiting my approval (compiled by someone else)",
                   responses={200: s.WatchlistSerializer(many=True), **errors()})
    def get(self, request):
        return self.paginated(watchlist_approval_queue(user=request.user), s.WatchlistSerializer)


class WatchlistDetailView(ApiView):
    @extend_schema(tags=WATCHLISTS, summary="A watchlist", responses={200: s.WatchlistSerializer, **errors(404)})
    def get(self, request, pk: int):
        return self.output(s.WatchlistSerializer, _watchlist(self, pk))


class WatchlistSubjectsView(ApiView):
    required_capabilities = {"POST": ("manage_watchlist",)}

    @extend_schema(tags=WATCHLISTS, summary="Subjects on a watchlist",
                   responses={200: s.SubjectSerializer(many=True), **errors(404)})
    def get(self, request, pk: int):
        watchlist = _watchlist(self, pk)
        return self.paginated(subject_list(user=request.user, watchlist=watchlist), s.SubjectSerializer)

    @extend_schema(tags=WATCHLISTS, summary="Add subjects to a watchlist",
                   description="Subjects already on the list are skipped. The cap "
                               "(WATCHLIST_MAX_SUBJECTS) applies; an approved list returns to draft.",
                   request=s.WatchlistSubjectsAddSerializer,
                   responses={200: s.WatchlistSubjectsAddedSerializer, **errors(400, 404, 409)})
    def post(self, request, pk: int):
        watchlist = _watchlist(self, pk)
        data = self.input(s.WatchlistSubjectsAddSerializer)
        subjects = resolve_ids(subject_list(user=request.user), data["subject_ids"], what="subject")
        added = services.watchlist_subjects_add(actor=request.user, watchlist=watchlist, subjects=subjects,
                                                expected_version=data["expected_version"])
        return self.output(s.WatchlistSubjectsAddedSerializer,
                           {"added": added, "watchlist": _watchlist(self, pk)})


class WatchlistSubjectRemoveView(ApiView):
    required_capabilities = {"DELETE": ("manage_watchlist",)}

    @extend_schema(tags=WATCHLISTS, summary="Remove a subject from a watchlist",
                   responses={204: None, **errors(400, 404)})
    def delete(self, request, pk: int, subject_id: int):
        watchlist = _watchlist(self, pk)
        subject = access_subject(user=request.user, id=subject_id)
        services.watchlist_subject_remove(actor=request.user, watchlist=watchlist, subject=subject)
        return HttpResponse(status=status.HTTP_204_NO_CONTENT)


class WatchlistSubmitView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.SUBMIT]}

    @extend_schema(tags=WATCHLISTS, summary="Submit a draft watchlist for approval", request=None,
                   description=ACTION_RULES[Action.SUBMIT],
                   responses={200: s.WatchlistSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        services.watchlist_submit(actor=request.user, watchlist=_watchlist(self, pk))
        return self.output(s.WatchlistSerializer, _watchlist(self, pk))


class WatchlistApproveView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.APPROVE]}

    @extend_schema(tags=WATCHLISTS, summary="Approve a submitted watchlist (authorising officer, not the compiler)",
                   description=ACTION_RULES[Action.APPROVE] + " Refused (400, naming them) while a subject breaks "
                               "its category's rules (watchlists/categories.py), and while subjects without an image "
                               "enrolled with the current model are not acknowledged (unenrolled_acknowledged).",
                   request=s.WatchlistApproveSerializer,
                   responses={200: s.WatchlistSerializer, **errors(400, 404, 409)})
    def post(self, request, pk: int):
        data = self.input(s.WatchlistApproveSerializer)
        services.watchlist_approve(actor=request.user, watchlist=_watchlist(self, pk),
                                   expected_version=data["expected_version"],
                                   unenrolled_acknowledged=data["unenrolled_acknowledged"])
        return self.output(s.WatchlistSerializer, _watchlist(self, pk))


class WatchlistRejectView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.RETURN]}

    @extend_schema(tags=WATCHLISTS, summary="Return a submitted watchlist to its compiler", request=s.ReasonsSerializer,
                   description=ACTION_RULES[Action.RETURN],
                   responses={200: s.WatchlistSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.ReasonsSerializer)
        services.watchlist_reject(actor=request.user, watchlist=_watchlist(self, pk), reasons=data["reasons"])
        return self.output(s.WatchlistSerializer, _watchlist(self, pk))


class WatchlistReviewView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.REVIEW]}

    @extend_schema(tags=WATCHLISTS, summary="Confirm an approved watchlist is still necessary",
                   description=ACTION_RULES[Action.REVIEW],
                   request=s.WatchlistReviewSerializer, responses={200: s.WatchlistSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.WatchlistReviewSerializer)
        services.watchlist_review(actor=request.user, watchlist=_watchlist(self, pk), note=data["note"])
        return self.output(s.WatchlistSerializer, _watchlist(self, pk))


# --- bulk imports -------------------------------------------------------------------------------

class WatchlistImportsView(CappedUploadApiMixin, ApiView):
    required_capabilities = {"POST": ("manage_watchlist",)}
    upload_max_bytes = bulk_import.upload_max_bytes

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(tags=IMPORTS, summary="Start a bulk import (CSV + zip of images) into a watchlist",
                   description="The import runs in the background; poll the returned URL for progress and "
                               "the per-row report.",
                   request={"multipart/form-data": s.BulkImportStartSerializer},
                   responses={202: s.BulkImportSerializer, **errors(400, 404), 413: IMPORT_TOO_LARGE})
    def post(self, request, pk: int):
        watchlist = _watchlist(self, pk)
        data = self.input(s.BulkImportStartSerializer)
        job = bulk_import.bulk_import_start(actor=request.user, watchlist=watchlist, csv_file=data["csv"],
                                            zip_file=data["images"])
        return self.output(s.BulkImportSerializer, job, status_code=status.HTTP_202_ACCEPTED,
                           headers={"Location": reverse("api:import-detail", kwargs={"pk": job.pk})})


class ImportDetailView(ApiView):
    @extend_schema(tags=IMPORTS, summary="Progress and per-row report of a bulk import",
                   responses={200: s.BulkImportSerializer, **errors(404)})
    def get(self, request, pk: int):
        return self.output(s.BulkImportSerializer, access_bulk_import(user=request.user, id=pk))


# --- subjects -----------------------------------------------------------------------------------

class SubjectListView(ApiView):
    required_capabilities = {"POST": ("manage_watchlist",)}

    @extend_schema(tags=SUBJECTS, summary="Subjects", parameters=[
        OpenApiParameter("search", OpenApiTypes.STR, description="part of the name or reference")],
        responses={200: s.SubjectSerializer(many=True), **errors()})
    def get(self, request):
        search = request.query_params.get("search", "").strip()
        return self.paginated(subject_list(user=request.user, search=search), s.SubjectSerializer)

    @extend_schema(tags=SUBJECTS, summary="Add a subject, optionally on a watchlist and with a photo",
                   description="All or nothing: a subject refused by a rule, a full watchlist (the cap, "
                               "WATCHLIST_MAX_SUBJECTS) or an unusable photo leaves no subject, entry or file. "
                               "A watchlist named returns to draft. The photo (multipart only) is checked and "
                               "stored; its enrolment runs in the background (the subject's images show its status).",
                   request={"application/json": s.SubjectCreateSerializer,
                            "multipart/form-data": s.SubjectCreateWithImageSerializer},
                   responses={201: s.SubjectSerializer, **errors(400, 409)})
    def post(self, request):
        data = dict(self.input(s.SubjectCreateWithImageSerializer))
        watchlist_id, upload = data.pop("watchlist"), data.pop("image")
        photo = {field: data.pop(field) for field in ("image_source", "capture_date", "use_largest_face")}
        watchlist = resolve_id(watchlist_list(user=request.user), watchlist_id, what="watchlist") if watchlist_id else None
        images = []
        if upload:
            images.append(services.ReferenceImageUpload(data=upload.read(), original_name=upload.name or "", **photo))
        subject = services.subject_enrol(actor=request.user, watchlist=watchlist, images=images, **data)
        return self.output(s.SubjectSerializer, subject, status_code=status.HTTP_201_CREATED,
                           headers={"Location": reverse("api:subject-detail", kwargs={"pk": subject.pk})})


class SubjectDetailView(ApiView):
    required_capabilities = {"PATCH": ("manage_watchlist",)}

    @extend_schema(tags=SUBJECTS, summary="A subject (the view is audited)",
                   responses={200: s.SubjectSerializer, **errors(404)})
    def get(self, request, pk: int):
        subject = access_subject(user=request.user, id=pk)
        services.subject_view_record(actor=request.user, subject=subject)
        return self.output(s.SubjectSerializer, subject)

    @extend_schema(tags=SUBJECTS, summary="Edit a subject", request=s.SubjectUpdateSerializer,
                   description="Send expected_version and only the fields to change. Watchlists holding the "
                               "subject return to draft.",
                   responses={200: s.SubjectSerializer, **errors(400, 404, 409)})
    def patch(self, request, pk: int):
        subject = access_subject(user=request.user, id=pk)
        changes = dict(self.input(s.SubjectUpdateSerializer))
        expected_version = changes.pop("expected_version")
        subject = services.subject_update(actor=request.user, subject=subject, expected_version=expected_version,
                                          changes=changes)
        return self.output(s.SubjectSerializer, subject)


class SubjectImagesView(ApiView):
    required_capabilities = {"POST": ("manage_watchlist",)}

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(tags=IMAGES, summary="Reference images of a subject (status, quality, reasons)",
                   responses={200: s.ReferenceImageSerializer(many=True), **errors(404)})
    def get(self, request, pk: int):
        subject = access_subject(user=request.user, id=pk)
        images = subject.images.select_related("subject", "uploaded_by").order_by("pk")
        return self.paginated(images, s.ReferenceImageSerializer)

    @extend_schema(tags=IMAGES, summary="Upload a reference image",
                   description="The file is checked (a decodable image, size and pixel limits) and stored; "
                               "enrolment (one face, quality gate, duplicate check) runs in the background. "
                               "Poll the image's URL for its status.",
                   request={"multipart/form-data": s.ReferenceImageUploadSerializer},
                   responses={202: s.ReferenceImageSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        subject = access_subject(user=request.user, id=pk)
        data = self.input(s.ReferenceImageUploadSerializer)
        upload = data["file"]
        image = services.reference_image_add(
            actor=request.user, subject=subject, data=upload.read(), original_name=upload.name or "",
            image_source=data["image_source"], capture_date=data["capture_date"],
            use_largest_face=data["use_largest_face"])
        return self.output(s.ReferenceImageSerializer, image, status_code=status.HTTP_202_ACCEPTED,
                           headers={"Location": reverse("api:reference-image-detail", kwargs={"pk": image.pk})})


# --- reference images ---------------------------------------------------------------------------

class ReferenceImageDetailView(ApiView):
    required_capabilities = {"DELETE": ("manage_watchlist",)}

    @extend_schema(tags=IMAGES, summary="Enrolment status, quality and reasons of an image",
                   responses={200: s.ReferenceImageSerializer, **errors(404)})
    def get(self, request, pk: int):
        return self.output(s.ReferenceImageSerializer, access_reference_image(user=request.user, id=pk))

    @extend_schema(tags=IMAGES, summary="Delete a reference image", responses={204: None, **errors(404)})
    def delete(self, request, pk: int):
        image = access_reference_image(user=request.user, id=pk)
        services.reference_image_delete(actor=request.user, image=image)
        return HttpResponse(status=status.HTTP_204_NO_CONTENT)


class ReferenceImageFileView(ImageApiView):
    @extend_schema(tags=IMAGES, summary="The face image itself (every read is audited; never cached)",
                   responses={**IMAGE_BYTES, **errors(404, 410)})
    def get(self, request, pk: int):
        image = access_reference_image(user=request.user, id=pk)
        data = services.reference_image_read(actor=request.user, image=image)
        return image_response(data, filename=f"reference-image-{image.pk}")


class ReferenceImageConfirmDuplicateView(ApiView):
    required_capabilities = {"POST": ("manage_watchlist",)}

    @extend_schema(tags=IMAGES, summary="Confirm an image flagged as looking like another subject",
                   request=s.DuplicateConfirmSerializer,
                   responses={200: s.ReferenceImageSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        image = access_reference_image(user=request.user, id=pk)
        data = self.input(s.DuplicateConfirmSerializer)
        image = services.reference_image_confirm_duplicate(actor=request.user, image=image,
                                                           justification=data["justification"])
        return self.output(s.ReferenceImageSerializer, image)
