from __future__ import annotations

from django import forms

from accounts.roles import Role
from audit.actions import AuditAction
from audit.filters import AuditFilter
from core.inputs import BIGINT_MAX

EXPORT_FORMATS = [("csv", "CSV"), ("jsonl", "JSON Lines")]


# How the select names the kinds of event (the part of the action before its dot), where its words are not enough.
ACTION_GROUPS = {"auth": "Sign-in", "mfa": "MFA", "audit": "Audit log", "role": "Role permissions"}


def _group_label(prefix: str) -> str:
    return ACTION_GROUPS.get(prefix, prefix.replace("_", " ").capitalize())


def action_label(action: str) -> str:
    """alert.case_linked: "Alert: case linked"."""
    prefix, _, rest = action.partition(".")
    return f"{_group_label(prefix)}: {rest.replace('_', ' ')}"


def action_choices() -> list:
    """The known actions (audit.actions.AuditAction) in groups of a kind, each group led by "every event" of it."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for action in AuditAction:
        groups.setdefault(action.value.partition(".")[0], []).append((action.value, action_label(action.value)))
    return [("", "any action"), *((_group_label(prefix), [(f"{prefix}.", f"{_group_label(prefix)}: every event"),
                                                          *members])
                                  for prefix, members in groups.items())]


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
    action = forms.ChoiceField(required=False, label="Action", choices=action_choices,
                               error_messages={"invalid_choice": "Unknown action “%(value)s”: choose one from the "
                                                                 "list."},
                               help_text="One kind of event, or every event of a kind")
    target_type = forms.CharField(required=False, max_length=64, label="Object type",
                                  help_text="e.g. watchlists.subject")
    target_id = forms.CharField(required=False, max_length=64, label="Object id")
    before = forms.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, max_value=BIGINT_MAX, widget=forms.HiddenInput)

    # Every value the action field takes: each event type, then each prefix.
    ACTIONS = tuple(AuditAction) + tuple(dict.fromkeys(f"{a.split('.')[0]}." for a in AuditAction))
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
