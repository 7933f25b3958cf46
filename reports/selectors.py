"""Deployment statistics and per-period figures.

Everything is counted in SQL from three non-biometric sources: DeploymentTransition (when a deployment
was live), CameraMinuteCount (faces processed) and AlertRecord (one row per alert, kept after the alert
itself is purged). The number of queries is fixed, whatever the number of deployments or alerts.

Alerts of consenting test subjects (AlertRecord.test_subject_id set) are left out of every figure and series
here, the published transparency reports included; the per-deployment report counts them apart, against the
recorded test walks (`LiveTest`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter, defaultdict

from django.conf import settings
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Trunc, TruncMonth
from django.http import Http404
from django.utils import timezone

from accounts.permissions import require_capability
from alerts.demographics import DEMOGRAPHIC_FIELDS
from alerts.models import Alert, AlertRecord, EngagementResult, TestWalk
from core.errors import RuleViolation
from deployments.models import Deployment, DeploymentAuthorisation, DeploymentTransition
from recognition.evaluation.calibration import fpir_upper_bound
from recognition.evaluation.groups import REFERENCE_TO_OFFICER, expected_shares, spread_test
from recognition.models import CameraMinuteCount
from reports.figures import (
    Breakdown,
    CodeCount,
    DemographicComparison,
    DeploymentStatistics,
    DeploymentSummary,
    Figures,
    LiveTest,
    Outcomes,
    PeriodStatistics,
    SeriesPoint,
    SpreadRow,
)
from watchlists.models import InclusionCategory

LIVE = Deployment.State.LIVE
NOT_RECORDED = "Not recorded"
# Alert statuses as the reports group them: a confirmation awaiting its second officer is still pending.
OUTCOME_OF_STATUS = {
    Alert.Status.CONFIRMED: "confirmed", Alert.Status.NOT_A_MATCH: "not_a_match",
    Alert.Status.CANNOT_TELL: "cannot_tell",
    Alert.Status.PENDING: "pending", Alert.Status.AWAITING_VERIFICATION: "pending",
}
DAILY_SERIES_UP_TO = dt.timedelta(days=62)
# The categories a real alert's subject can be in (a test subject's alerts are never in the figures).
REAL_CATEGORIES = tuple((value, label) for value, label in InclusionCategory.choices
                        if value != InclusionCategory.TEST_SUBJECT)


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont (interpolated), over an interval here."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


WAIT_FOR_DECISION = ExpressionWrapper(F("first_decided_at") - F("raised_at"), output_field=DurationField())


# --- public selectors ----------------------------------------------------------------------------

def deployment_statistics(*, user, deployment_id: int) -> DeploymentStatistics:
    require_capability(user=user, capability="view_statistics")
    deployment = Deployment.objects.filter(pk=deployment_id).select_related("post_record").first()
    if deployment is None:
        raise Http404("no such deployment")
    figures, spans, authorisation = _deployment_figures(deployment.pk)
    return DeploymentStatistics(deployment=_summary(deployment, spans, authorisation),
                                figures=figures, live_test=_live_test(deployment.pk),
                                demographic_comparison=demographic_comparison(figures=figures,
                                                                              authorisation=authorisation))


def deployment_figures_published(*, deployment_id: int) -> Figures:
    """A deployment's figures, the same as its report's, for a public page: no user check, because Figures
    holds only aggregate counts (no names, no images, no watchlist entries); the caller decides what of it is
    published, and when. 404 for a deployment that does not exist."""
    figures = deployments_figures_published(deployment_ids=[deployment_id]).get(deployment_id)
    if figures is None:
        raise Http404("no such deployment")
    return figures


def deployments_figures_published(*, deployment_ids: list[int]) -> dict[int, Figures]:
    """The same for several deployments at once (a public list), in a fixed number of queries; ids of
    deployments that do not exist are left out."""
    ids = sorted(set(Deployment.objects.filter(pk__in=deployment_ids).values_list("pk", flat=True)))
    intervals = _live_intervals(DeploymentTransition.objects.filter(deployment_id__in=ids))
    now = timezone.now()
    live = {pk: _time_live(intervals.get(pk, []), None, None, now) for pk in ids}
    rows, _ = _figures(ids=ids, start=None, end=None, live=live, with_totals=False,
                       authorisations=_authorisations(ids))
    return rows


def _deployment_figures(deployment_id: int) -> tuple[Figures, list[Span], DeploymentAuthorisation | None]:
    intervals = _live_intervals(DeploymentTransition.objects.filter(deployment_id=deployment_id))
    spans = intervals.get(deployment_id, [])
    live = {deployment_id: _time_live(spans, None, None, timezone.now())}
    authorisations = _authorisations([deployment_id])
    rows, _ = _figures(ids=[deployment_id], start=None, end=None, live=live, with_totals=False,
                       authorisations=authorisations)
    return rows[deployment_id], spans, authorisations.get(deployment_id)


def period_statistics(*, user, start: dt.datetime, end: dt.datetime, title: str = "") -> PeriodStatistics:
    """Every deployment live at some time in [start, end), with figures counted inside the period only."""
    require_capability(user=user, capability="view_statistics")
    if end <= start:
        raise RuleViolation("the period must end after it starts")
    now = timezone.now()
    went_live_before_end = DeploymentTransition.objects.filter(to_state=LIVE, at__lt=end).values("deployment_id")
    intervals = _live_intervals(DeploymentTransition.objects.filter(deployment_id__in=went_live_before_end)
                                .select_related("deployment__post_record"))
    live = {pk: _time_live(spans, start, end, now) for pk, spans in intervals.items()}
    live = {pk: duration for pk, duration in live.items() if duration > dt.timedelta(0)}
    deployments = {pk: spans[0][0].deployment for pk, spans in intervals.items()}
    ids = sorted(live, key=lambda pk: (_first_live(intervals[pk]), pk))
    authorisations = _authorisations(ids)
    rows, totals = _figures(ids=ids, start=start, end=end, live=live, with_totals=True,
                            authorisations=authorisations)
    step = "day" if end - start <= DAILY_SERIES_UP_TO else "week"
    return PeriodStatistics(
        start=start, end=end, title=title, step=step,
        deployments=tuple(DeploymentStatistics(deployment=_summary(deployments[pk], intervals[pk],
                                                                   authorisations.get(pk)),
                                               figures=rows[pk],
                                               demographic_comparison=demographic_comparison(
                                                   figures=rows[pk], authorisation=authorisations.get(pk)))
                          for pk in ids),
        totals=totals, series=_series(ids=ids, start=start, end=end, step=step),
        demographic_comparison=pooled_demographic_comparison(
            deployments=[(rows[pk], authorisations.get(pk)) for pk in ids]))


FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a report may be asked for


def report_period(*, year: int, month: int | None = None) -> tuple[dt.datetime, dt.datetime, str]:
    """The month or year a report URL names, or 404 for one that cannot exist (month 13, year 1066)."""
    if not FIRST_YEAR <= year <= LAST_YEAR or (month is not None and not 1 <= month <= 12):
        raise Http404("no such period")
    return month_period(year, month) if month else year_period(year)


def month_period(year: int, month: int) -> tuple[dt.datetime, dt.datetime, str]:
    """A calendar month in local time (the force's), as [start, end) and a title."""
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end, f"{calendar.month_name[month]} {year}"


def year_period(year: int) -> tuple[dt.datetime, dt.datetime, str]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz), str(year)


