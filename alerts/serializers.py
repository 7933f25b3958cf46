"""API shapes of alerts, their adjudication and case links, and of test walks (live testing with consenting
test subjects). Input is checked for types only; alerts.services decides (alert_adjudicate, alert_case_link,
test_walk_record) and its refusals come back as 400s in its words.

Give AlertSerializer alerts read through alerts.selectors.alert_payloads (alerts_for_deployment,
access_alert): it reads the camera and the adjudications with their officers that that query fetches once.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.demographics import DEMOGRAPHIC_FIELDS
from alerts.history import superseded_ids
from alerts.models import Adjudication, Alert, Decision, EngagementResult, TestWalk
from core.inputs import BIGINT_MAX
from watchlists.models import InclusionCategory, WarningMarker

# --- alerts ---------------------------------------------------------------------------------------


class AlertCameraSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="camera_id")
    name = serializers.CharField(source="camera.name")
    location = serializers.CharField(source="camera.location")


class AlertSubjectSerializer(serializers.Serializer):
    """Who the alert is about, as copied from the frozen watchlist when it was raised."""

    name = serializers.CharField(source="subject_name")
    reference = serializers.CharField(source="subject_reference")
    category = serializers.ChoiceField(choices=InclusionCategory.choices)
    category_label = serializers.CharField(source="get_category_display")
    reason = serializers.CharField()
    priority = serializers.CharField()


class AdjudicationSerializer(serializers.ModelSerializer):
    """One row of the alert's history: a stage-1 decision (or verification), or the stage-2 engagement; an
    amendment names the row it replaces (``amends``), and a replaced row is ``superseded``."""

    officer = serializers.CharField(source="officer.username")
    officer_name = serializers.SerializerMethodField()
    decision_label = serializers.CharField(source="get_decision_display")
    superseded = serializers.SerializerMethodField(help_text="replaced by an amendment: the latest counts")

    class Meta:
        model = Adjudication
        fields = ["id", "officer", "officer_name", "kind", "decision", "decision_label", "notes", "outcome", "engaged",
                  "identity_confirmed", "stop_minutes", "result", "amends", "amend_reason", "superseded",
                  "decided_at"]
        read_only_fields = fields

    def get_officer_name(self, adjudication: Adjudication) -> str:
        return adjudication.officer.get_full_name() or adjudication.officer.username

    def get_superseded(self, adjudication: Adjudication) -> bool:
        # The alert's adjudications are prefetched (alert_payloads), the alert set on each: no query.
        return adjudication.pk in superseded_ids(adjudication.alert.adjudications.all())


class AlertSerializer(serializers.ModelSerializer):
    deployment = serializers.IntegerField(source="deployment_id")
    camera = AlertCameraSerializer(source="*")
    subject = AlertSubjectSerializer(source="*")
    test = serializers.SerializerMethodField(help_text="an alert of a consenting test subject (live testing): "
                                                       "decided like any other, counted apart")
    status_label = serializers.CharField(source="get_status_display")
    probe_image = serializers.SerializerMethodField(help_text="the camera's face crop (audited read)")
    reference_image = serializers.SerializerMethodField(help_text="the watchlist image beside it (audited read); "
                                                                  "null when the alert has none")
    reference_face_image: serializers.SerializerMethodField = serializers.SerializerMethodField(
        help_text="the watchlist image cut around its face (the whole image when enrolment stored no face box)")
    warning_markers = serializers.ListField(child=serializers.ChoiceField(choices=WarningMarker.choices),
                                            help_text="the subject's warnings, from the frozen watchlist")
    adjudications = AdjudicationSerializer(many=True)

    class Meta:
        model = Alert
        fields = ["id", "deployment", "camera", "frame_time", "created_at", "subject", "test", "score", "threshold",
                  "image_taken_on", "warning_markers", "engagement_instructions",
                  "status", "status_label", "outcome", "case_reference", "version", "updated_at", "probe_image",
                  "reference_image", "reference_face_image", "adjudications"]
        read_only_fields = fields

    def get_test(self, alert: Alert) -> bool:
        return alert.category == InclusionCategory.TEST_SUBJECT

    @extend_schema_field(OpenApiTypes.URI)
    def get_probe_image(self, alert: Alert) -> str:
        return reverse("api:alert-image-probe", kwargs={"pk": alert.pk})

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_reference_image(self, alert: Alert) -> str | None:
        if alert.reference_image_id is None:
            return None
        return reverse("api:alert-image-reference", kwargs={"pk": alert.pk})

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_reference_face_image(self, alert: Alert) -> str | None:
        url = self.get_reference_image(alert)
        return f"{url}?crop=face" if url else None


class AlertListQuerySerializer(serializers.Serializer):
    after_id = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, required=False, default=0,
                                        help_text="only alerts with a greater id (a catch-up from the last one seen)")


def _demographics_field() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, allow_null=True, default=None,
        help_text="'not a match' only, optional: the person's perceived demographics, as codes: "
                  + "; ".join(f"{name}: {', '.join(choices.values)}" for name, (choices, _) in DEMOGRAPHIC_FIELDS.items()))


def _notes_field() -> serializers.CharField:
    return serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False)


def _version_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, help_text="the alert's version as last read")


class AlertAdjudicateSerializer(serializers.Serializer):
    """Stage 1: the decision on the images."""

    decision = serializers.ChoiceField(choices=Decision.choices)
    notes = _notes_field()
    outcome = serializers.CharField(required=False, default="", allow_blank=True, max_length=200,
                                    help_text="free text kept on the alert (e.g. a case note)")
    demographics = _demographics_field()
    expected_version = _version_field()


class _StageTwoFields(serializers.Serializer):
    identity_confirmed = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="engaged only (then required): did the engagement confirm the person is the subject; false: "
                  "an innocent person was stopped")
    stop_minutes = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=600,
        help_text="engaged only: how long the person was stopped (required when their identity was not confirmed)")
    result = serializers.ChoiceField(choices=EngagementResult.choices, required=False, allow_blank=True, default="",
                                     help_text="what came of it: only when engaged, except could_not_locate (not "
                                               "engaged); 'other' needs notes")


class AlertEngagementSerializer(_StageTwoFields):
    """Stage 2: the engagement, for true and false alerts alike."""

    engaged = serializers.BooleanField(help_text="did officers engage the person")
    notes = _notes_field()
    expected_version = _version_field()


class AlertAmendmentSerializer(_StageTwoFields):
    """A correction of one's own decision: a stage-1 row takes ``decision`` (and demographics), the engagement
    row ``engaged`` and the other stage-2 fields."""

    reason = serializers.CharField(help_text="why the decision is amended (audited)")
    decision = serializers.ChoiceField(choices=Decision.choices, required=False, allow_blank=True, default="")
    demographics = _demographics_field()
    engaged = serializers.BooleanField(required=False, allow_null=True, default=None)
    notes = _notes_field()
    expected_version = _version_field()


class AlertImageQuerySerializer(serializers.Serializer):
    view = serializers.RegexField(r"^[A-Za-z0-9-]{8,64}$", required=False, default="",
                                  help_text="the id a page makes once per load: the images of one view of the "
                                            "alert are audited as one event (alert.viewed)")
    crop = serializers.ChoiceField(choices=[("face", "face")], required=False, allow_blank=True, default="",
                                   help_text="watchlist image only: 'face' cuts it around the face")


class AlertCaseLinkSerializer(serializers.Serializer):
    case_reference = serializers.CharField(max_length=64, allow_blank=True,
                                           help_text="the ongoing case: the alert is then kept beyond the "
                                                     "retention period")


# --- test walks -----------------------------------------------------------------------------------


class TestWalkSerializer(serializers.ModelSerializer):
    __test__ = False

    camera_name = serializers.CharField(source="camera.name", read_only=True)
    subject_reference = serializers.CharField(source="subject.reference", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = TestWalk
        fields = ["id", "deployment", "camera", "camera_name", "subject", "subject_reference", "walked_at",
                  "recorded_by", "recorded_at"]
        read_only_fields = fields


class TestWalkCreateSerializer(serializers.Serializer):
    __test__ = False

    camera = serializers.IntegerField(min_value=1, help_text="one of the deployment's cameras")
    subject = serializers.IntegerField(min_value=1, help_text="a test subject on the deployment's frozen watchlist")
    walked_at = serializers.DateTimeField(required=False, allow_null=True,
                                          help_text="when the test subject walked past (default: now)")
