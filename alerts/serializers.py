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
from alerts.models import Adjudication, Alert, Decision, EngagementResult, TestWalk
from core.inputs import BIGINT_MAX
from watchlists.models import InclusionCategory

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
    officer = serializers.CharField(source="officer.username")
    officer_name = serializers.SerializerMethodField()
    decision_label = serializers.CharField(source="get_decision_display")

    class Meta:
        model = Adjudication
        fields = ["officer", "officer_name", "kind", "decision", "decision_label", "notes", "outcome", "engaged",
                  "result", "decided_at"]
        read_only_fields = fields

    def get_officer_name(self, adjudication: Adjudication) -> str:
        return adjudication.officer.get_full_name() or adjudication.officer.username


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
    adjudications = AdjudicationSerializer(many=True)

    class Meta:
        model = Alert
        fields = ["id", "deployment", "camera", "frame_time", "created_at", "subject", "test", "score", "threshold",
                  "status", "status_label", "outcome", "case_reference", "version", "updated_at", "probe_image",
                  "reference_image", "adjudications"]
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


class AlertListQuerySerializer(serializers.Serializer):
    after_id = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, required=False, default=0,
                                        help_text="only alerts with a greater id (a catch-up from the last one seen)")


class AlertAdjudicateSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    notes = serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False)
    outcome = serializers.CharField(required=False, default="", allow_blank=True, max_length=200,
                                    help_text="e.g. arrested, words of advice")
    engaged = serializers.BooleanField(required=False, allow_null=True, default=None,
                                       help_text="confirmed matches only: was the person engaged (optional)")
    result = serializers.ChoiceField(choices=EngagementResult.choices, required=False, allow_blank=True, default="",
                                     help_text="confirmed and engaged only: what came of it (optional)")
    demographics = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, allow_null=True, default=None,
        help_text="'not a match' only, optional: the person's perceived demographics, as codes: "
                  + "; ".join(f"{name}: {', '.join(choices.values)}" for name, (choices, _) in DEMOGRAPHIC_FIELDS.items()))
    expected_version = serializers.IntegerField(min_value=1, help_text="the alert's version as last read")


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