def report_months(*, user) -> dict[int, list[int]]:
    """Years (newest first) and the months in them when some deployment went live or ended live."""
    require_capability(user=user, capability="view_statistics")
    tz = timezone.get_current_timezone()
    months = (DeploymentTransition.objects.filter(Q(to_state=LIVE) | Q(from_state=LIVE))
              .annotate(month=TruncMonth("at", tzinfo=tz)).values_list("month", flat=True).distinct())
    found: dict[int, set[int]] = defaultdict(set)
    for month in months:
        local = timezone.localtime(month, tz)
        found[local.year].add(local.month)
    return {year: sorted(found[year]) for year in sorted(found, reverse=True)}


def deployments_with_statistics(*, user) -> QuerySet[Deployment]:
    """Deployments that have been live, newest first (the others have nothing to count)."""
    require_capability(user=user, capability="view_statistics")
    return (Deployment.objects.filter(pk__in=DeploymentTransition.objects.filter(to_state=LIVE)
                                      .values("deployment_id"))
            .annotate(camera_count=Count("cameras")).order_by("-starts_at", "pk"))


# --- live time from the transitions --------------------------------------------------------------

Span = tuple[DeploymentTransition, DeploymentTransition | None]  # into live, out of live (None: still live)


def _live_intervals(transitions: QuerySet[DeploymentTransition]) -> dict[int, list[Span]]:
    spans: dict[int, list[Span]] = defaultdict(list)
    opened: dict[int, DeploymentTransition] = {}
    for t in transitions.filter(Q(to_state=LIVE) | Q(from_state=LIVE)).order_by("deployment_id", "at", "pk"):
        if t.to_state == LIVE:
            opened[t.deployment_id] = t
        elif t.deployment_id in opened:
            spans[t.deployment_id].append((opened.pop(t.deployment_id), t))
    for pk, t in opened.items():
        spans[pk].append((t, None))
    return dict(spans)


