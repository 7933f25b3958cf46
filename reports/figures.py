"""The typed figures the statistics pages, charts and CSV share (no Django queries here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class CodeCount:
    code: str  # "" where nothing was recorded
    label: str
    count: int


@dataclass(frozen=True)
class Breakdown:
    """Counts by one recorded field, every code listed (zeros too) so reports compare period with period."""

    field: str
    title: str
    counts: tuple[CodeCount, ...]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)


@dataclass(frozen=True)
class Outcomes:
    confirmed: int = 0
    not_a_match: int = 0
    cannot_tell: int = 0  # stage 1's third answer: the images alone could not settle it
    pending: int = 0  # awaiting a decision, or a confirmation awaiting its second officer

    @property
    def decided(self) -> int:
        return self.confirmed + self.not_a_match + self.cannot_tell

    @property
    def total(self) -> int:
        return self.decided + self.pending


@dataclass(frozen=True)
class Figures:
    time_live: dt.timedelta
    cameras: int
    faces: int  # detections: one per face per processed frame
    tracks: int  # tracks started: about one per passer-by (counted since tracks were recorded)
    outcomes: Outcomes
    decision_time_median: dt.timedelta | None
    decision_time_p90: dt.timedelta | None
    engagements: int  # alerts whose person officers engaged (stage 2), after true and false alerts alike
    arrests: int
    results: Breakdown
    false_alert_demographics: tuple[Breakdown, ...]
    # The authorised snapshot's subject count (DeploymentAuthorisation.watchlist_size); None for a period's
    # totals (each deployment had its own) and for a deployment never authorised.
    watchlist_size: int | None
    stops: int  # engaged alerts whose identity the engagement did not confirm: a person stopped, not the subject
    stops_timed: int  # the stops with their length recorded
    stop_minutes_total: int  # over the timed stops
    stop_minutes_median: float | None  # over the timed stops; None without one
    false_alert_engagements: int  # engaged after an alert the officers decided was not a match
    # By the subject's inclusion category (copied onto the alert when raised; "" on older alerts):
    alerts_by_category: Breakdown
    arrests_by_category: Breakdown
    results_by_category: tuple[Breakdown, ...]  # one per category (field = its code), counts by result

    @property
    def alerts(self) -> int:
        return self.outcomes.total

    @property
    def by_category(self) -> tuple[tuple[CodeCount, Breakdown], ...]:
        """Each inclusion category's alerts beside its engagements' results (a report's table)."""
        return tuple(zip(self.alerts_by_category.counts, self.results_by_category, strict=True))

    @property
    def false_alerts(self) -> int:
        return self.outcomes.not_a_match

    @property
    def false_alerts_per_1000_faces(self) -> float | None:
        return None if not self.faces else self.false_alerts * 1000 / self.faces

    @property
    def false_alerts_per_1000_tracks(self) -> float | None:
        """Observed false alerts per 1,000 passers-by, tracks standing for passers-by (a track broken by an
        occlusion counts twice, so this reads a little low)."""
        return None if not self.tracks else self.false_alerts * 1000 / self.tracks

    @property
    def false_alert_share(self) -> float | None:
        """False alerts as a fraction of the alerts an officer decided."""
        return None if not self.outcomes.decided else self.false_alerts / self.outcomes.decided


@dataclass(frozen=True)
class DeploymentSummary:
    """What a published report may say about a deployment: no watchlist, no subjects."""

    id: int
    name: str
    location: str
    purpose: str
    state: str
    went_live_at: dt.datetime | None
    ended_at: dt.datetime | None  # None while still live
    threshold: float | None = None  # as authorised
    # What the commander wrote in the post-deployment record, set beside what officers recorded on alerts.
    recorded_engagements: int | None = None
    recorded_arrests: int | None = None
    # The false alert rate the authorising officer was shown for that threshold (per 1,000 faces not on the
    # watchlist, and its 95% upper bound), from the model's calibration; None when there was none.
    expected_per_1000: float | None = None
    expected_per_1000_upper: float | None = None
    # The same per 1,000 passers-by not on the watchlist (the walk-by calibration for the workers' device).
    expected_per_1000_passersby: float | None = None
    expected_per_1000_passersby_upper: float | None = None
    expected_device: str | None = None


@dataclass(frozen=True)
class SpreadRow:
    """One reference-set group against the officers' codes it maps to (recognition.evaluation.groups
    REFERENCE_TO_OFFICER)."""

    group: str  # the reference set's group, e.g. "White"
    codes: tuple[str, ...]  # the officer codes counted for it, e.g. ("IC1", "IC2")
    label: str
    expected_share: float | None  # of the compared false alerts, from the walk-by calibration's per-group rates
    observed: int
    observed_share: float | None


@dataclass(frozen=True)
class DemographicComparison:
    """The false alerts' recorded demographics for one field, set against the spread the authorised walk-by
    calibration predicts, with the goodness-of-fit test (groups.spread_test)."""

    field: str  # ethnicity, perceived_sex, age_band
    title: str
    grouping: str  # the reference grouping it is compared with: race, sex, officer_age_band
    rows: tuple[SpreadRow, ...]
    compared: int  # false alerts with a code that maps to a reference group
    not_comparable: int  # false alerts recorded with another code (IC9, unknown) or nothing
    p_value: float | None
    method: str | None
    note: str | None
    assumption: str
    uncalibrated: int = 0  # a period's report: false alerts of deployments authorised without per-group figures


@dataclass(frozen=True)
class LiveTest:
    """Live testing with consenting test subjects: recorded test walks against the alerts they raised.

    A walk is alerted when an alert of its test subject on its camera was raised within TEST_WALK_MATCH_SECONDS
    of it and not decided "not a match" (each alert counts for one walk at most). The interval is the exact
    (Clopper-Pearson) two-sided 95% interval of the share alerted.
    """

    walks: int
    alerted: int
    test_alerts: int  # every alert of a test subject, matched to a walk or not (left out of `Figures`)
    tpir_low: float | None
    tpir_high: float | None
    window_seconds: int  # the matching window in force (TEST_WALK_MATCH_SECONDS)

    @property
    def missed(self) -> int:
        return self.walks - self.alerted

    @property
    def tpir(self) -> float | None:
        return None if not self.walks else self.alerted / self.walks


@dataclass(frozen=True)
class DeploymentStatistics:
    deployment: DeploymentSummary
    figures: Figures
    live_test: LiveTest | None = None  # only the per-deployment report: test walks are not published
    # () without a walk-by calibration with groups at authorisation
    demographic_comparison: tuple[DemographicComparison, ...] = ()


@dataclass(frozen=True)
class SeriesPoint:
    start: dt.date
    faces: int
    alerts: int
    false_alerts: int
    confirmed: int


@dataclass(frozen=True)
class PeriodStatistics:
    start: dt.datetime
    end: dt.datetime  # exclusive
    title: str
    step: str  # "day" or "week": the series' bucket
    deployments: tuple[DeploymentStatistics, ...]
    totals: Figures
    series: tuple[SeriesPoint, ...]
    # the period's false alerts against the spread expected over its deployments (pooled_demographic_comparison)
    demographic_comparison: tuple[DemographicComparison, ...] = ()

    @property
    def last_moment(self) -> dt.datetime:
        """The period's last instant, so a page can name its last day."""
        return self.end - dt.timedelta(microseconds=1)
