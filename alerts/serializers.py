"""API shapes of test walks (live testing with consenting test subjects). Input is checked for types only;
alerts.services.test_walk_record decides."""

from __future__ import annotations

from rest_framework import serializers

from alerts.models import TestWalk


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
