from __future__ import annotations

from django import forms

from accounts.roles import Role
from audit.actions import AuditAction
from audit.filters import AuditFilter
from core.inputs import BIGINT_MAX

EXPORT_FORMATS = [("csv", "CSV"), ("jsonl", "JSON Lines")]


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(forms.Form):
    """The audit log's filters (GET) plus the keyset cursor (`before` / `after`, not shown as fields)."""

    date_from = forms.DateField(required=False, label="From", widget=DateInput)
    date_to = forms.DateField(required=False, label="To", widget=DateInput, help_text="Both days included")
    deployment = forms.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX, label="Deployment id")
    actor = forms.CharField(required=False, max_length=150, label="Actor (username)")
    role = forms.ChoiceField(required=False, label="Role at the time",
                             choices=[("", "any role")] + list(Role.choices))
    action = forms.CharField(required=False, max_length=64, label="Action",
                             widget=forms.TextInput(attrs={"list": "audit-actions"}),
                             help_text="Exact (alert.adjudicated), or a prefix ending in a dot (alert.)")
    target_type = forms.CharField(required=False, max_length=64, label="Object type",
                                  help_text="e.g. watchlists.subject")
    target_id = forms.CharField(required=False, max_length=64, label="Object id")
    before = forms.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, max_value=BIGINT_MAX, widget=forms.HiddenInput)

    # Offered as the action field's suggestions (a <datalist>): every event type, then every prefix.
    ACTIONS = tuple(sorted(AuditAction)) + tuple(sorted({f"{a.split('.')[0]}." for a in AuditAction}))
    FILTER_FIELDS = ("date_from", "date_to", "deployment", "actor", "role", "action", "target_type", "target_id")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end of the period is before its start.")
        if data.get("target_id") and not data.get("target_type"):
            self.add_error("target_type", "Give the object type with its id.")
        if data.get("before") is not None and data.get("after") is not None:
            raise forms.ValidationError("Ask for older or newer events, not both.")
        return data

    def filters(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            date_from=data.get("date_from"), date_to=data.get("date_to"), deployment_id=data.get("deployment"),
            actor=(data.get("actor") or "").strip(), role=data.get("role") or "",
            action=(data.get("action") or "").strip(), target_type=(data.get("target_type") or "").strip(),
            target_id=(data.get("target_id") or "").strip(),
        )

    def filter_fields(self):
        return [self[name] for name in self.FILTER_FIELDS]


class AuditExportForm(AuditFilterForm):
    """The same filters, posted with the format wanted."""

    format = forms.ChoiceField(choices=EXPORT_FORMATS, initial="csv", label="Format")
