"""JSON shape of a subject access search and report (read-only; no image, embedding or file name)."""

from __future__ import annotations

from rest_framework import serializers

from watchlists.models import InclusionCategory, Subject


class SubjectAccessSubjectSerializer(serializers.Serializer):
    reference = serializers.CharField()
    name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=Subject.Status.choices)
    category = serializers.ChoiceField(choices=InclusionCategory.choices)
    reason = serializers.CharField()
    legal_basis = serializers.CharField()
    created_at = serializers.DateTimeField()
    review_date = serializers.DateField()
    expires_on = serializers.DateField()
    purged_at = serializers.DateTimeField(allow_null=True)


class SubjectAccessWatchlistSerializer(serializers.Serializer):
    watchlist_id = serializers.IntegerField()
    watchlist = serializers.CharField(source="watchlist.name")
    watchlist_status = serializers.CharField(source="watchlist.status")
    added_at = serializers.DateTimeField()


class SubjectAccessImageSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    image_source = serializers.CharField()
    capture_date = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    enrolled_at = serializers.DateTimeField(allow_null=True)


class SubjectAccessDeploymentSerializer(serializers.Serializer):
    deployment_id = serializers.IntegerField(source="deployment.pk")
    deployment = serializers.CharField(source="deployment.name")
    location = serializers.CharField(source="deployment.location")
    starts_at = serializers.DateTimeField(source="deployment.starts_at")
    ends_at = serializers.DateTimeField(source="deployment.ends_at")
    state = serializers.CharField(source="deployment.state")
    category = serializers.ChoiceField(source="entry.category", choices=InclusionCategory.choices)
    reason = serializers.CharField(help_text="the written reason when the watchlist was frozen (kept in the "
                                             "manifest); empty only for manifests older than that column")
    biometric_copy = serializers.CharField(source="biometric_copy_retention",
                                           help_text="whether the frozen embeddings are held, and until when")


class SubjectAccessAdjudicationSerializer(serializers.Serializer):
    kind = serializers.CharField()
    decision = serializers.CharField()
    outcome = serializers.CharField()
    decided_at = serializers.DateTimeField()


class SubjectAccessAlertSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="alert.pk")
    created_at = serializers.DateTimeField(source="alert.created_at")
    deployment_id = serializers.IntegerField(source="alert.deployment_id")
    deployment = serializers.CharField(source="alert.deployment.name")
    camera_location = serializers.CharField(source="alert.camera.location")
    score = serializers.FloatField(source="alert.score")
    threshold = serializers.FloatField(source="alert.threshold")
    status = serializers.CharField(source="alert.status")
    outcome = serializers.CharField(source="alert.outcome")
    case_reference = serializers.CharField(source="alert.case_reference")
    adjudications = SubjectAccessAdjudicationSerializer(source="alert.adjudications.all", many=True)
    deletion_due = serializers.DateTimeField(allow_null=True, help_text="null while linked to a case")


class SubjectAccessPersonSerializer(serializers.Serializer):
    subject_id = serializers.IntegerField()
    reference = serializers.CharField()
    name = serializers.CharField()
    names = serializers.ListField(child=serializers.CharField(), help_text="every name the records hold")
    subject = SubjectAccessSubjectSerializer(allow_null=True)
    biometric_retention = serializers.CharField()
    watchlist_entries = SubjectAccessWatchlistSerializer(many=True)
    images = SubjectAccessImageSerializer(many=True, help_text="reference images as metadata only")
    deployments = SubjectAccessDeploymentSerializer(many=True)
    alerts = SubjectAccessAlertSerializer(many=True)


class SubjectAccessResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    truncated = serializers.BooleanField(help_text="more people matched than returned: narrow the search")
    record_count = serializers.IntegerField()
    people = SubjectAccessPersonSerializer(many=True)


class SubjectAccessRowSerializer(serializers.Serializer):
    record = serializers.CharField()
    when = serializers.CharField()
    details = serializers.CharField()
    status = serializers.CharField()
    retention = serializers.CharField(help_text="when it was or will be deleted, or that it is kept")


class SubjectAccessReportSerializer(serializers.Serializer):
    person = SubjectAccessPersonSerializer()
    rows = SubjectAccessRowSerializer(many=True)
