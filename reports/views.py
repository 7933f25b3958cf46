from __future__ import annotations

import calendar

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required
from core.downloads import csv_download
from reports import charts
from reports.selectors import (
    deployment_statistics,
    deployments_with_statistics,
    period_statistics,
    report_months,
    report_period,
)
from reports.services import statistics_csv_export

DEPLOYMENTS_PER_PAGE = 25


@require_GET
@capability_required("view_statistics")
def index(request):
    months = report_months(user=request.user)
    page = Paginator(deployments_with_statistics(user=request.user), DEPLOYMENTS_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "reports/index.html", {"months": months, "page": page})


@require_GET
@capability_required("view_statistics")
def deployment_report(request, deployment_id: int):
    stats = deployment_statistics(user=request.user, deployment_id=deployment_id)
    return render(request, "reports/deployment.html", {
        "stats": stats, "figures": stats.figures,
        "outcomes_chart": charts.outcomes_chart(stats.figures.outcomes, title="Outcomes of this deployment's alerts"),
    })


@require_GET
@capability_required("view_statistics")
def deployment_csv(request, deployment_id: int):
    stats = deployment_statistics(user=request.user, deployment_id=deployment_id)
    content = statistics_csv_export(actor=request.user, report=stats)
    return csv_download(content, filename=f"deployment-{stats.deployment.id}-statistics.csv")


def _neighbours(year: int, month: int | None) -> dict:
    """Links to the periods either side (and, from a year, to its months); none into the future."""
    today = timezone.localdate()
    if month is None:
        months = [(year, m, calendar.month_name[m]) for m in range(1, 13) if (year, m) <= (today.year, today.month)]
        return {"previous": (year - 1,), "next": (year + 1,) if year < today.year else None, "months": months}
    previous = (year - 1, 12) if month == 1 else (year, month - 1)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return {"previous": previous, "next": following if following <= (today.year, today.month) else None,
            "months": []}


@require_GET
@capability_required("view_statistics")
def period_report(request, year: int, month: int | None = None):
    start, end, title = report_period(year=year, month=month)
    report = period_statistics(user=request.user, start=start, end=end, title=title)
    return render(request, "reports/period.html", {
        "report": report, "figures": report.totals, "year": year, "month": month, **_neighbours(year, month),
        "series_chart": charts.series_chart(report.series, step=report.step,
                                            title=f"Alerts and false alerts per {report.step}, {title}"),
        "outcomes_chart": charts.outcomes_chart(report.totals.outcomes, title=f"Outcomes of alerts, {title}"),
    })


@require_GET
@capability_required("view_statistics")
def period_csv(request, year: int, month: int | None = None):
    start, end, title = report_period(year=year, month=month)
    report = period_statistics(user=request.user, start=start, end=end, title=title)
    content = statistics_csv_export(actor=request.user, report=report)
    return csv_download(content, filename=f"lfr-figures-{year}{f'-{month:02d}' if month else ''}.csv")
