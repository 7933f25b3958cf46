"""REST API for cameras and deployments: drafting, the state machine, authorisation and the record after.

Each view fetches through a selector (which checks the capability and 404s) and acts through a
keyword-only service (which checks the rules and writes the audit event); see core/api.py for
how their errors become responses.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api import ApiView, ImageApiView, errors, resolve_id, resolve_ids
from core.downloads import protected_download
from core.policy import enforce
from core.uploads import CappedUploadApiMixin
from deployments import serializers as s
from deployments import services
from deployments.documents import document_upload_max_bytes
from deployments.policies import (
    ACTION_CAPABILITIES,
    ACTION_RULES,
    CAMERA_ACTION_CAPABILITIES,
    CREATE_CAPABILITIES,
    Action,
    CameraAction,
    deployment_refusal,
)
from deployments.selectors import (
    access_camera,
    access_deployment,
    access_deployment_document,
    camera_list,
    deployment_authorisation_queue,
    deployment_documents,
    deployment_list,
)
from watchlists.selectors import watchlist_list

CAMERAS = ["cameras"]
DEPLOYMENTS = ["deployments"]


def _officers(ids):
    """Users given by id; the service checks they are officers (deployments.policies) and records them as the
    deployment's alert recipients."""
    return resolve_ids(get_user_model().objects.all(), ids, what="user")


# --- cameras ------------------------------------------------------------------------------------

class CameraListView(ApiView):
    required_capabilities = {"POST": CAMERA_ACTION_CAPABILITIES[CameraAction.CREATE]}

    @extend_schema(tags=CAMERAS, summary="Cameras", responses={200: s.CameraSerializer(many=True), **errors()})
    def get(self, request):
        return self.paginated(camera_list(user=request.user).select_related("created_by"), s.CameraSerializer)

    @extend_schema(tags=CAMERAS, summary="Register a camera", request=s.CameraCreateSerializer,
                   responses={201: s.CameraSerializer, **errors(400)})
    def post(self, request):
        data = self.input(s.CameraCreateSerializer)
        camera = services.camera_create(actor=request.user, **data)
        return self.output(s.CameraSerializer, camera, status_code=status.HTTP_201_CREATED,
                           headers={"Location": reverse("api:camera-detail", kwargs={"pk": camera.pk})})


class CameraDetailView(ApiView):
    @extend_schema(tags=CAMERAS, summary="A camera (its source with any password masked)",
                   responses={200: s.CameraSerializer, **errors(404)})
    def get(self, request, pk: int):
        return self.output(s.CameraSerializer, access_camera(user=request.user, id=pk))


class CameraSourceView(ApiView):
    required_capabilities = {"GET": CAMERA_ACTION_CAPABILITIES[CameraAction.EDIT]}

    @extend_schema(tags=CAMERAS, summary="A camera's source URL in clear (planners; audited)",
                   responses={200: s.CameraSourceSerializer, **errors(404)})
    def get(self, request, pk: int):
        camera = access_camera(user=request.user, id=pk)
        source = services.camera_source_reveal(actor=request.user, camera=camera)
        return self.output(s.CameraSourceSerializer, {"source_url": source})


# --- deployments --------------------------------------------------------------------------------

def _deployment(view: ApiView, pk: int):
    return access_deployment(user=view.request.user, id=pk)


class DeploymentListView(ApiView):
    required_capabilities = {"POST": CREATE_CAPABILITIES}

    @extend_schema(tags=DEPLOYMENTS, summary="Deployments (officers: those they are assigned to)",
                   responses={200: s.DeploymentSerializer(many=True), **errors()})
    def get(self, request):
        return self.paginated(deployment_list(user=request.user), s.DeploymentSerializer)

    @extend_schema(tags=DEPLOYMENTS, summary="Draft a deployment", request=s.DeploymentCreateSerializer,
                   responses={201: s.DeploymentDetailSerializer, **errors(400)})
    def post(self, request):
        data = dict(self.input(s.DeploymentCreateSerializer))
        data["watchlist"] = resolve_id(watchlist_list(user=request.user), data["watchlist"], what="watchlist")
        data["cameras"] = resolve_ids(camera_list(user=request.user), data["cameras"], what="camera")
        data["officers"] = _officers(data["officers"])
        deployment = services.deployment_create(actor=request.user, **data)
        return self.output(s.DeploymentDetailSerializer, _deployment(self, deployment.pk),
                           status_code=status.HTTP_201_CREATED,
                           headers={"Location": reverse("api:deployment-detail", kwargs={"pk": deployment.pk})})


