"""JSON shape of the audit log API: events as the chain hashes them, and the filters as input.

The filters' rules (a period that ends before it starts, an object id without its type, older and
newer at once) are the portal form's (audit/forms.py): the input serializers check the shape of each
value, then hand the values to that form, which builds the `AuditFilter`.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from accounts.roles import Role
from audit.chain import format_time
from audit.forms import EXPORT_FORMATS, AuditExportForm, AuditFilterForm
from core.inputs import BIGINT_MAX

# --- events ---------------------------------------------------------------------------------------

@extend_schema_field(OpenApiTypes.STR)
class ChainTimeField(serializers.Field):
    """A time exactly as the chain hashes it (audit.chain.format_time): UTC, microseconds, "Z"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return format_time(value)


class AuditEventSerializer(serializers.Serializer):
    """Every field the hash covers, as hashed, plus the hash: audit.chain.event_hash(<these but hash>)
    gives `hash`."""

    sequence = serializers.IntegerField()
    occurred_at = ChainTimeField(help_text="UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ, as hashed")
    actor_id = serializers.IntegerField(allow_null=True, help_text="null for the system")
    actor_username = serializers.CharField(allow_blank=True, help_text="as it was when the event was written")
    actor_roles = serializers.ListField(child=serializers.CharField(), help_text="the roles held at the time")
    action = serializers.CharField()
    target_type = serializers.CharField(allow_blank=True)
    target_id = serializers.CharField(allow_blank=True)
    deployment_id = serializers.IntegerField(allow_null=True)
    details = serializers.JSONField()
    client_ip = serializers.CharField(allow_null=True)
    prev_hash = serializers.CharField(help_text="the hash of the event before (64 zeros for the first)")
    channel = serializers.CharField(allow_blank=True, help_text="web, api, socket, task or command; empty in "
                                                                "events written before it was recorded")
    correlation_id = serializers.CharField(allow_blank=True, help_text="the request's X-Request-ID, the task's "
                                                                       "id...; empty when not recorded")
    hash = serializers.CharField(help_text="SHA-256 of the canonical JSON of the fields above (channel and "
                                           "correlation_id only when not empty)")


class AuditEventPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="the older events (?before=), null at the oldest")
    previous = serializers.URLField(allow_null=True, help_text="the newer events (?after=), null on the newest "
                                                               "page")
    results = AuditEventSerializer(many=True, help_text="newest first, at most 50")


class AuditEventCheckSerializer(serializers.Serializer):
    hash_matches = serializers.BooleanField(help_text="the stored content still gives the stored hash")
    links_to_previous = serializers.BooleanField(allow_null=True, help_text="prev_hash is the previous event's "
                                                                            "hash; null when that event is missing")


class AuditEventDetailSerializer(serializers.Serializer):
    event = AuditEventSerializer()
    check = AuditEventCheckSerializer(help_text="the two checks audit_verify makes, for this event")


# --- input ----------------------------------------------------------------------------------------

class AuditFilterSerializer(serializers.Serializer):
    """The audit log page's filters; every one optional, combined with AND."""

    form_class = AuditFilterForm
    ignored_names: tuple[str, ...] = ()

    date_from = serializers.DateField(required=False, help_text="first day of the period (portal's time zone)")
    date_to = serializers.DateField(required=False, help_text="last day of the period, included")
    deployment = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX,
                                          help_text="deployment id")
    actor = serializers.CharField(required=False, allow_blank=True, max_length=150,
                                  help_text="username as recorded at the time")
    role = serializers.ChoiceField(required=False, allow_blank=True, choices=Role.choices,
                                   help_text="a role the actor held at the time")
    action = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                   help_text="a known action (alert.adjudicated), or a kind's prefix ending in . "
                                             "(alert.), as the log page offers")
    target_type = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                        help_text="object type, e.g. watchlists.subject")
    target_id = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                      help_text="object id (needs target_type)")

    def validate(self, attrs: dict) -> dict:
        # A misspelt filter would otherwise be ignored and widen the selection without a word.
        unknown = sorted(set(self.initial_data) - set(self.fields) - set(self.ignored_names))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown parameter."] for name in unknown})
        form = self.form_class(data={name: value for name, value in attrs.items() if value is not None})
        if not form.is_valid():
            raise serializers.ValidationError({
                api_settings.NON_FIELD_ERRORS_KEY if name == "__all__" else name: list(messages)
                for name, messages in form.errors.items()})
        return {**form.cleaned_data, "filters": form.filters()}


class AuditEventQuerySerializer(AuditFilterSerializer):
    """The list's query parameters: the filters and one keyset cursor."""

    ignored_names = (api_settings.URL_FORMAT_OVERRIDE,)

    before = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX,
                                      help_text="events with a smaller sequence (older), from `next`")
    after = serializers.IntegerField(required=False, min_value=0, max_value=BIGINT_MAX,
                                     help_text="events with a larger sequence (newer), from `previous`")


class AuditExportRequestSerializer(AuditFilterSerializer):
    form_class = AuditExportForm

    format = serializers.ChoiceField(choices=EXPORT_FORMATS, help_text="csv or jsonl (JSON Lines)")
