"""REST API for the statistics: one deployment's figures and the monthly and yearly transparency reports.

The same selectors as the pages (reports.selectors), so the JSON carries the same figures; the serializers only
name them. Reading is not audited, like the pages; the CSV export is (reports.services).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema

from core.api import ApiView, errors
from reports import serializers as s
from reports.selectors import FIRST_YEAR, LAST_YEAR, deployment_statistics, period_statistics, report_period

REPORTS = ["reports"]
NOT_AUDITED = ("Reading the figures is not audited, like the report pages (they hold no personal data: no "
               "subject, watchlist reference or image); the CSV download from the portal is.")
PERIOD = ("Every deployment live at some time in the period, with what happened inside it (a deployment that "
          "ran over midnight at the month's end appears in both months with its part of each), then the totals "
          "and a series per day (a month) or per week (a year), in the portal's time zone. ")
YEAR = OpenApiParameter("year", int, OpenApiParameter.PATH, description=f"{FIRST_YEAR} to {LAST_YEAR}")
MONTH = OpenApiParameter("month", int, OpenApiParameter.PATH, description="1 to 12")


class DeploymentReportView(ApiView):
    required_capabilities = {"GET": ("view_statistics",)}

    @extend_schema(tags=REPORTS, operation_id="reports_deployment_retrieve", summary="One deployment's figures",
                   description="Time live, faces processed, alerts and their outcomes, the false alert rate "
                               "beside the one expected when authorised, decision times, engagements and "
                               "arrests (beside the post-deployment record), false alert demographics. "
                               + NOT_AUDITED,
                   responses={200: s.DeploymentStatisticsSerializer, **errors(404)})
    def get(self, request, deployment_id: int):
        return self.output(s.DeploymentStatisticsSerializer,
                           deployment_statistics(user=request.user, deployment_id=deployment_id))


class YearReportView(ApiView):
    required_capabilities = {"GET": ("view_statistics",)}

    @extend_schema(tags=REPORTS, operation_id="reports_year_retrieve",
                   summary="A year's transparency report", description=PERIOD + NOT_AUDITED,
                   parameters=[YEAR], responses={200: s.PeriodStatisticsSerializer, **errors(404)})
    def get(self, request, year: int):
        start, end, title = report_period(year=year)
        return self.output(s.PeriodStatisticsSerializer,
                           period_statistics(user=request.user, start=start, end=end, title=title))


class MonthReportView(ApiView):
    required_capabilities = {"GET": ("view_statistics",)}

    @extend_schema(tags=REPORTS, operation_id="reports_month_retrieve",
                   summary="A month's transparency report", description=PERIOD + NOT_AUDITED,
                   parameters=[YEAR, MONTH], responses={200: s.PeriodStatisticsSerializer, **errors(404)})
    def get(self, request, year: int, month: int):
        start, end, title = report_period(year=year, month=month)
        return self.output(s.PeriodStatisticsSerializer,
                           period_statistics(user=request.user, start=start, end=end, title=title))