class DeploymentAuthorisationQueueView(ApiView):
    @extend_schema(tags=DEPLOYMENTS, summary="Deployments awaiting my authorisation (planned by someone else)",
                   responses={200: s.DeploymentSerializer(many=True), **errors()})
    def get(self, request):
        return self.paginated(deployment_authorisation_queue(user=request.user), s.DeploymentSerializer)


class DeploymentDetailView(ApiView):
    required_capabilities = {"PATCH": ACTION_CAPABILITIES[Action.EDIT]}

    @extend_schema(tags=DEPLOYMENTS, summary="A deployment, with its authorisation record",
                   responses={200: s.DeploymentDetailSerializer, **errors(404)})
    def get(self, request, pk: int):
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))

    @extend_schema(tags=DEPLOYMENTS, summary="Edit a draft or rejected deployment",
                   request=s.DeploymentUpdateSerializer,
                   description="Send expected_version and only the fields to change. A rejected deployment "
                               "returns to draft. " + ACTION_RULES[Action.EDIT],
                   responses={200: s.DeploymentDetailSerializer, **errors(400, 404, 409)})
    def patch(self, request, pk: int):
        deployment = _deployment(self, pk)
        changes = dict(self.input(s.DeploymentUpdateSerializer))
        expected_version = changes.pop("expected_version")
        if "watchlist" in changes:
            changes["watchlist"] = resolve_id(watchlist_list(user=request.user), changes["watchlist"],
                                              what="watchlist")
        cameras = changes.pop("cameras", None)
        if cameras is not None:
            cameras = resolve_ids(camera_list(user=request.user), cameras, what="camera")
        officers = changes.pop("officers", None)
        if officers is not None:
            officers = _officers(officers)
        services.deployment_update(actor=request.user, deployment=deployment, expected_version=expected_version,
                                   changes=changes, cameras=cameras, officers=officers)
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentSubmitView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.SUBMIT]}

    @extend_schema(tags=DEPLOYMENTS, summary="Submit a draft for authorisation", request=None,
                   description=ACTION_RULES[Action.SUBMIT],
                   responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        services.deployment_submit(actor=request.user, deployment=_deployment(self, pk))
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentAuthoriseView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.AUTHORISE]}

    @extend_schema(tags=DEPLOYMENTS, summary="Authorise a submitted deployment (freezes the watchlist)",
                   description=ACTION_RULES[Action.AUTHORISE] + " Refused with every authorisation problem "
                               "listed (see authorisation-problems).",
                   request=s.DeploymentReasonsSerializer,
                   responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.DeploymentReasonsSerializer)
        services.deployment_authorise(actor=request.user, deployment=_deployment(self, pk), reasons=data["reasons"])
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentRejectView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.REJECT]}

    @extend_schema(tags=DEPLOYMENTS, summary="Reject a submitted deployment", request=s.DeploymentReasonsSerializer,
                   description=ACTION_RULES[Action.REJECT],
                   responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.DeploymentReasonsSerializer)
        services.deployment_reject(actor=request.user, deployment=_deployment(self, pk), reasons=data["reasons"])
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentStopView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.STOP]}

    @extend_schema(tags=DEPLOYMENTS, summary="Kill switch: stop a live or authorised deployment now",
                   description=ACTION_RULES[Action.STOP],
                   request=s.DeploymentOptionalReasonsSerializer,
                   responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.DeploymentOptionalReasonsSerializer)
        services.deployment_stop(actor=request.user, deployment=_deployment(self, pk), reason=data["reasons"])
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentCancelView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.CANCEL]}

    @extend_schema(tags=DEPLOYMENTS, summary="Cancel a deployment that has not gone live",
                   description=ACTION_RULES[Action.CANCEL],
                   request=s.DeploymentOptionalReasonsSerializer,
                   responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.DeploymentOptionalReasonsSerializer)
        services.deployment_cancel(actor=request.user, deployment=_deployment(self, pk), reason=data["reasons"])
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentOfficersView(ApiView):
    required_capabilities = {"PUT": ACTION_CAPABILITIES[Action.ASSIGN_OFFICERS]}

    @extend_schema(tags=DEPLOYMENTS, summary="Assign the officers who receive the alerts", request=s.OfficersSerializer,
                   description=ACTION_RULES[Action.ASSIGN_OFFICERS],
                   responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def put(self, request, pk: int):
        deployment = _deployment(self, pk)
        enforce(deployment_refusal(user=request.user, deployment=deployment, action=Action.ASSIGN_OFFICERS))
        officers = _officers(self.input(s.OfficersSerializer)["officers"])
        services.deployment_officers_set(actor=request.user, deployment=deployment, officers=officers)
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentAuthorisationProblemsView(ApiView):
    @extend_schema(tags=DEPLOYMENTS, summary="What stands in the way of authorising this deployment now",
                   responses={200: s.AuthorisationProblemsSerializer, **errors(404)})
    def get(self, request, pk: int):
        problems = services.deployment_authorisation_problems(deployment=_deployment(self, pk))
        return self.output(s.AuthorisationProblemsSerializer, {"problems": problems})


class DeploymentPostRecordView(ApiView):
    required_capabilities = {"PUT": ACTION_CAPABILITIES[Action.WRITE_POST_RECORD]}

    @extend_schema(tags=DEPLOYMENTS, summary="The post-deployment record",
                   responses={200: s.PostRecordSerializer, **errors(404)})
    def get(self, request, pk: int):
        record = getattr(_deployment(self, pk), "post_record", None)
        if record is None:
            raise Http404("no post-deployment record has been written yet")
        return self.output(s.PostRecordSerializer, record)

    @extend_schema(tags=DEPLOYMENTS, summary="Write the post-deployment record (after the deployment ended)",
                   description=ACTION_RULES[Action.WRITE_POST_RECORD], request=s.PostRecordSerializer,
                   responses={200: s.PostRecordSerializer, **errors(400, 404)})
    def put(self, request, pk: int):
        deployment = _deployment(self, pk)
        data = self.input(s.PostRecordSerializer)
        record = services.post_deployment_record_save(actor=request.user, deployment=deployment,
                                                      **data)
        return self.output(s.PostRecordSerializer, record)


# --- documents: DPIA, equality impact assessment, appropriate policy document -----------------------

DOCUMENT_TOO_LARGE = OpenApiResponse(description="the upload is larger than DEPLOYMENT_DOCUMENT_MAX_BYTES")
PDF_BYTES = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="the PDF, as an attachment")}