def _first_live(spans: list[Span]) -> dt.datetime:
    return spans[0][0].at


def _time_live(spans: list[Span], start, end, now) -> dt.timedelta:
    total = dt.timedelta(0)
    for into, out in spans:
        lo = max(into.at, start) if start else into.at
        hi = out.at if out else now
        hi = min(hi, end) if end else hi
        total += max(hi - lo, dt.timedelta(0))
    return total


def _summary(deployment: Deployment, spans: list[Span], authorisation: DeploymentAuthorisation | None
             ) -> DeploymentSummary:
    record = getattr(deployment, "post_record", None)  # select_related by the callers
    return DeploymentSummary(
        id=deployment.pk, name=deployment.name, location=deployment.location,
        purpose=deployment.get_purpose_display(), state=deployment.get_state_display(),
        went_live_at=spans[0][0].at if spans else None,
        ended_at=spans[-1][1].at if spans and spans[-1][1] else None,
        threshold=authorisation.threshold if authorisation else None,
        recorded_engagements=record.engagements if record else None,
        recorded_arrests=record.arrests if record else None,
        expected_per_1000=authorisation.expected_per_1000 if authorisation else None,
        expected_per_1000_upper=authorisation.expected_per_1000_upper if authorisation else None,
        expected_per_1000_passersby=authorisation.expected_per_1000_passersby if authorisation else None,
        expected_per_1000_passersby_upper=authorisation.expected_per_1000_passersby_upper if authorisation else None,
        expected_device=(authorisation.expected_per_passerby.get("device") if authorisation else None) or None)


def _authorisations(ids: list[int]) -> dict[int, DeploymentAuthorisation]:
    """The authorisation each deployment went live under (the latest, should there be several)."""
    rows = (DeploymentAuthorisation.objects.filter(deployment_id__in=ids,
                                                   decision=DeploymentAuthorisation.Decision.AUTHORISED)
            .order_by("decided_at", "pk"))
    return {row.deployment_id: row for row in rows}


# --- the counts ----------------------------------------------------------------------------------

def _window(field: str, start, end) -> Q:
    q = Q()
    if start is not None:
        q &= Q(**{f"{field}__gte": start})
    if end is not None:
        q &= Q(**{f"{field}__lt": end})
    return q


