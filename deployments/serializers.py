"""API shapes of cameras and deployments.

Input serializers check types only; the rules (state machine, threshold floor, who may authorise,
the authorisation problems...) live in deployments.services and come back as 400s in their words.
Related objects are given by id; the views resolve them through the selectors.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.functional import lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deployments.camera_sources import camera_sources_help
from deployments.models import (
    Camera,
    Deployment,
    DeploymentAuthorisation,
    DeploymentDocument,
    DocumentKind,
    PostDeploymentRecord,
    Purpose,
    WatchlistSnapshot,
)
from deployments.policies import urgent_use_of
from deployments.selectors import camera_sources_shown, camera_status_detail, deployment_not_live_reasons
from recognition.source_urls import redact_url


class _UsernameField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value.get_username() if value is not None else None


# --- cameras ------------------------------------------------------------------------------------

class _MaskedSourceField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True,
                         help_text="the source with any password masked, for those who manage cameras (planners, "
                                   "who read it in clear at /api/cameras/{id}/source/); null for everyone else",
                         **kwargs)

    def to_representation(self, value):
        return redact_url(value)


class CameraSerializer(serializers.ModelSerializer):
    """Everyone who sees cameras gets their name, location and status; only those who manage cameras get the
    source (deployments.selectors.camera_sources_shown)."""

    created_by = _UsernameField()
    source_url = _MaskedSourceField()
    status_detail = serializers.SerializerMethodField()

    def _sources_shown(self) -> bool:
        if "sources_shown" not in self.context:
            request = self.context.get("request")
            self.context["sources_shown"] = request is not None and camera_sources_shown(user=request.user)
        return self.context["sources_shown"]

    def get_status_detail(self, camera) -> str:
        return camera_status_detail(camera=camera, sources_shown=self._sources_shown())

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._sources_shown():
            data["source_url"] = None
        return data

    class Meta:
        model = Camera
        fields = ["id", "name", "source_url", "location", "enabled", "loop_playback", "status", "status_detail",
                  "status_changed_at", "created_by", "created_at"]
        read_only_fields = fields


class CameraCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    source_url = serializers.CharField(max_length=500,
                                       help_text=lazy(lambda: f"{camera_sources_help()}; stored as rebuilt from "
                                                                   f"its parts", str)())
    location = serializers.CharField(max_length=300)
    enabled = serializers.BooleanField(required=False, default=True)


class CameraSourceSerializer(serializers.Serializer):
    source_url = serializers.CharField(read_only=True, help_text="in clear, password included")


class CameraBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Camera
        fields = ["id", "name", "location", "enabled", "status"]
        read_only_fields = fields


# --- deployments --------------------------------------------------------------------------------

class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class DeploymentSerializer(serializers.ModelSerializer):
    """A row of the deployment list."""

    watchlist_name = serializers.CharField(source="watchlist.name", read_only=True)
    created_by = _UsernameField()
    camera_count = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = ["id", "name", "purpose", "location", "starts_at", "ends_at", "state", "threshold", "watchlist",
                  "watchlist_name", "camera_count", "created_by", "created_at", "updated_at", "version"]
        read_only_fields = fields

    def get_camera_count(self, deployment) -> int:
        count = getattr(deployment, "camera_count", None)  # annotated by deployment_list()
        return count if count is not None else deployment.cameras.count()


class AuthorisationSerializer(serializers.ModelSerializer):
    decided_by = _UsernameField()

    class Meta:
        model = DeploymentAuthorisation
        fields = ["decision", "decided_by", "decided_at", "reasons", "threshold", "watchlist_size", "documents"]
        read_only_fields = fields
        extra_kwargs = {"documents": {"help_text": "the document versions authorised: id, kind, version, sha256, "
                                                   "original_name"}}


class SnapshotSerializer(serializers.ModelSerializer):
    """What was frozen at authorisation: counts only, never the embeddings."""

    unenrolled_references = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="subjects of the manifest left out: no image enrolled with model_id (why subject_count is smaller)")

    class Meta:
        model = WatchlistSnapshot
        fields = ["watchlist_version", "created_at", "subject_count", "reference_count", "model_id",
                  "biometrics_deleted_at", "unenrolled_references"]
        read_only_fields = fields


class PostRecordSerializer(serializers.ModelSerializer):
    written_by = _UsernameField()

    class Meta:
        model = PostDeploymentRecord
        fields = ["outcomes", "engagements", "arrests", "written_by", "written_at"]
        read_only_fields = ["written_by", "written_at"]
        extra_kwargs = {"engagements": {"min_value": 0}, "arrests": {"min_value": 0}}


class NotLiveReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="no_control_worker, window_not_opened, no_recognition_worker, "
                                           "camera_unclaimed, camera_lost, ...")
    message = serializers.CharField()
    camera_id = serializers.IntegerField(allow_null=True)


class UrgentUseSerializer(serializers.Serializer):
    started_by = _UsernameField()
    started_at = serializers.DateTimeField(read_only=True)
    justification = serializers.CharField(read_only=True)
    authorise_by = serializers.DateTimeField(read_only=True)
    outcome = serializers.CharField(read_only=True)
    decided_by = _UsernameField()
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    data_deleted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    alerts_deleted = serializers.IntegerField(read_only=True)


class DeploymentDetailSerializer(DeploymentSerializer):
    cameras = CameraBriefSerializer(many=True, read_only=True)
    officers = UserBriefSerializer(many=True, read_only=True)
    submitted_by = _UsernameField()
    authorisations = AuthorisationSerializer(many=True, read_only=True)
    snapshot = serializers.SerializerMethodField()
    post_record = serializers.SerializerMethodField()
    not_live_reasons = serializers.SerializerMethodField()
    urgent_use = serializers.SerializerMethodField()

    class Meta(DeploymentSerializer.Meta):
        fields = DeploymentSerializer.Meta.fields + [
            "location_reason", "necessity_statement", "dpia_reference", "signage_confirmed",
            "public_notice_confirmed", "submitted_by", "went_live_at", "ended_at", "cameras", "officers",
            "authorisations", "snapshot", "post_record", "not_live_reasons", "urgent_use"]
        read_only_fields = fields

    @extend_schema_field(UrgentUseSerializer(allow_null=True))
    def get_urgent_use(self, deployment):
        """Started without prior authorisation (EU AI Act Art. 5(3)): when, why, and the outcome; else null."""
        urgent = urgent_use_of(deployment)
        return UrgentUseSerializer(urgent).data if urgent is not None else None

    @extend_schema_field(NotLiveReasonSerializer(many=True))
    def get_not_live_reasons(self, deployment):
        """Why a deployment that should be running (window open) is not: empty when all is well."""

        return NotLiveReasonSerializer(deployment_not_live_reasons(deployment=deployment), many=True).data

    @extend_schema_field(SnapshotSerializer(allow_null=True))
    def get_snapshot(self, deployment):
        snapshot = getattr(deployment, "snapshot", None)  # none before authorisation
        return SnapshotSerializer(snapshot).data if snapshot is not None else None

    @extend_schema_field(PostRecordSerializer(allow_null=True))
    def get_post_record(self, deployment):
        record = getattr(deployment, "post_record", None)  # written after the deployment ends
        return PostRecordSerializer(record).data if record is not None else None


class _DeploymentFields(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    location = serializers.CharField(max_length=300)
    location_reason = serializers.CharField(help_text="why this location, linked to the watchlist")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    watchlist = serializers.IntegerField(min_value=1, help_text="watchlist id")
    cameras = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500,
                                    help_text="camera ids")
    threshold = serializers.FloatField(help_text=f"match similarity; floor {settings.DEPLOYMENT_THRESHOLD_FLOOR}")
    necessity_statement = serializers.CharField(help_text="necessity and proportionality")
    dpia_reference = serializers.CharField(max_length=100)
    signage_confirmed = serializers.BooleanField()
    public_notice_confirmed = serializers.BooleanField()
    officers = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500,
                                     help_text="ids of the officers who receive this deployment's alerts")


class DeploymentCreateSerializer(_DeploymentFields):
    threshold = serializers.FloatField(
        required=False, allow_null=True, default=None,
        help_text=f"match similarity; default {settings.DEPLOYMENT_DEFAULT_THRESHOLD}, "
                  f"floor {settings.DEPLOYMENT_THRESHOLD_FLOOR}")
    signage_confirmed = serializers.BooleanField(required=False, default=False)
    public_notice_confirmed = serializers.BooleanField(required=False, default=False)
    officers = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500, required=False,
                                     default=list, help_text="ids of the officers who receive this deployment's alerts")


class DeploymentUpdateSerializer(_DeploymentFields):
    expected_version = serializers.IntegerField(min_value=1, help_text="the deployment's version as last read")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "expected_version":
                field.required = False

    def validate(self, attrs):
        if len(attrs) == 1:
            raise serializers.ValidationError("give at least one field to change")
        return attrs


class DeploymentReasonsSerializer(serializers.Serializer):
    reasons = serializers.CharField(help_text="why (recorded with the decision and in the audit log)")


class DeploymentOptionalReasonsSerializer(serializers.Serializer):
    reasons = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="why (recorded in the audit log)")


class OfficersSerializer(serializers.Serializer):
    officers = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500,
                                     help_text="ids of the officers who receive this deployment's alerts")


class AuthorisationProblemsSerializer(serializers.Serializer):
    problems = serializers.ListField(child=serializers.CharField(),
                                     help_text="what stands in the way of authorising; empty when nothing does")


# --- documents and urgent use --------------------------------------------------------------------

class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = _UsernameField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = DeploymentDocument
        fields = ["id", "kind", "version", "original_name", "size", "sha256", "uploaded_by", "uploaded_at",
                  "download"]
        read_only_fields = fields

    def get_download(self, document) -> str:
        """The PDF (an attachment; every download is audited)."""
        return reverse("api:deployment-document-file", kwargs={"pk": document.deployment_id, "document_id": document.pk})


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(help_text="a PDF, not encrypted, of at most DEPLOYMENT_DOCUMENT_MAX_BYTES (20 MB "
                                           "unless configured)")


class UrgentStartSerializer(serializers.Serializer):
    justification = serializers.CharField(help_text="why the urgency did not allow prior authorisation (recorded, "
                                                    "and in the notification to the authorities)")