class DeploymentDocumentsView(CappedUploadApiMixin, ApiView):
    required_capabilities = {"GET": ACTION_CAPABILITIES[Action.VIEW_DOCUMENTS],
                             "POST": ACTION_CAPABILITIES[Action.UPLOAD_DOCUMENT]}
    upload_max_bytes = document_upload_max_bytes
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(tags=DEPLOYMENTS, summary="The deployment's documents, every version (newest first per kind)",
                   description=ACTION_RULES[Action.VIEW_DOCUMENTS],
                   responses={200: s.DocumentSerializer(many=True), **errors(404)})
    def get(self, request, pk: int):
        return self.paginated(deployment_documents(user=request.user, deployment=_deployment(self, pk)),
                              s.DocumentSerializer)

    @extend_schema(tags=DEPLOYMENTS, summary="Upload a new version of the DPIA, EIA or APD (PDF)",
                   description=ACTION_RULES[Action.UPLOAD_DOCUMENT] + " The file must be a readable PDF that is "
                               "not encrypted; anything else is refused with the reason.",
                   request={"multipart/form-data": s.DocumentUploadSerializer},
                   responses={201: s.DocumentSerializer, **errors(400, 404), 413: DOCUMENT_TOO_LARGE})
    def post(self, request, pk: int):
        deployment = _deployment(self, pk)
        data = self.input(s.DocumentUploadSerializer)
        document = services.deployment_document_upload(actor=request.user, deployment=deployment, kind=data["kind"],
                                                       file=data["file"], original_name=data["file"].name or "")
        return self.output(s.DocumentSerializer, document, status_code=status.HTTP_201_CREATED)