def _figures(*, ids: list[int], start, end, live: dict[int, dt.timedelta], with_totals: bool,
             authorisations: dict[int, DeploymentAuthorisation]) -> tuple[dict[int, Figures], Figures | None]:
    """Figures per deployment and, when asked, for all of them together: nine queries at most."""
    if not ids:
        return {}, _empty_figures() if with_totals else None
    records = _real(AlertRecord.objects.filter(deployment_id__in=ids).filter(_window("raised_at", start, end)))
    keys = ("status", "engaged", "result", "category", *DEMOGRAPHIC_FIELDS)
    groups: dict[int, Counter] = defaultdict(Counter)
    for row in records.values("deployment_id", *keys).annotate(n=Count("id")).order_by():
        groups[row["deployment_id"]][tuple(row[k] for k in keys)] += row["n"]
    # A stop's length by deployment: {deployment: Counter(minutes or None -> stops)}
    stops: dict[int, Counter] = defaultdict(Counter)
    for pk, minutes, n in (records.filter(engaged=True, identity_confirmed=False).values("deployment_id", "stop_minutes")
                           .annotate(n=Count("id")).order_by().values_list("deployment_id", "stop_minutes", "n")):
        stops[pk][minutes] += n
    decided = records.filter(first_decided_at__isnull=False)
    timing = {row[0]: row[1:] for row in decided.values("deployment_id").order_by().annotate(
        p50=Percentile(WAIT_FOR_DECISION, 0.5), p90=Percentile(WAIT_FOR_DECISION, 0.9)
    ).values_list("deployment_id", "p50", "p90")}
    counted = {row[0]: row[1:] for row in CameraMinuteCount.objects.filter(deployment_id__in=ids)
               .filter(_window("minute", start, end)).values("deployment_id").order_by()
               .annotate(n=Sum("faces"), t=Sum("tracks")).values_list("deployment_id", "n", "t")}
    faces = {pk: n or 0 for pk, (n, _) in counted.items()}
    tracks = {pk: t or 0 for pk, (_, t) in counted.items()}
    links = Deployment.cameras.through.objects.filter(deployment_id__in=ids)
    cameras = dict(links.values("deployment_id").order_by().annotate(n=Count("camera_id"))
                   .values_list("deployment_id", "n"))
    sizes = {pk: authorisation.watchlist_size for pk, authorisation in authorisations.items()}
    rows = {pk: _build(groups[pk], live=live.get(pk, dt.timedelta(0)), cameras=cameras.get(pk, 0),
                       faces=faces.get(pk, 0), tracks=tracks.get(pk, 0), timing=timing.get(pk, (None, None)),
                       stops=stops[pk], watchlist_size=sizes.get(pk))
            for pk in ids}
    if not with_totals:
        return rows, None
    every: Counter = Counter()
    for counter in groups.values():
        every.update(counter)
    every_stop: Counter = Counter()
    for counter in stops.values():
        every_stop.update(counter)
    overall = decided.aggregate(p50=Percentile(WAIT_FOR_DECISION, 0.5), p90=Percentile(WAIT_FOR_DECISION, 0.9))
    totals = _build(every, live=sum(live.values(), dt.timedelta(0)),
                    cameras=links.values("camera_id").distinct().count(),
                    faces=sum(faces.values()), tracks=sum(tracks.values()), timing=(overall["p50"], overall["p90"]),
                    stops=every_stop, watchlist_size=None)
    return rows, totals


def _real(records: QuerySet[AlertRecord]) -> QuerySet[AlertRecord]:
    """Alerts of the watchlist's real subjects: a test subject's alert is a measurement, not a false alert or a
    confirmed match, and is never published as one."""
    return records.filter(test_subject_id__isnull=True)


