"""Forms of the watchlist pages: they parse input only; every rule lives in the services."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings

from watchlists.bulk_import import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from watchlists.models import InclusionCategory, Priority, ReferenceImage, Subject, WarningMarker, Watchlist

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WatchlistForm(forms.Form):
    name = forms.CharField(max_length=Watchlist._meta.get_field("name").max_length)
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Why the watchlist exists: the operation, crime series or risk it serves.")


class VersionForm(forms.Form):
    """The version the user saw, for optimistic locking."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ApproveForm(VersionForm):
    """The approval page's decision. ``confirmed`` is checked by the view: the service takes the decision."""

    confirmed = forms.BooleanField(required=False, label="I have checked each subject's image, category, reason, "
                                                          "warning markers and engagement instructions")
    unenrolled_acknowledged = forms.BooleanField(
        required=False, label="I understand the subjects listed without an enrolled image will not be matched")


class ReturnWatchlistForm(forms.Form):
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                              help_text="What the compiler must change before it is submitted again.")


class ReviewWatchlistForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                           help_text="Why the watchlist is still necessary and proportionate.")


class AddSubjectsForm(VersionForm):
    references = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "PNC-01/123456A\nCASE-2026-0042"}),
        help_text="Subject references (PNC number or case id), one per line or separated by commas.")

    def clean_references(self) -> list[str]:
        references = [r.strip() for r in re.split(r"[\n,;]+", self.cleaned_data["references"]) if r.strip()]
        if not references:
            raise forms.ValidationError("give at least one subject reference")
        return list(dict.fromkeys(references))  # keep the order, drop repeats


class SubjectFieldsForm(forms.Form):
    """The editable fields of a subject (all of them but the reference)."""

    name = forms.CharField(max_length=Subject._meta.get_field("name").max_length)
    date_of_birth = forms.DateField(required=False, widget=DATE_WIDGET)
    under_18_justification = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Under-18 justification",
        help_text="Required when the subject is under 18: the additional reason a child is included.")
    category = forms.ChoiceField(choices=InclusionCategory.choices, label="Inclusion category",
                                 help_text="The closed list of the College of Policing APP: no other categories.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Written reason",
                             help_text="Why this person is on a watchlist (offence, warrant, risk), with references.")
    legal_basis = forms.CharField(max_length=Subject._meta.get_field("legal_basis").max_length,
                                  help_text="e.g. warrant number, PACE s.24, Mental Health Act s.136.")
    exceptional_justification = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Exceptional justification",
        help_text="Required for a victim, witness or close associate: why they must be located this way.")
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.MEDIUM)
    warning_markers = forms.MultipleChoiceField(
        choices=WarningMarker.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="What an officer must know before engaging; shown on every alert.")
    engagement_instructions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What to do on a confirmed match (the warrant to execute, the conditions to check, the "
                  "safeguarding contact); shown on every alert.")
    review_date = forms.DateField(required=False, widget=DATE_WIDGET,
                                  help_text=f"Empty: {settings.SUBJECT_REVIEW_DAYS} days from today, or the "
                                            f"category's shortest review interval.")
    expires_on = forms.DateField(required=False, widget=DATE_WIDGET, label="Expiry",
                                 help_text=f"Images and embeddings are deleted on this date. Empty: "
                                           f"{settings.SUBJECT_RETENTION_DAYS} days from today, or the category's "
                                           f"longest retention if shorter.")

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name in SubjectFieldsForm.base_fields}


class ImageFieldsMixin(forms.Form):
    image = forms.FileField(required=False, label="Reference image",
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
                            help_text="A recent, frontal photo of the subject's face (JPEG or PNG).")
    image_source = forms.CharField(required=False, max_length=ReferenceImage._meta.get_field("image_source").max_length,
                                   help_text="Where the photo comes from, e.g. custody image reference CUS/2026/1182.")
    capture_date = forms.DateField(required=False, widget=DATE_WIDGET, help_text="When the photo was taken.")
    use_largest_face = forms.BooleanField(required=False, label="Enrol the largest face if the photo shows several",
                                          help_text="Otherwise a photo with several faces is refused.")

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        # A transport guard like max_length, so a huge upload is not read into memory; the service
        # checks the size again together with everything else.
        if upload and upload.size > settings.REFERENCE_IMAGE_MAX_BYTES:
            raise forms.ValidationError(f"the file is {upload.size / 1e6:.1f} MB; the limit is "
                                        f"{settings.REFERENCE_IMAGE_MAX_BYTES / 1e6:.0f} MB")
        return upload

    def image_values(self) -> dict | None:
        """The arguments of reference_image_add, or None when no file was chosen."""
        upload = self.cleaned_data.get("image")
        if not upload:
            return None
        return {"data": upload.read(), "original_name": upload.name or "",
                "image_source": self.cleaned_data["image_source"], "capture_date": self.cleaned_data["capture_date"],
                "use_largest_face": self.cleaned_data["use_largest_face"]}


class SubjectCreateForm(SubjectFieldsForm, ImageFieldsMixin):
    reference = forms.CharField(max_length=Subject._meta.get_field("reference").max_length,
                                help_text="PNC number or case id; unique.")
    watchlist = forms.IntegerField(required=False, widget=forms.HiddenInput)

    field_order = ["reference", "name", "date_of_birth", "under_18_justification", "category", "reason",
                   "legal_basis", "exceptional_justification", "priority", "warning_markers",
                   "engagement_instructions", "review_date", "expires_on", "image", "image_source", "capture_date",
                   "use_largest_face"]


class SubjectEditForm(SubjectFieldsForm, VersionForm):
    @classmethod
    def initial_for(cls, subject: Subject) -> dict:
        return {name: getattr(subject, name) for name in SubjectFieldsForm.base_fields} | {"version": subject.version}

    def changes(self) -> dict:
        """Only what the user changed, so the audit event names the fields that really changed."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in SubjectFieldsForm.base_fields}


class ImageAddForm(ImageFieldsMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].required = True
        self.fields["image_source"].required = True


class ConfirmDuplicateForm(forms.Form):
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                    help_text="Why this image is this subject despite looking like the other "
                                              "(e.g. twins, a known alias).")


class BulkImportForm(forms.Form):
    csv_file = forms.FileField(label="Subjects (CSV)", widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
                               help_text="One row per subject; columns: " + ", ".join(REQUIRED_COLUMNS)
                                         + " (required), " + ", ".join(OPTIONAL_COLUMNS) + " (optional).")
    zip_file = forms.FileField(label="Images (zip)", widget=forms.ClearableFileInput(attrs={"accept": ".zip"}),
                               help_text="The photos named in the CSV's image column (several: separate with ';').")
