"""API shapes of watchlists, subjects, reference images and bulk imports.

Input serializers check types and required fields only; the rules (closed categories, under-18
justification, cap, two-person approval, image quality...) live in watchlists.services and come
back as 400s with the services' own words. No serializer ever returns an embedding or a file path.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Max
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from watchlists.ages import reference_image_too_old
from watchlists.models import BulkImport, InclusionCategory, Priority, ReferenceImage, Subject, WarningMarker, Watchlist
from watchlists.quality_words import face_box, quality_figures
from watchlists.selectors import reference_image_quality_summary, subject_category_problems


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


class _UsernameField(serializers.CharField):
    """A user as their username (read only)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return _username(value)


def _absolute(request, name: str, pk: int) -> str:
    url = reverse(name, kwargs={"pk": pk})
    return request.build_absolute_uri(url) if request is not None else url


def _within_image_limit(upload):
    limit = settings.REFERENCE_IMAGE_MAX_BYTES
    if upload.size > limit:
        raise serializers.ValidationError(f"the file is {upload.size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB")
    return upload


# --- watchlists ---------------------------------------------------------------------------------

class WatchlistSerializer(serializers.ModelSerializer):
    compiled_by = _UsernameField()
    approved_by = _UsernameField()
    subject_count = serializers.SerializerMethodField()

    class Meta:
        model = Watchlist
        fields = ["id", "name", "purpose", "status", "compiled_by", "approved_by", "approved_at", "reviewed_at",
                  "created_at", "updated_at", "version", "subject_count"]
        read_only_fields = fields

    def get_subject_count(self, watchlist) -> int:
        count = getattr(watchlist, "subject_count", None)  # annotated by watchlist_list()
        return count if count is not None else watchlist.entries.count()


class WatchlistCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    purpose = serializers.CharField()


class WatchlistSubjectsAddSerializer(serializers.Serializer):
    subject_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1,
                                        max_length=10_000)
    expected_version = serializers.IntegerField(min_value=1, help_text="the watchlist's version as last read")


class WatchlistSubjectsAddedSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="subjects newly added (those already on the list are skipped)")
    watchlist = WatchlistSerializer()


class WatchlistApproveSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        min_value=1, help_text="the version the approver reviewed: a list changed since then is not approved")
    unenrolled_acknowledged = serializers.BooleanField(
        required=False, default=False,
        help_text="required (true) when subjects on the list have no image enrolled with the current model: "
                  "they are left out of any snapshot and will not be matched")


class ReasonsSerializer(serializers.Serializer):
    reasons = serializers.CharField(help_text="why (recorded in the audit log)")


class WatchlistReviewSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- subjects -----------------------------------------------------------------------------------

SUBJECT_FIELDS = ["id", "reference", "name", "date_of_birth", "under_18_justification", "category", "reason",
                  "legal_basis", "exceptional_justification", "priority", "warning_markers",
                  "engagement_instructions", "added_by", "created_at", "updated_at", "review_date", "expires_on",
                  "status", "purged_at", "version", "enrolled_images", "image_taken_on", "image_too_old",
                  "category_rule_problems"]

_MARKERS_HELP = "codes from the closed list: " + ", ".join(WarningMarker.values)
_INSTRUCTIONS_HELP = "what to do on a confirmed match; shown on every alert (some categories require it)"
_EXCEPTIONAL_HELP = "required for a victim, witness or close associate (victim_witness_associate)"


