"""Portal pages for subject access requests (oversight): search, printable report, CSV."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required
from core.downloads import csv_download
from core.views_errors import service_call
from oversight import subject_access as sar


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
@capability_required("search_subject_access")
def subject_access(request):
    """Search by reference or name across subjects, watchlists, deployment manifests and alerts (audited)."""
    search = request.GET.get("q", "")
    context = {"search": search.strip(), "result": None, "call": None, "min_length": sar.MIN_QUERY_LENGTH}
    status = 200
    if "q" in request.GET:
        with service_call() as call:
            context["result"] = sar.subject_access_search(user=request.user, query=search)
        if call.failed:
            context["call"], status = call, call.status
    return _no_store(render(request, "oversight/subject_access.html", context, status=status))


@require_GET
@capability_required("search_subject_access")
def subject_access_report(request, subject_id: int):
    """The printable report for one person (an audited export)."""
    person = sar.subject_access_report(user=request.user, subject_id=subject_id, export_format="html")
    return _no_store(render(request, "oversight/subject_access_report.html", {
        "person": person, "rows": sar.report_rows(person), "generated_at": timezone.now(),
        "alert_retention_days": settings.ALERT_RETENTION_DAYS,
        "snapshot_hours": settings.SNAPSHOT_DELETE_WITHIN_HOURS}))


@require_GET
@capability_required("search_subject_access")
def subject_access_report_csv(request, subject_id: int):
    person = sar.subject_access_report(user=request.user, subject_id=subject_id, export_format="csv")
    return csv_download(sar.report_csv(person), filename=f"subject-access-{subject_id}.csv", private=True)
