"""Forms of the deployment pages: they parse input only; every rule lives in the services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, Value, When
from django.utils.functional import lazy

from deployments.camera_sources import camera_sources_help
from deployments.models import Camera, Deployment, DocumentKind, Purpose
from deployments.selectors import assignable_officers, camera_list
from deployments.services import DEPLOYMENT_EDITABLE_FIELDS
from watchlists.models import Watchlist
from watchlists.selectors import watchlist_list

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


class DateTimeLocalField(forms.DateTimeField):
    """A datetime-local input: minutes precision, so an untouched value does not count as changed."""

    widget = DateTimeLocalInput

    def has_changed(self, initial, data) -> bool:
        try:
            data = self.to_python(data)
        except forms.ValidationError:
            return True
        if initial is None or data is None:
            return initial != data
        return initial.replace(second=0, microsecond=0) != data.replace(second=0, microsecond=0)


class CameraChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, camera: Camera) -> str:
        return f"{camera.name}: {camera.location}" + ("" if camera.enabled else " (disabled)")


class WatchlistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, watchlist: Watchlist) -> str:
        return f"{watchlist.name} ({watchlist.get_status_display().lower()}, {watchlist.subject_count} subjects)"


class OfficerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user) -> str:
        full = user.get_full_name()
        return f"{full} ({user.username})" if full else user.username


def officers_queryset():
    """The people who can receive a deployment's alerts (deployments.policies.is_assignable_officer)."""
    return assignable_officers()


class DeploymentForm(forms.Form):
    name = forms.CharField(max_length=Deployment._meta.get_field("name").max_length)
    purpose = forms.ChoiceField(choices=Purpose.choices)
    location = forms.CharField(max_length=Deployment._meta.get_field("location").max_length)
    location_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Why this location",
                                      help_text="Link the location to the watchlist: why these people are expected here.")
    starts_at = DateTimeLocalField(label="Starts",
                                    help_text=f"Local time ({settings.TIME_ZONE}).")
    ends_at = DateTimeLocalField(label="Ends",
                                  help_text=f"At most {settings.DEPLOYMENT_MAX_HOURS} hours after the start.")
    cameras = CameraChoiceField(queryset=Camera.objects.none(), widget=forms.SelectMultiple(attrs={"size": 6}),
                                help_text="Hold Ctrl (\u2318 on a Mac) to choose several.")
    watchlist = WatchlistChoiceField(queryset=Watchlist.objects.none(),
                                     help_text="Approved watchlists are listed first; only an approved, recently "
                                               "reviewed watchlist can be authorised.")
    threshold = forms.FloatField(
        initial=settings.DEPLOYMENT_DEFAULT_THRESHOLD,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1",
                                        "data-floor": f"{settings.DEPLOYMENT_THRESHOLD_FLOOR:.2f}"}),
        help_text=f"Similarity needed for an alert. The floor is {settings.DEPLOYMENT_THRESHOLD_FLOOR:.2f}: a "
                  f"deployment below it cannot be authorised. Default {settings.DEPLOYMENT_DEFAULT_THRESHOLD:.2f}.")
    necessity_statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                                          label="Necessity and proportionality statement")
    dpia_reference = forms.CharField(max_length=Deployment._meta.get_field("dpia_reference").max_length,
                                     label="DPIA reference")
    signage_confirmed = forms.BooleanField(required=False, label="Signage is in place on every approach")
    public_notice_confirmed = forms.BooleanField(required=False, label="The public notice has been published")
    officers = OfficerChoiceField(queryset=get_user_model().objects.none(), required=False,
                                  widget=forms.SelectMultiple(attrs={"size": 6}), label="Assigned officers",
                                  help_text="They receive this deployment's alerts on their live page. Hold Ctrl "
                                            "(\u2318 on a Mac) to choose several.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cameras"].queryset = camera_list(user=user)
        self.fields["watchlist"].queryset = watchlist_list(user=user).order_by(
            Case(When(status=Watchlist.Status.APPROVED, then=Value(0)), default=Value(1), output_field=IntegerField()),
            "name", "pk")
        self.fields["officers"].queryset = officers_queryset()

    def create_values(self) -> dict:
        return dict(self.cleaned_data)

    @staticmethod
    def initial_for(deployment: Deployment) -> dict:
        initial = {name: getattr(deployment, name) for name in DEPLOYMENT_EDITABLE_FIELDS}
        return initial | {"cameras": list(deployment.cameras.all()), "officers": list(deployment.officers.all()),
                          "version": deployment.version}


class DeploymentEditForm(DeploymentForm):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def changes(self) -> dict:
        """Only the fields the planner changed (cameras and officers are passed on their own)."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in DEPLOYMENT_EDITABLE_FIELDS}

    def changed_cameras(self):
        return list(self.cleaned_data["cameras"]) if "cameras" in self.changed_data else None

    def changed_officers(self):
        return list(self.cleaned_data["officers"]) if "officers" in self.changed_data else None


class ReasonsForm(forms.Form):
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AuthoriseForm(ReasonsForm):
    # The key of the expected false alert figure the page showed: the service refuses if it has changed.
    calibration = forms.CharField(widget=forms.HiddenInput, required=False)
    # The same for the document versions the page listed (deployments.selectors.documents_key).
    documents = forms.CharField(widget=forms.HiddenInput, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class OfficersForm(forms.Form):
    officers = OfficerChoiceField(queryset=get_user_model().objects.none(), required=False,
                                  widget=forms.SelectMultiple(attrs={"size": 6}), label="Assigned officers")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officers"].queryset = officers_queryset()


class PostDeploymentForm(forms.Form):
    outcomes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                               help_text="What happened: engagements, arrests, lessons, complaints.")
    engagements = forms.IntegerField(initial=0, help_text="People engaged by officers after an alert.")
    arrests = forms.IntegerField(initial=0)


class CameraForm(forms.Form):
    name = forms.CharField(max_length=Camera._meta.get_field("name").max_length)
    source_url = forms.CharField(max_length=Camera._meta.get_field("source_url").max_length, label="Source",
                                 help_text=lazy(lambda: f"{camera_sources_help()}. Percent-encode a password's "
                                                        f"special characters (@ as %40, # as %23).", str)())
    location = forms.CharField(max_length=Camera._meta.get_field("location").max_length)
    enabled = forms.BooleanField(required=False, initial=True)


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label="Document", choices=DocumentKind.choices)
    file = forms.FileField(label="PDF file", widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
                           help_text=lazy(lambda: f"A PDF, not password-protected, of at most "
                                                  f"{settings.DEPLOYMENT_DOCUMENT_MAX_BYTES / 1e6:.0f} MB. A new upload "
                                                  f"adds a version; earlier versions are kept.", str)())


class UrgentStartForm(forms.Form):
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