class DeploymentDocumentFileView(ImageApiView):
    required_capabilities = {"GET": ACTION_CAPABILITIES[Action.VIEW_DOCUMENTS]}

    @extend_schema(tags=DEPLOYMENTS, summary="Download one version of a document (every download is audited)",
                   description=ACTION_RULES[Action.VIEW_DOCUMENTS] + " 410 when the file is missing from storage "
                               "(the attempt is audited).",
                   responses={**PDF_BYTES, **errors(404, 410)})
    def get(self, request, pk: int, document_id: int):
        document = access_deployment_document(user=request.user, deployment=_deployment(self, pk), id=document_id)
        data = services.deployment_document_read(actor=request.user, document=document)
        return protected_download(data, content_type="application/pdf",
                                  filename=f"deployment-{pk}-{document.kind}-v{document.version}.pdf")


# --- urgent use (EU AI Act Art. 5(3)) -----------------------------------------------------------------

class DeploymentUrgentStartView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.START_URGENT]}

    @extend_schema(tags=DEPLOYMENTS, summary="Start now without prior authorisation, in a justified urgency",
                   description=ACTION_RULES[Action.START_URGENT] + " It goes live at once (the watchlist frozen); "
                               "another authorising officer must authorise it within DEPLOYMENT_URGENT_AUTHORISE_HOURS "
                               "or it stops and its alerts are deleted.",
                   request=s.UrgentStartSerializer, responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.UrgentStartSerializer)
        services.deployment_urgent_start(actor=request.user, deployment=_deployment(self, pk),
                                         justification=data["justification"])
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentUrgentAuthoriseView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.DECIDE_URGENT]}

    @extend_schema(tags=DEPLOYMENTS, summary="Authorise an urgent use after the fact",
                   description=ACTION_RULES[Action.DECIDE_URGENT] + " Refused with every authorisation problem "
                               "listed (the documents included).",
                   request=s.DeploymentReasonsSerializer, responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.DeploymentReasonsSerializer)
        services.deployment_urgent_authorise(actor=request.user, deployment=_deployment(self, pk),
                                             reasons=data["reasons"])
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentUrgentRefuseView(ApiView):
    required_capabilities = {"POST": ACTION_CAPABILITIES[Action.DECIDE_URGENT]}

    @extend_schema(tags=DEPLOYMENTS, summary="Refuse an urgent use: it stops and its alerts and images are deleted",
                   description=ACTION_RULES[Action.DECIDE_URGENT],
                   request=s.DeploymentReasonsSerializer, responses={200: s.DeploymentDetailSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        data = self.input(s.DeploymentReasonsSerializer)
        services.deployment_urgent_refuse(actor=request.user, deployment=_deployment(self, pk), reasons=data["reasons"])
        return self.output(s.DeploymentDetailSerializer, _deployment(self, pk))


class DeploymentUrgentNotificationView(ApiView):
    required_capabilities = {"GET": ACTION_CAPABILITIES[Action.VIEW_URGENT_NOTIFICATION]}

    @extend_schema(tags=DEPLOYMENTS, summary="The notification record of an urgent use for the market-surveillance "
                                             "and data-protection authorities (Art. 5(4); every read is audited)",
                   description=ACTION_RULES[Action.VIEW_URGENT_NOTIFICATION],
                   responses={200: OpenApiTypes.OBJECT, **errors(400, 404)})
    def get(self, request, pk: int):
        return Response(services.urgent_notification_read(actor=request.user, deployment=_deployment(self, pk)))
