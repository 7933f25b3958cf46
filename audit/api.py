"""REST API for the audit log, for oversight bodies that automate their checks: the log's events with
the page's filters and keyset pages, one event with its integrity check, and the verifiable export.

Each view calls the selector or service the portal pages call (audit/views.py): the same permission
checks, the same audit events (opening one event and exporting are recorded, browsing is not).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from audit import serializers as s
from audit.chain import HASHED_FIELDS, HASHED_IF_SET
from audit.export import as_async, bundle_name, export_bundle
from audit.filters import AuditFilter
from audit.selectors import access_audit_event, audit_event_check, audit_event_page
from audit.services import audit_event_view_record, audit_export_record
from core.api import ApiView, errors

AUDIT = ["audit log"]
EVENT_FIELDS = (*HASHED_FIELDS, *HASHED_IF_SET, "hash")  # every column the JSON carries, loaded in the page's one query


class AuditEventListView(ApiView):
    required_capabilities = {"GET": ("view_audit_log",)}

    @extend_schema(tags=AUDIT, operation_id="audit_events_list",
                   summary="Audit events, newest first (keyset pages of 50; not audited)",
                   description="The audit log page's filters as query parameters, combined with AND. Follow "
                               "`next` for older events and `previous` for newer ones; there is no page number "
                               "and no total. Each event carries every field its hash covers, as hashed.",
                   parameters=[s.AuditEventQuerySerializer],
                   responses={200: s.AuditEventPageSerializer, **errors(400)})
    def get(self, request):
        query = s.AuditEventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data["filters"]
        page = audit_event_page(user=request.user, filters=filters, before=query.validated_data["before"],
                                after=query.validated_data["after"], fields=EVENT_FIELDS)
        return self.output(s.AuditEventPageSerializer, {
            "next": self._link(filters, before=page.older),
            "previous": self._link(filters, after=page.newer),
            "results": page.events,
        })

    def _link(self, filters: AuditFilter, **cursor: int | None) -> str | None:
        (name, value), = cursor.items()
        if value is None:
            return None
        query = "&".join(part for part in (filters.as_query_string(), urlencode({name: value})) if part)
        return self.request.build_absolute_uri(f"{reverse('api:audit-event-list')}?{query}")


class AuditEventDetailView(ApiView):
    required_capabilities = {"GET": ("view_audit_log",)}

    @extend_schema(tags=AUDIT, summary="One audit event with its integrity check (audited: audit.event_viewed)",
                   responses={200: s.AuditEventDetailSerializer, **errors(404)})
    def get(self, request, sequence: int):
        event = access_audit_event(user=request.user, sequence=sequence)
        audit_event_view_record(actor=request.user, event=event)
        return self.output(s.AuditEventDetailSerializer, {"event": event, "check": audit_event_check(event=event)})


class AuditExportView(ApiView):
    required_capabilities = {"POST": ("export_audit_log",)}

    def perform_content_negotiation(self, request, force=False):
        # The success answer is the zip; errors fall back to JSON whatever the Accept header asks.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(tags=AUDIT, summary="Export the selected events as a verifiable zip bundle (audited)",
                   description="The same bundle as the audit log page's export: the events (CSV or JSON Lines, "
                               "oldest first), manifest.json and verify_export.py, streamed. The export is "
                               "recorded (audit.exported) before the first byte is sent and covers the events up "
                               "to that record.",
                   request=s.AuditExportRequestSerializer,
                   parameters=[OpenApiParameter("Content-Disposition", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                                response=[200], description='attachment; filename="audit-export-'
                                                                            '<time>-<sequence>.zip"')],
                   responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY,
                                                                        description="the zip bundle"),
                              **errors(400)})
    def post(self, request):
        data = self.input(s.AuditExportRequestSerializer)
        filters, export_format = data["filters"], data["format"]
        export_event = audit_export_record(actor=request.user, filters=filters, export_format=export_format)
        chunks = export_bundle(filters=filters, export_format=export_format, export_event=export_event)
        is_asgi = isinstance(request._request, ASGIRequest)
        response = StreamingHttpResponse(as_async(chunks) if is_asgi else chunks, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{bundle_name(export_event=export_event)}"'
        response["Cache-Control"] = "no-store"
        return response