class SubjectSerializer(serializers.ModelSerializer):
    added_by = _UsernameField()
    enrolled_images = serializers.SerializerMethodField()
    warning_markers = serializers.ListField(child=serializers.ChoiceField(choices=WarningMarker.choices),
                                            read_only=True, help_text=_MARKERS_HELP)
    image_taken_on = serializers.SerializerMethodField(
        help_text="when the newest enrolled reference photo was taken (its capture date); null if unknown")
    category_rule_problems = serializers.SerializerMethodField(
        help_text="the category rules this entry breaks as stored (written before a rule changed): fix them before "
                  "a watchlist holding it can be approved; empty when none")
    image_too_old = serializers.SerializerMethodField(
        help_text=f"that photo is at least REFERENCE_IMAGE_WARN_AGE_YEARS ({settings.REFERENCE_IMAGE_WARN_AGE_YEARS}) "
                  f"years old")

    class Meta:
        model = Subject
        fields = SUBJECT_FIELDS
        read_only_fields = fields

    def get_enrolled_images(self, subject) -> int:
        count = getattr(subject, "enrolled_images", None)  # annotated by subject_list()
        if count is None:
            count = subject.images.filter(status=ReferenceImage.Status.ENROLLED).count()
        return count

    def get_image_taken_on(self, subject) -> dt.date | None:
        if hasattr(subject, "latest_image_taken_on"):  # annotated by subject_list()
            return subject.latest_image_taken_on
        return (subject.images.filter(status=ReferenceImage.Status.ENROLLED)
                .aggregate(taken=Max("capture_date"))["taken"])

    def get_category_rule_problems(self, subject) -> list[str]:
        return subject_category_problems(subject=subject)

    def get_image_too_old(self, subject) -> bool:
        return reference_image_too_old(self.get_image_taken_on(subject))


class SubjectCreateSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=64, help_text="PNC number or case id")
    name = serializers.CharField(max_length=200)
    category = serializers.ChoiceField(choices=InclusionCategory.choices)
    reason = serializers.CharField(help_text="the written reason for inclusion")
    legal_basis = serializers.CharField(max_length=300)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    under_18_justification = serializers.CharField(required=False, allow_blank=True, default="",
                                                   help_text="required when the subject is under 18")
    exceptional_justification = serializers.CharField(required=False, allow_blank=True, default="",
                                                      help_text=_EXCEPTIONAL_HELP)
    warning_markers = serializers.ListField(child=serializers.ChoiceField(choices=WarningMarker.choices),
                                            required=False, default=list, max_length=len(WarningMarker.values),
                                            help_text=_MARKERS_HELP)
    engagement_instructions = serializers.CharField(required=False, allow_blank=True, default="",
                                                    help_text=_INSTRUCTIONS_HELP)
    review_date = serializers.DateField(required=False, allow_null=True, default=None,
                                        help_text=f"default: {settings.SUBJECT_REVIEW_DAYS} days from today")
    expires_on = serializers.DateField(required=False, allow_null=True, default=None,
                                       help_text=f"default: {settings.SUBJECT_RETENTION_DAYS} days from today")
    watchlist = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                         help_text="id of a watchlist to put the subject on (it returns to draft)")
    watchlist_version = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1,
        help_text="the watchlist's version as last read: a list changed since is refused (409); empty: not checked")


class SubjectCreateWithImageSerializer(SubjectCreateSerializer):
    image = serializers.FileField(required=False, allow_null=True, default=None,
                                  help_text="a face photo (JPEG or PNG), enrolled in the background")
    image_source = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                         help_text="e.g. custody image reference; required with an image")
    capture_date = serializers.DateField(required=False, allow_null=True, default=None)
    use_largest_face = serializers.BooleanField(required=False, default=False,
                                                help_text="enrol the largest face of a multi-face photo")

    def validate_image(self, upload):
        return _within_image_limit(upload) if upload else upload


class SubjectUpdateSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(min_value=1, help_text="the subject's version as last read")
    name = serializers.CharField(max_length=200, required=False)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    under_18_justification = serializers.CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=InclusionCategory.choices, required=False)
    reason = serializers.CharField(required=False)
    legal_basis = serializers.CharField(max_length=300, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    review_date = serializers.DateField(required=False)
    expires_on = serializers.DateField(required=False)
    exceptional_justification = serializers.CharField(required=False, allow_blank=True, help_text=_EXCEPTIONAL_HELP)
    warning_markers = serializers.ListField(child=serializers.ChoiceField(choices=WarningMarker.choices),
                                            required=False, max_length=len(WarningMarker.values),
                                            help_text=_MARKERS_HELP + " (the whole list: it replaces the old one)")
    engagement_instructions = serializers.CharField(required=False, allow_blank=True, help_text=_INSTRUCTIONS_HELP)

    def validate(self, attrs):
        if len(attrs) == 1:
            raise serializers.ValidationError("give at least one field to change")
        return attrs


# --- reference images ---------------------------------------------------------------------------

class ReferenceImageSerializer(serializers.ModelSerializer):
    """Status, quality and reasons of one image. Never the embedding, never where the file is kept."""

    subject = serializers.PrimaryKeyRelatedField(read_only=True)
    subject_reference = serializers.CharField(source="subject.reference", read_only=True)
    uploaded_by = _UsernameField()
    duplicate_of = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                      help_text="id of the subject this image looks like")
    refusal_reasons = serializers.ListField(child=serializers.CharField(), read_only=True,
                                            help_text="why the image was refused, in words")
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    quality = serializers.SerializerMethodField(
        help_text="the raw figures: detector score, inter-ocular distance (px), sharpness, pose (degrees)...")
    quality_summary = serializers.SerializerMethodField(
        help_text="the same figures in words, against the enrolment standard's limits")
    face_box = serializers.SerializerMethodField(
        help_text="the enrolled face's box [x1, y1, x2, y2] in image pixels (null before enrolment decides)")
    url = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = ReferenceImage
        fields = ["id", "url", "file_url", "subject", "subject_reference", "status", "refusal_reasons", "warnings",
                  "quality", "quality_summary", "face_box", "face_count", "use_largest_face", "width", "height",
                  "image_source", "capture_date",
                  "original_name", "sha256", "model_id", "duplicate_of", "duplicate_score", "uploaded_by",
                  "created_at", "enrolled_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=serializers.FloatField()))
    def get_quality(self, image) -> dict[str, float]:
        return quality_figures(image.quality)

    def get_quality_summary(self, image) -> list[str]:
        return reference_image_quality_summary(image=image)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField(), min_length=4, max_length=4,
                                               allow_null=True))
    def get_face_box(self, image) -> list[int] | None:
        box = face_box(image.quality)
        return list(box) if box is not None else None

    def get_url(self, image) -> str:
        return _absolute(self.context.get("request"), "api:reference-image-detail", image.pk)

    def get_file_url(self, image) -> str:
        return _absolute(self.context.get("request"), "api:reference-image-file", image.pk)


class ReferenceImageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="the face photo (JPEG or PNG)")
    image_source = serializers.CharField(max_length=200, help_text="e.g. custody image reference")
    capture_date = serializers.DateField(required=False, allow_null=True, default=None)
    use_largest_face = serializers.BooleanField(required=False, default=False,
                                                help_text="enrol the largest face of a multi-face photo")

    def validate_file(self, upload):
        return _within_image_limit(upload)


class DuplicateConfirmSerializer(serializers.Serializer):
    justification = serializers.CharField(help_text="why this image is enrolled although it looks like another subject")


# --- bulk imports -------------------------------------------------------------------------------

class BulkImportStartSerializer(serializers.Serializer):
    csv = serializers.FileField(help_text="one row per subject: reference, name, category, reason, legal_basis, image "
                                          "(+ optional date_of_birth, priority, under_18_justification, image_source, "
                                          "capture_date, review_date, expires_on, warning_markers (codes separated "
                                          "by ';'), engagement_instructions, exceptional_justification, "
                                          "use_largest_face: yes/no); a row with the template's example reference "
                                          "EXAMPLE-1 is refused")
    images = serializers.FileField(help_text="zip archive holding the images the CSV names")


BULK_IMPORT_ROW_STATUSES = ["enrolled", "refused", "duplicate", "error"]


class BulkImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="line in the CSV (the header is line 1)")
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=BULK_IMPORT_ROW_STATUSES)
    detail = serializers.CharField(allow_blank=True)
    subject_id = serializers.IntegerField(allow_null=True)


class BulkImportSerializer(serializers.ModelSerializer):
    created_by = _UsernameField()
    report = BulkImportRowSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = BulkImport
        fields = ["id", "url", "watchlist", "status", "created_by", "created_at", "finished_at", "total_rows",
                  "processed_rows", "enrolled", "refused", "duplicates", "error", "report"]
        read_only_fields = fields

    def get_url(self, job) -> str:
        return _absolute(self.context.get("request"), "api:import-detail", job.pk)