def _build(counts: Counter, *, live, cameras: int, faces: int, tracks: int, timing, stops: Counter,
           watchlist_size: int | None) -> Figures:
    """Figures from the grouped counts, key = (status, engaged, result, category, ethnicity, perceived_sex,
    age_band), and the stops counted by their length in minutes (None: not recorded)."""
    outcomes: Counter = Counter()
    results: Counter = Counter()
    by_category: Counter = Counter()
    results_by_category: dict[str, Counter] = defaultdict(Counter)
    demographics = {name: Counter() for name in DEMOGRAPHIC_FIELDS}
    engagements = false_alert_engagements = 0
    for (status, engaged, result, category, *recorded), n in counts.items():
        outcomes[OUTCOME_OF_STATUS[status]] += n
        by_category[category] += n
        if engaged or result:  # "could not locate" is a result without an engagement
            results[result] += n
            results_by_category[category][result] += n
        if engaged:
            engagements += n
            if status == Alert.Status.NOT_A_MATCH:
                false_alert_engagements += n
        if status == Alert.Status.NOT_A_MATCH:
            for name, code in zip(DEMOGRAPHIC_FIELDS, recorded, strict=True):
                demographics[name][code] += n
    timed = Counter({minutes: n for minutes, n in stops.items() if minutes is not None})
    arrests = Counter({category: c[EngagementResult.ARRESTED] for category, c in results_by_category.items()})
    return Figures(
        time_live=live, cameras=cameras, faces=faces, tracks=tracks, outcomes=Outcomes(**outcomes),
        decision_time_median=timing[0], decision_time_p90=timing[1], engagements=engagements,
        arrests=results[EngagementResult.ARRESTED],
        results=_breakdown("result", "Results after alerts", EngagementResult.choices, results),
        false_alert_demographics=tuple(_breakdown(name, words.capitalize(), choices.choices, demographics[name])
                                       for name, (choices, words) in DEMOGRAPHIC_FIELDS.items()),
        watchlist_size=watchlist_size, stops=sum(stops.values()), stops_timed=sum(timed.values()),
        stop_minutes_total=sum(minutes * n for minutes, n in timed.items()),
        stop_minutes_median=_weighted_median(timed), false_alert_engagements=false_alert_engagements,
        alerts_by_category=_breakdown("category", "Alerts by inclusion category", REAL_CATEGORIES, by_category),
        arrests_by_category=_breakdown("category", "Arrests by inclusion category", REAL_CATEGORIES, arrests),
        results_by_category=tuple(
            _breakdown(code, label, EngagementResult.choices, results_by_category.get(code, Counter()))
            for code, label in (*REAL_CATEGORIES, ("", NOT_RECORDED))))


def _breakdown(field: str, title: str, choices, counts: Counter) -> Breakdown:
    listed = [CodeCount(code=value, label=label, count=counts.get(value, 0)) for value, label in choices]
    return Breakdown(field=field, title=title, counts=(*listed, CodeCount("", NOT_RECORDED, counts.get("", 0))))


