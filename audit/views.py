"""The audit log for oversight: browse with filters (keyset pages), open one event, export a
verifiable bundle. Permissions are checked by the selectors and services; what a page hides is only
a courtesy."""

from __future__ import annotations

import json

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import capability_required, user_can
from audit.export import as_async, bundle_name, export_bundle
from audit.forms import AuditExportForm, AuditFilterForm
from audit.log_access import audit_event_view_record, audit_export_record
from audit.selectors import access_audit_event, audit_event_check, audit_event_page, audit_event_targets


def _log_page(request, form, *, status: int = 200, page=None):
    filters = form.filters() if form.is_bound and not form.errors else None
    targets = audit_event_targets(user=request.user, events=page.events) if page else {}
    return render(request, "audit/log.html", {
        "form": form, "page": page, "filters": filters,
        "rows": [(event, targets.get(event.sequence)) for event in page.events] if page else [],
        "query": filters.as_query_string() if filters else "",
        "can_export": user_can(user=request.user, capability="export_audit_log"),
        "export_form": AuditExportForm(initial={"format": "csv"}),
        "format_errors": form.errors.get("format", []) if form.is_bound else [],
    }, status=status)


@require_GET
@capability_required("view_audit_log")
def audit_log(request):
    """Viewing and searching the list is not itself audited (docs/audit.md)."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _log_page(request, form, status=400)
    page = audit_event_page(user=request.user, filters=form.filters(), before=form.cleaned_data["before"],
                            after=form.cleaned_data["after"])
    return _log_page(request, form, page=page)


@require_GET
@capability_required("view_audit_log")
def audit_event_detail(request, sequence: int):
    event = access_audit_event(user=request.user, sequence=sequence)
    audit_event_view_record(actor=request.user, event=event)
    return render(request, "audit/event_detail.html", {
        "event": event, "check": audit_event_check(event=event),
        "target": audit_event_targets(user=request.user, events=[event]).get(event.sequence),
        "details_json": json.dumps(event.details, indent=2, sort_keys=True, ensure_ascii=False),
    })


@require_POST
@capability_required("export_audit_log")
def audit_export(request):
    form = AuditExportForm(request.POST)
    if not form.is_valid():
        return _log_page(request, form, status=400)
    filters, export_format = form.filters(), form.cleaned_data["format"]
    export_event = audit_export_record(actor=request.user, filters=filters, export_format=export_format)
    chunks = export_bundle(filters=filters, export_format=export_format, export_event=export_event)
    response = StreamingHttpResponse(as_async(chunks) if isinstance(request, ASGIRequest) else chunks,
                                     content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{bundle_name(export_event=export_event)}"'
    response["Cache-Control"] = "no-store"
    return response
