"""API shapes of the statistics: read-only views of the dataclasses in reports/figures.py.

The figures come from reports.selectors; these only name them for JSON. Durations are given in seconds, rates
as plain numbers (``null`` where they cannot be worked out: no faces counted, nothing decided). Like the
dataclasses they serialize, nothing here names a subject, a watchlist reference or an image.
"""

from __future__ import annotations

from rest_framework import serializers


class _Seconds(serializers.FloatField):
    """A ``timedelta`` as seconds (a number in the schema)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return value.total_seconds()


class ReportCodeCountSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text='the recorded code; "" where nothing was recorded')
    label = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)


class ReportBreakdownSerializer(serializers.Serializer):
    field = serializers.CharField(read_only=True, help_text="the recorded field counted, e.g. result, ethnicity")
    title = serializers.CharField(read_only=True)
    total = serializers.IntegerField(read_only=True)
    counts = ReportCodeCountSerializer(many=True, read_only=True,
                                       help_text="every code, zeros included, then the unrecorded")


class ReportOutcomesSerializer(serializers.Serializer):
    confirmed = serializers.IntegerField(read_only=True)
    not_a_match = serializers.IntegerField(read_only=True, help_text="false alerts")
    cannot_tell = serializers.IntegerField(read_only=True, help_text="stage 1: the images alone could not settle it")
    pending = serializers.IntegerField(read_only=True, help_text="not yet decided, or a confirmation awaiting its "
                                                                 "second officer")
    decided = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)


class ReportFiguresSerializer(serializers.Serializer):
    time_live_seconds = _Seconds(source="time_live")
    cameras = serializers.IntegerField(read_only=True)
    faces = serializers.IntegerField(read_only=True, help_text="faces processed (detections: one per face per frame)")
    tracks = serializers.IntegerField(read_only=True, help_text="tracks started: about one per passer-by")
    alerts = serializers.IntegerField(read_only=True)
    false_alerts = serializers.IntegerField(read_only=True)
    outcomes = ReportOutcomesSerializer(read_only=True)
    false_alerts_per_1000_faces = serializers.FloatField(read_only=True, allow_null=True,
                                                         help_text="null when no faces were counted")
    false_alerts_per_1000_tracks = serializers.FloatField(
        read_only=True, allow_null=True,
        help_text="false alerts per 1,000 tracks (about per 1,000 passers-by); null when no tracks were counted")
    false_alert_share = serializers.FloatField(read_only=True, allow_null=True,
                                               help_text="false alerts / decided alerts (0 to 1); null when none "
                                                         "was decided")
    decision_time_median_seconds = _Seconds(source="decision_time_median", allow_null=True,
                                            help_text="raised to first decision; null when none was decided")
    decision_time_p90_seconds = _Seconds(source="decision_time_p90", allow_null=True,
                                         help_text="90th percentile (interpolated)")
    engagements = serializers.IntegerField(read_only=True, help_text="alerts whose person officers engaged, after "
                                                                     "true and false alerts alike")
    arrests = serializers.IntegerField(read_only=True)
    results = ReportBreakdownSerializer(read_only=True, help_text="results of engagements")
    false_alert_demographics = ReportBreakdownSerializer(many=True, read_only=True,
                                                         help_text="perceived ethnicity, sex and age band behind "
                                                                   "false alerts")
    watchlist_size = serializers.IntegerField(read_only=True, allow_null=True,
                                              help_text="subjects in the authorised watchlist snapshot; null for a "
                                                        "period's totals")
    stops = serializers.IntegerField(read_only=True, help_text="people engaged whose identity the engagement did not "
                                                               "confirm (stopped, not the subject)")
    stops_timed = serializers.IntegerField(read_only=True, help_text="stops with their length recorded")
    stop_minutes_total = serializers.IntegerField(read_only=True, help_text="over the timed stops")
    stop_minutes_median = serializers.FloatField(read_only=True, allow_null=True,
                                                 help_text="over the timed stops; null without one")
    false_alert_engagements = serializers.IntegerField(read_only=True,
                                                       help_text="people engaged after a false alert")
    alerts_by_category = ReportBreakdownSerializer(read_only=True, help_text="by the subject's inclusion category")
    arrests_by_category = ReportBreakdownSerializer(read_only=True, help_text="by the subject's inclusion category")
    results_by_category = ReportBreakdownSerializer(many=True, read_only=True,
                                                    help_text="one per inclusion category (field: its code), "
                                                              "engagements by result")


class ReportDeploymentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    location = serializers.CharField(read_only=True)
    purpose = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    went_live_at = serializers.DateTimeField(read_only=True, allow_null=True)
    ended_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="null while still live")
    threshold = serializers.FloatField(read_only=True, allow_null=True, help_text="as authorised")
    expected_false_alerts_per_1000_faces = serializers.FloatField(
        source="expected_per_1000", read_only=True, allow_null=True,
        help_text="the rate the authorising officer was shown for the threshold; null without a calibration")
    expected_false_alerts_per_1000_faces_upper_95 = serializers.FloatField(
        source="expected_per_1000_upper", read_only=True, allow_null=True, help_text="its 95% upper bound")
    expected_false_alerts_per_1000_passersby = serializers.FloatField(
        source="expected_per_1000_passersby", read_only=True, allow_null=True,
        help_text="per 1,000 passers-by not on the watchlist, from the walk-by calibration the authorising officer "
                  "was shown; null without one")
    expected_false_alerts_per_1000_passersby_upper_95 = serializers.FloatField(
        source="expected_per_1000_passersby_upper", read_only=True, allow_null=True, help_text="its 95% upper bound")
    expected_device = serializers.CharField(read_only=True, allow_null=True,
                                            help_text="the workers' device the walk-by calibration was for")
    post_record_engagements = serializers.IntegerField(
        source="recorded_engagements", read_only=True, allow_null=True,
        help_text="as the commander wrote in the post-deployment record; null until written")
    post_record_arrests = serializers.IntegerField(source="recorded_arrests", read_only=True, allow_null=True)


class ReportLiveTestSerializer(serializers.Serializer):
    walks = serializers.IntegerField(read_only=True, help_text="test walks recorded by the operators")
    alerted = serializers.IntegerField(read_only=True, help_text="walks matched by an alert of that test subject on "
                                                                 "that camera within TEST_WALK_MATCH_SECONDS")
    missed = serializers.IntegerField(read_only=True)
    test_alerts = serializers.IntegerField(read_only=True, help_text="every alert of a test subject (left out of the "
                                                                     "figures)")
    tpir = serializers.FloatField(read_only=True, allow_null=True, help_text="alerted / walks; null without walks")
    tpir_low = serializers.FloatField(read_only=True, allow_null=True, help_text="95% interval (Clopper-Pearson)")
    tpir_high = serializers.FloatField(read_only=True, allow_null=True)
    window_seconds = serializers.IntegerField(read_only=True, help_text="a walk and its alert within this many "
                                                                        "seconds of each other match")


class ReportSpreadRowSerializer(serializers.Serializer):
    group = serializers.CharField(read_only=True, help_text="the reference set's group")
    codes = serializers.ListField(child=serializers.CharField(), read_only=True,
                                  help_text="the officer codes counted for it")
    label = serializers.CharField(read_only=True)
    expected_share = serializers.FloatField(read_only=True, allow_null=True,
                                            help_text="expected share of the compared false alerts (0 to 1)")
    observed = serializers.IntegerField(read_only=True)
    observed_share = serializers.FloatField(read_only=True, allow_null=True)


class ReportDemographicComparisonSerializer(serializers.Serializer):
    field = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    grouping = serializers.CharField(read_only=True, help_text="the reference grouping compared with")
    rows = ReportSpreadRowSerializer(many=True, read_only=True)
    compared = serializers.IntegerField(read_only=True)
    not_comparable = serializers.IntegerField(read_only=True, help_text="false alerts coded IC9, unknown or not "
                                                                        "recorded")
    p_value = serializers.FloatField(read_only=True, allow_null=True,
                                     help_text="goodness of fit; null when it cannot be tested (see note)")
    method = serializers.CharField(read_only=True, allow_null=True)
    note = serializers.CharField(read_only=True, allow_null=True)
    assumption = serializers.CharField(read_only=True)
    uncalibrated = serializers.IntegerField(read_only=True, help_text="a period's false alerts from deployments "
                                                                      "authorised without per-group figures (not "
                                                                      "compared)")


class DeploymentStatisticsSerializer(serializers.Serializer):
    deployment = ReportDeploymentSerializer(read_only=True)
    figures = ReportFiguresSerializer(read_only=True, help_text="real alerts only: test subjects' alerts are left out")
    live_test = ReportLiveTestSerializer(read_only=True, allow_null=True,
                                         help_text="measured live TPIR from consenting test subjects (the deployment's "
                                                   "own report only); null when there was no live testing")
    demographic_comparison = ReportDemographicComparisonSerializer(
        many=True, read_only=True,
        help_text="the false alerts' recorded demographics against the spread the walk-by calibration predicts; "
                  "empty without per-group figures at authorisation")


class ReportSeriesPointSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True, help_text="first day of the bucket (local time)")
    faces = serializers.IntegerField(read_only=True)
    alerts = serializers.IntegerField(read_only=True)
    false_alerts = serializers.IntegerField(read_only=True)
    confirmed = serializers.IntegerField(read_only=True)


class PeriodStatisticsSerializer(serializers.Serializer):
    title = serializers.CharField(read_only=True)
    start = serializers.DateTimeField(read_only=True)
    end = serializers.DateTimeField(read_only=True, help_text="exclusive")
    step = serializers.ChoiceField(choices=["day", "week"], read_only=True, help_text="the series' bucket")
    deployments = DeploymentStatisticsSerializer(many=True, read_only=True,
                                                 help_text="every deployment live in the period, with the figures "
                                                           "inside it")
    totals = ReportFiguresSerializer(read_only=True)
    series = ReportSeriesPointSerializer(many=True, read_only=True)
    demographic_comparison = ReportDemographicComparisonSerializer(
        many=True, read_only=True,
        help_text="the period's false alerts' recorded demographics against the spread expected over its "
                  "deployments, each at its authorised threshold, weighted by its tracks")
