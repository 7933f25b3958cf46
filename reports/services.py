"""Exports of the statistics: audited like every other export, though they hold no personal data."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING

from django.db import transaction

from accounts.permissions import require_capability
from audit.actions import AuditAction
from audit.services import audit_record
from core.downloads import spreadsheet_safe
from recognition.evaluation.groups import REFERENCE_TO_OFFICER
from reports.figures import DemographicComparison, DeploymentStatistics, Figures, LiveTest, PeriodStatistics

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TOTALS_LABEL = "All deployments"
def _minutes(value: dt.timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 60:.1f}"


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


# The columns about the deployment itself, before its figures; the totals row leaves them blank.
DEPLOYMENT_COLUMNS = (
    "deployment_id", "deployment", "location", "purpose", "went_live", "ended", "threshold",
    "expected_false_alerts_per_1000_faces", "expected_false_alerts_per_1000_faces_upper_95",
    "expected_false_alerts_per_1000_passersby", "expected_false_alerts_per_1000_passersby_upper_95",
    "post_record_engagements", "post_record_arrests",
)


def _header(figures: Figures) -> list[str]:
    return [
        *DEPLOYMENT_COLUMNS, "hours_live", "cameras", "watchlist_size", "faces_processed", "tracks", "alerts",
        "confirmed", "false_alerts", "cannot_tell", "pending",
        "false_alerts_per_1000_faces", "false_alerts_per_1000_tracks", "false_alerts_percent_of_decided",
        "median_minutes_to_decision",
        "p90_minutes_to_decision", "engagements", "false_alert_engagements", "stops", "stops_timed",
        "stop_minutes_total", "stop_minutes_median", "arrests",
        *(f"result_{c.code or 'not_recorded'}" for c in figures.results.counts),
        *(f"false_alerts_{b.field}_{c.code or 'not_recorded'}" for b in figures.false_alert_demographics
          for c in b.counts),
        *(f"alerts_category_{c.code or 'not_recorded'}" for c in figures.alerts_by_category.counts),
        *(f"arrests_category_{c.code or 'not_recorded'}" for c in figures.arrests_by_category.counts),
        *(f"results_category_{b.field or 'not_recorded'}_{c.code or 'not_recorded'}"
          for b in figures.results_by_category for c in b.counts),
    ]


def _figures_row(figures: Figures) -> list[str]:
    share = None if figures.false_alert_share is None else figures.false_alert_share * 100
    return [
        f"{figures.time_live.total_seconds() / 3600:.2f}", str(figures.cameras), _number(figures.watchlist_size, 0),
        str(figures.faces), str(figures.tracks), str(figures.alerts), str(figures.outcomes.confirmed),
        str(figures.false_alerts), str(figures.outcomes.cannot_tell), str(figures.outcomes.pending),
        _number(figures.false_alerts_per_1000_faces, 4), _number(figures.false_alerts_per_1000_tracks, 4),
        _number(share, 1),
        _minutes(figures.decision_time_median), _minutes(figures.decision_time_p90),
        str(figures.engagements), str(figures.false_alert_engagements), str(figures.stops), str(figures.stops_timed),
        str(figures.stop_minutes_total), _number(figures.stop_minutes_median, 1), str(figures.arrests),
        *(str(c.count) for c in figures.results.counts),
        *(str(c.count) for b in figures.false_alert_demographics for c in b.counts),
        *(str(c.count) for c in figures.alerts_by_category.counts),
        *(str(c.count) for c in figures.arrests_by_category.counts),
        *(str(c.count) for b in figures.results_by_category for c in b.counts),
    ]


# Then the false alerts' recorded demographics against the expected spread (reports.selectors
# demographic_comparison): a fixed set of columns, blank where a deployment had no per-group figures.
SPREAD_COLUMNS = tuple(
    column for field, (_, mapping) in REFERENCE_TO_OFFICER.items()
    for column in (*(f"expected_share_{field}_{group}" for group in mapping), f"spread_p_value_{field}"))


def _spread_row(comparisons: tuple[DemographicComparison, ...]) -> list[str]:
    by_field = {c.field: c for c in comparisons}
    out = []
    for field, (_, mapping) in REFERENCE_TO_OFFICER.items():
        comparison = by_field.get(field)
        shares = {row.group: row.expected_share for row in comparison.rows} if comparison else {}
        out += [_number(shares.get(group), 4) for group in mapping]
        out.append(_number(comparison.p_value, 4) if comparison else "")
    return out


# A deployment's own CSV ends with its live test (consenting test subjects); blank without one. Not in the
# period CSVs: the published reports carry no test walks.
LIVE_TEST_COLUMNS = ("test_walks", "test_walks_alerted", "test_alerts", "live_tpir_percent",
                     "live_tpir_percent_low_95", "live_tpir_percent_high_95")


def _live_test_row(live: LiveTest | None) -> list[str]:
    if live is None:
        return [""] * len(LIVE_TEST_COLUMNS)
    percent = [None if v is None else v * 100 for v in (live.tpir, live.tpir_low, live.tpir_high)]
    return [str(live.walks), str(live.alerted), str(live.test_alerts), *(_number(v, 1) for v in percent)]


def _deployment_row(row: DeploymentStatistics) -> list[str]:
    d = row.deployment
    return [str(d.id), spreadsheet_safe(d.name), spreadsheet_safe(d.location), d.purpose,
            d.went_live_at.isoformat() if d.went_live_at else "", d.ended_at.isoformat() if d.ended_at else "",
            _number(d.threshold, 2), _number(d.expected_per_1000, 4), _number(d.expected_per_1000_upper, 4),
            _number(d.expected_per_1000_passersby, 4), _number(d.expected_per_1000_passersby_upper, 4),
            _number(d.recorded_engagements, 0), _number(d.recorded_arrests, 0),
            *_figures_row(row.figures)]


def statistics_csv_export(*, actor: User, report: PeriodStatistics | DeploymentStatistics) -> str:
    """The figures as CSV: one row per deployment, then the totals (a period report only)."""
    require_capability(user=actor, capability="view_statistics")
    out = io.StringIO()
    writer = csv.writer(out)
    if isinstance(report, PeriodStatistics):
        writer.writerow([*_header(report.totals), *SPREAD_COLUMNS])
        writer.writerows([*_deployment_row(row), *_spread_row(row.demographic_comparison)]
                         for row in report.deployments)
        writer.writerow(["", TOTALS_LABEL, *[""] * (len(DEPLOYMENT_COLUMNS) - 2), *_figures_row(report.totals),
                         *_spread_row(report.demographic_comparison)])
        target, deployment = None, None
        details = {"period": report.title, "start": report.start.isoformat(), "end": report.end.isoformat(),
                   "deployments": len(report.deployments)}
    else:
        writer.writerow([*_header(report.figures), *SPREAD_COLUMNS, *LIVE_TEST_COLUMNS])
        writer.writerow([*_deployment_row(report), *_spread_row(report.demographic_comparison),
                         *_live_test_row(report.live_test)])
        target, deployment = ("deployments.deployment", report.deployment.id), report.deployment.id
        details = {"deployment": report.deployment.id}
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.STATISTICS_EXPORTED, target=target, deployment=deployment,
                     details=details)
    return out.getvalue()
