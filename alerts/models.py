from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from alerts.demographics import AgeBand, Ethnicity, PerceivedSex
from watchlists.models import InclusionCategory, WarningMarker


class Decision(models.TextChoices):
    """Stage 1 (South Wales Police's two stages): the officer's decision on the images alone."""

    CONFIRMED = "confirmed", "Match"
    NOT_A_MATCH = "not_a_match", "Not a match"
    CANNOT_TELL = "cannot_tell", "Cannot tell"


class EngagementResult(models.TextChoices):
    """Stage 2: what came of the engagement, for true and false alerts alike (counted by the statistics)."""

    ARRESTED = "arrested", "Arrest"
    CONDITIONS_CHECKED = "conditions_checked", "Conditions checked"
    SAFEGUARDING = "safeguarding", "Safeguarding"
    WORDS_OF_ADVICE = "words_of_advice", "Advice"
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    COULD_NOT_LOCATE = "could_not_locate", "Could not locate"
    OTHER = "other", "Other (see the note)"


class Alert(models.Model):
    """A prompt for a human decision: a face from a live camera scored above the deployment's threshold."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting decision"
        AWAITING_VERIFICATION = "awaiting_verification", "Confirmed by one officer, awaiting a second"
        CONFIRMED = "confirmed", "Match"
        NOT_A_MATCH = "not_a_match", "Not a match"
        CANNOT_TELL = "cannot_tell", "Cannot tell"

    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.PROTECT, related_name="alerts")
    camera = models.ForeignKey("deployments.Camera", on_delete=models.PROTECT, related_name="alerts")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    frame_time = models.DateTimeField(help_text="when the camera frame was read")
    track_id = models.BigIntegerField()
    # The camera worker run that raised it (its lease holder token, unique per run): track ids restart at 1 in
    # every worker process, so (deployment, camera, run, track, subject) is what names one match. A spooled
    # match delivered again finds its alert by this key instead of making a second one. Empty for alerts
    # not raised by a worker run (tests, benches), which have no key.
    run_token = models.CharField(max_length=128, blank=True, default="")
    # What the officer needs to decide, copied from the frozen snapshot (which is deleted after the deployment).
    subject_id = models.BigIntegerField(db_index=True)
    subject_reference = models.CharField(max_length=64, db_index=True)
    subject_name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=InclusionCategory.choices)
    reason = models.TextField()
    priority = models.CharField(max_length=8)
    reference_image_id = models.BigIntegerField(null=True)
    # The entry's decision aids, copied from the snapshot reference like the rest.
    image_taken_on = models.DateField(null=True, blank=True)
    warning_markers = ArrayField(models.CharField(max_length=16, choices=WarningMarker.choices), default=list,
                                 blank=True)
    engagement_instructions = models.TextField(blank=True)
    score = models.FloatField()
    threshold = models.FloatField()
    model_id = models.CharField(max_length=100)
    probe_file = models.CharField(max_length=200, help_text="protected JPEG of the face crop")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING, db_index=True)
    outcome = models.CharField(max_length=200, blank=True, help_text="e.g. arrested, words of advice")
    case_reference = models.CharField(max_length=64, blank=True, help_text="linked case: kept beyond retention")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["deployment", "id"]), models.Index(fields=["created_at", "case_reference"]),
                   models.Index(fields=["deployment", "updated_at"])]
        constraints = [models.UniqueConstraint(
            fields=["deployment", "camera", "run_token", "track_id", "subject_id"], name="alert_delivery_key",
            condition=~models.Q(run_token=""))]

    def __str__(self) -> str:
        return f"alert {self.pk}: {self.subject_name} {self.score:.2f}"


class Adjudication(models.Model):
    """One officer's entry in an alert's history: a stage-1 decision on the images (DECISION, or a second
    officer's VERIFICATION of a confirmation), or the stage-2 ENGAGEMENT. Never edited: an amendment is a
    new row of the same kind naming the one it replaces (``amends``), with its reason; the latest counts."""

    class Kind(models.TextChoices):
        DECISION = "decision", "Decision"
        VERIFICATION = "verification", "Second-person verification"
        ENGAGEMENT = "engagement", "Engagement"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="adjudications")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.DECISION)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True,
                                help_text="stage 1 (blank on an engagement)")
    notes = models.TextField(blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    engaged = models.BooleanField(null=True, help_text="stage 2: were the person engaged")
    identity_confirmed = models.BooleanField(null=True, help_text="stage 2: did the engagement confirm who they are")
    stop_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="stage 2: how long they were stopped")
    result = models.CharField(max_length=20, choices=EngagementResult.choices, blank=True)
    amends = models.OneToOneField("self", null=True, blank=True, on_delete=models.CASCADE, related_name="amended_by")
    amend_reason = models.TextField(blank=True)
    demographics = models.JSONField(default=dict, blank=True,
                                    help_text="false alerts: alerts.demographics codes (optional)")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "pk"]


class AlertRecord(models.Model):
    """What the statistics count about one alert: no subject, no image, so it outlives the alert's retention.

    Written with the alert and updated by each adjudication; when the alert is purged the link is cut
    (SET_NULL) and the figures stay.

    Stage 2 (the engagement), for true and false alerts alike: ``engaged`` is whether officers engaged the
    person; ``identity_confirmed`` whether the engagement confirmed they were the subject (False after a
    false alert: an innocent person was stopped); ``stop_minutes`` how long the person was stopped; ``result``
    what came of it. A stop is an engaged alert whose identity was not confirmed.
    """

    alert = models.OneToOneField(Alert, null=True, on_delete=models.SET_NULL, related_name="record")
    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.PROTECT, related_name="alert_records")
    camera = models.ForeignKey("deployments.Camera", on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    first_decided_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=24, choices=Alert.Status.choices, default=Alert.Status.PENDING)
    # The subject's inclusion category, so a yearly report can split by it (arrests by category).
    category = models.CharField(max_length=32, choices=InclusionCategory.choices, blank=True)
    engaged = models.BooleanField(null=True)
    identity_confirmed = models.BooleanField(null=True)
    stop_minutes = models.PositiveIntegerField(null=True, blank=True)
    result = models.CharField(max_length=20, choices=EngagementResult.choices, blank=True)
    ethnicity = models.CharField(max_length=8, choices=Ethnicity.choices, blank=True)
    perceived_sex = models.CharField(max_length=8, choices=PerceivedSex.choices, blank=True)
    age_band = models.CharField(max_length=8, choices=AgeBand.choices, blank=True)
    # Set only for an alert of a consenting test subject (InclusionCategory.TEST_SUBJECT): the statistics
    # count it against the recorded test walks and leave it out of every real-alert figure.
    test_subject_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["deployment", "raised_at"]), models.Index(fields=["raised_at"])]

    @property
    def is_test(self) -> bool:
        return self.test_subject_id is not None


class TestWalk(models.Model):
    """The operator's note "test subject S walked past camera C at time T": what live TPIR is measured against.

    No biometric data: the test subject's record (watchlists.Subject) stays after its images are purged,
    like every subject's, so the walk and the deployment's measured TPIR stay too.
    """

    __test__ = False  # not a pytest test class, whatever its name

    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.PROTECT, related_name="test_walks")
    camera = models.ForeignKey("deployments.Camera", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey("watchlists.Subject", on_delete=models.PROTECT, related_name="test_walks")
    walked_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["walked_at", "pk"]
        indexes = [models.Index(fields=["deployment", "walked_at"])]

    def __str__(self) -> str:
        return f"test walk {self.pk}: subject {self.subject_id} at camera {self.camera_id}"