def _weighted_median(counts: Counter) -> float | None:
    """The median of values given with how often each occurs (the middle two averaged when even)."""
    total = sum(counts.values())
    if not total:
        return None
    middle, seen, found = ((total - 1) // 2, total // 2), 0, []
    for value in sorted(counts):
        first, seen = seen, seen + counts[value]
        found += [value for position in middle if first <= position < seen]
    return sum(found) / 2


def _empty_figures() -> Figures:
    return _build(Counter(), live=dt.timedelta(0), cameras=0, faces=0, tracks=0, timing=(None, None),
                  stops=Counter(), watchlist_size=None)


def _series(*, ids: list[int], start: dt.datetime, end: dt.datetime, step: str) -> tuple[SeriesPoint, ...]:
    """Alerts, false alerts, confirmed matches and faces per day or week (local time), empty buckets included."""
    tz = timezone.get_current_timezone()
    first, last = timezone.localtime(start, tz).date(), timezone.localtime(end, tz).date()
    if step == "week":
        first -= dt.timedelta(days=first.weekday())
    buckets, day = [], first
    while day < last:
        buckets.append(day)
        day += dt.timedelta(days=7 if step == "week" else 1)
    alerts: dict[dt.date, dict] = {}
    faces: dict[dt.date, int] = {}
    if ids:
        records = _real(AlertRecord.objects.filter(deployment_id__in=ids).filter(_window("raised_at", start, end)))
        for row in (records.annotate(bucket=Trunc("raised_at", step, tzinfo=tz)).values("bucket").order_by()
                    .annotate(alerts=Count("id"), false_alerts=Count("id", filter=Q(status=Alert.Status.NOT_A_MATCH)),
                              confirmed=Count("id", filter=Q(status=Alert.Status.CONFIRMED)))):
            alerts[timezone.localtime(row.pop("bucket"), tz).date()] = row
        counts = CameraMinuteCount.objects.filter(deployment_id__in=ids).filter(_window("minute", start, end))
        for bucket, n in (counts.annotate(bucket=Trunc("minute", step, tzinfo=tz)).values("bucket").order_by()
                          .annotate(n=Sum("faces")).values_list("bucket", "n")):
            faces[timezone.localtime(bucket, tz).date()] = n or 0
    empty = {"alerts": 0, "false_alerts": 0, "confirmed": 0}
    return tuple(SeriesPoint(start=day, faces=faces.get(day, 0), **alerts.get(day, empty)) for day in buckets)


# --- false alerts' demographics against the walk-by calibration ------------------------------------

def demographic_comparison(*, figures: Figures, authorisation: DeploymentAuthorisation | None
                           ) -> tuple[DemographicComparison, ...]:
    """For each recorded field (ethnicity, perceived sex, perceived age band), the false alerts' recorded codes
    counted per reference group (groups.REFERENCE_TO_OFFICER), beside each group's expected share of false alerts:
    its false alert rate per passer-by in the walk-by calibration at the authorised threshold, weighted by the mix
    of passers-by (STATISTICS_POPULATION_MIX, else the reference set's own), and the goodness-of-fit of the two.
    () when the authorisation recorded no per-group figures."""
    return pooled_demographic_comparison(deployments=[(figures, authorisation)])


def pooled_demographic_comparison(*, deployments: list[tuple[Figures, DeploymentAuthorisation | None]]
                                  ) -> tuple[DemographicComparison, ...]:
    """The same over several deployments (a period's report): each deployment's expected shares, at its own
    authorised threshold, weighted by its tracks (the passers-by it saw; equally when none were counted), against
    the false alerts of all of them. False alerts of deployments authorised without per-group figures cannot be
    compared and are counted apart (`uncalibrated`). () when no deployment recorded per-group figures.

    The test treats the pooled counts as one multinomial with the weighted shares; where the deployments' shares
    differ, the true spread of a sum of multinomials is narrower, so the p-value errs on the side of "no
    difference"."""
    mixes = settings.STATISTICS_POPULATION_MIX or {}
    recorded = [((authorisation.expected_per_passerby.get("group_counts") if authorisation else None) or {}, figures)
                for figures, authorisation in deployments]
    if not any(groups for groups, _ in recorded):
        return ()
    out = []
    for field, (grouping, mapping) in REFERENCE_TO_OFFICER.items():
        parts = []  # (reference counts, the field's breakdown, weight) of each deployment that can be compared
        uncalibrated = 0
        for groups, figures in recorded:
            breakdown = next((b for b in figures.false_alert_demographics if b.field == field), None)
            if breakdown is None:
                continue
            if not groups.get(grouping):
                uncalibrated += breakdown.total
                continue
            parts.append((groups[grouping], breakdown, figures.tracks))
        if not parts:
            continue
        mix = mixes.get(grouping)
        in_reference = {g for reference, _, _ in parts for g in mapping if g in reference}
        weights = [tracks for _, _, tracks in parts] if any(tracks for _, _, tracks in parts) else [1] * len(parts)
        pooled: dict[str, float] = {}
        for (reference, _, _), weight in zip(parts, weights, strict=True):
            shares = expected_shares({g: reference[g] for g in mapping if g in reference}, mix) or {}
            for g, share in shares.items():
                pooled[g] = pooled.get(g, 0.0) + weight * share
        total_weight = sum(pooled.values())
        expected = {g: v / total_weight for g, v in pooled.items()} if total_weight > 0 else None
        counts: Counter = Counter()
        labels: dict[str, str] = {}
        not_comparable = 0
        for _, breakdown, _ in parts:
            counts.update({c.code: c.count for c in breakdown.counts})
            labels.update({c.code: c.label for c in breakdown.counts})
            not_comparable += breakdown.total
        observed = {g: sum(counts.get(code, 0) for code in codes) for g, codes in mapping.items()}
        compared = sum(observed.values())
        test = spread_test(observed, expected)
        rows = tuple(SpreadRow(group=g, codes=codes, label=f"{g} ({', '.join(labels.get(c, c) for c in codes)})",
                               expected_share=(expected or {}).get(g) if g in in_reference else None,
                               observed=observed[g], observed_share=observed[g] / compared if compared else None)
                     for g, codes in mapping.items())
        title = parts[0][1].title
        assumption = ("passers-by mixed as set in STATISTICS_POPULATION_MIX" if mix is not None else
                      "passers-by mixed like the reference set's non-mated passers-by")
        if len(parts) > 1:
            assumption += f", over {len(parts)} deployments each at its authorised threshold, weighted by its tracks"
        out.append(DemographicComparison(
            field=field, title=title, grouping=grouping, rows=rows, compared=compared,
            not_comparable=not_comparable - compared, p_value=test["p_value"], method=test["method"],
            note=test.get("note"), assumption=assumption, uncalibrated=uncalibrated))
    return tuple(out)


# --- live testing --------------------------------------------------------------------------------

def _live_test(deployment_id: int) -> LiveTest | None:
    """Test walks against test alerts (two queries); None when the deployment had neither."""
    walks = list(TestWalk.objects.filter(deployment_id=deployment_id).order_by("walked_at", "pk")
                 .values_list("camera_id", "subject_id", "walked_at"))
    alerts = list(AlertRecord.objects.filter(deployment_id=deployment_id, test_subject_id__isnull=False)
                  .order_by("raised_at", "pk").values_list("pk", "camera_id", "test_subject_id", "raised_at", "status"))
    if not walks and not alerts:
        return None
    window = dt.timedelta(seconds=settings.TEST_WALK_MATCH_SECONDS)
    used: set[int] = set()
    alerted = 0
    for camera_id, subject_id, walked_at in walks:
        # the nearest unused alert of this test subject on this camera within the window, unless refuted
        candidates = [(abs(raised_at - walked_at), pk) for pk, camera, subject, raised_at, status in alerts
                      if pk not in used and camera == camera_id and subject == subject_id
                      and abs(raised_at - walked_at) <= window and status != Alert.Status.NOT_A_MATCH]
        if candidates:
            used.add(min(candidates)[1])
            alerted += 1
    low, high = proportion_interval(alerted, len(walks))
    return LiveTest(walks=len(walks), alerted=alerted, test_alerts=len(alerts), tpir_low=low, tpir_high=high,
                    window_seconds=settings.TEST_WALK_MATCH_SECONDS)


def proportion_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Exact (Clopper-Pearson) two-sided interval of a share, from the calibration's one-sided bound:
    1 of 1 walks alerted is 0.025 to 1, not "always"."""
    if trials <= 0:
        return None, None
    one_side = 1 - (1 - confidence) / 2
    high = fpir_upper_bound(successes, trials, one_side)
    low = 1.0 - fpir_upper_bound(trials - successes, trials, one_side)
    return max(low, 0.0), min(high, 1.0)
