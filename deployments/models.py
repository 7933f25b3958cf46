from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from pgvector.django import VectorField

from watchlists.models import EMBEDDING_DIMENSIONS, InclusionCategory, WarningMarker


class Camera(models.Model):
    class Status(models.TextChoices):
        IDLE = "idle", "Idle"
        CONNECTING = "connecting", "Connecting"
        STREAMING = "streaming", "Streaming"
        LOST = "lost", "Stream lost, retrying"

    name = models.CharField(max_length=120)
    source_url = models.CharField(max_length=500)  # what it may be: the registered kinds of source (recognition.sources)
    location = models.CharField(max_length=300)
    enabled = models.BooleanField(default=True)
    loop_playback = models.BooleanField(default=False, help_text="a file source plays again from the start (demo)")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IDLE)
    status_detail = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Purpose(models.TextChoices):
    CRIME_HOTSPOT = "crime_hotspot", "Crime hotspot"
    PROTECTIVE_SECURITY = "protective_security", "Protective security at an event or site"
    INTELLIGENCE_LED = "intelligence_led", "Intelligence-led location"


class Deployment(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for authorisation"
        AUTHORISED = "authorised", "Authorised"
        REJECTED = "rejected", "Rejected"
        LIVE = "live", "Live"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        STOPPED = "stopped", "Stopped (kill switch)"

    name = models.CharField(max_length=200)
    purpose = models.CharField(max_length=24, choices=Purpose.choices)
    location = models.CharField(max_length=300)
    location_reason = models.TextField(help_text="why this location, linked to the watchlist")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    cameras = models.ManyToManyField(Camera, related_name="deployments")
    watchlist = models.ForeignKey("watchlists.Watchlist", on_delete=models.PROTECT, related_name="deployments")
    threshold = models.FloatField()
    necessity_statement = models.TextField(help_text="necessity and proportionality")
    dpia_reference = models.CharField(max_length=100)
    signage_confirmed = models.BooleanField(default=False)
    public_notice_confirmed = models.BooleanField(default=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    officers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assigned_deployments",
                                      help_text="officers who receive this deployment's alerts")
    went_live_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-starts_at", "pk"]
        indexes = [models.Index(fields=["state", "starts_at"]), models.Index(fields=["state", "ends_at"])]

    def __str__(self) -> str:
        return self.name


class DeploymentAuthorisation(models.Model):
    """The recorded legal decision: who authorised or rejected, when, and why."""

    class Decision(models.TextChoices):
        AUTHORISED = "authorised", "Authorised"
        REJECTED = "rejected", "Rejected"

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="authorisations")
    decision = models.CharField(max_length=12, choices=Decision.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    reasons = models.TextField()
    threshold = models.FloatField()
    watchlist_size = models.PositiveIntegerField()
    model_id = models.CharField(max_length=100, blank=True)
    # What the authorising officer was shown for this threshold and model (recognition.calibration):
    # the statistics compare it with the false alert rate the deployment then had.
    expected_false_alerts = models.JSONField(default=dict, blank=True)
    # The same per passer-by, from the walk-by calibration for the workers' device (WalkbyExpectation.as_record:
    # false alerts per 1,000 passers-by and its bound, TPIR, per-group counts and the largest ratios).
    expected_per_passerby = models.JSONField(default=dict, blank=True)
    # The documents authorised, as they were: [{"id", "kind", "version", "sha256", "original_name"}, ...]. A
    # later upload adds a version and does not change this record.
    documents = models.JSONField(default=list, blank=True)

    @property
    def expected_per_1000(self) -> float | None:
        return self.expected_false_alerts.get("per_1000")

    @property
    def expected_per_1000_upper(self) -> float | None:
        """The 95% upper bound: "0 of 1,810 in the reference set" is not "never"."""
        upper = self.expected_false_alerts.get("fpir_upper_95")
        return None if upper is None else 1000 * upper

    @property
    def expected_per_1000_passersby(self) -> float | None:
        return self.expected_per_passerby.get("per_1000")

    @property
    def expected_per_1000_passersby_upper(self) -> float | None:
        return self.expected_per_passerby.get("upper95_per_1000")


class DocumentKind(models.TextChoices):
    DPIA = "dpia", "Data protection impact assessment (DPIA)"
    EIA = "eia", "Equality impact assessment (EIA)"
    APD = "apd", "Appropriate policy document (APD)"


class DeploymentDocument(models.Model):
    """One version of a document the authorisation rests on: a PDF under PROTECTED_MEDIA_ROOT, never served
    from a public URL. A new upload of a kind is a new version; none is overwritten."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=8, choices=DocumentKind.choices)
    version = models.PositiveIntegerField()
    file_name = models.CharField(max_length=200, help_text="name under the protected media root")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    original_name = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["deployment", "kind", "version"],
                                               name="one_document_version")]

    def as_record(self) -> dict:
        return {"id": self.pk, "kind": self.kind, "version": self.version, "sha256": self.sha256,
                "original_name": self.original_name}


class UrgentUse(models.Model):
    """EU AI Act Art. 5(3): a deployment started without prior authorisation in a duly justified urgency,
    to be authorised within DEPLOYMENT_URGENT_AUTHORISE_HOURS by someone other than who started it; refused or
    not authorised in time, it stops and its outputs are deleted. ``notification`` is the record for the
    market-surveillance and data-protection authorities (Art. 5(4)), kept up to date with the outcome."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Awaiting authorisation"
        AUTHORISED = "authorised", "Authorised"
        REFUSED = "refused", "Refused"
        EXPIRED = "expired", "Not authorised in time"

    deployment = models.OneToOneField(Deployment, on_delete=models.PROTECT, related_name="urgent_use")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    justification = models.TextField(help_text="why the urgency did not allow prior authorisation")
    authorise_by = models.DateTimeField(db_index=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reasons = models.TextField(blank=True)
    # Refused or expired: what was deleted, and when.
    data_deleted_at = models.DateTimeField(null=True, blank=True)
    alerts_deleted = models.PositiveIntegerField(default=0)
    images_deleted = models.PositiveIntegerField(default=0)
    references_deleted = models.PositiveIntegerField(default=0)
    notification = models.JSONField(default=dict)


class DeploymentTransition(models.Model):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=12)
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]


class WatchlistSnapshot(models.Model):
    """The watchlist frozen at authorisation: embeddings copied, later edits do not reach it."""

    deployment = models.OneToOneField(Deployment, on_delete=models.CASCADE, related_name="snapshot")
    watchlist_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    subject_count = models.PositiveIntegerField()
    reference_count = models.PositiveIntegerField()
    model_id = models.CharField(max_length=100)
    biometrics_deleted_at = models.DateTimeField(null=True, blank=True)
    # Why subject_count can be less than the manifest's: these entries had no image enrolled with model_id.
    unenrolled_references = models.JSONField(default=list, blank=True)


class SnapshotReference(models.Model):
    """One frozen reference embedding with the display data an alert shows. Deleted after the deployment."""

    snapshot = models.ForeignKey(WatchlistSnapshot, on_delete=models.CASCADE, related_name="references")
    subject_id = models.BigIntegerField(db_index=True)
    subject_reference = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=InclusionCategory.choices)
    reason = models.TextField()
    priority = models.CharField(max_length=8)
    reference_image_id = models.BigIntegerField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    # Added to the deployment's threshold for this reference (an entry enrolled as a child), frozen with it.
    threshold_offset = models.FloatField(default=0.0)
    enrolled_as_child = models.BooleanField(default=False)
    # The entry's decision aids (watchlists.Subject, the image's capture date), frozen with it.
    image_taken_on = models.DateField(null=True, blank=True)
    warning_markers = ArrayField(models.CharField(max_length=16, choices=WarningMarker.choices), default=list,
                                 blank=True)
    engagement_instructions = models.TextField(blank=True)


class ManifestEntry(models.Model):
    """Non-biometric record of who was on a deployment's watchlist: kept for subject access requests."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="manifest")
    subject_id = models.BigIntegerField()
    subject_reference = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=InclusionCategory.choices)
    reason = models.TextField(blank=True, help_text="why they were on the watchlist when it was frozen")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "subject_id"], name="one_manifest_row")]


class PostDeploymentRecord(models.Model):
    deployment = models.OneToOneField(Deployment, on_delete=models.CASCADE, related_name="post_record")
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(auto_now=True)
    outcomes = models.TextField()
    engagements = models.PositiveIntegerField(default=0)
    arrests = models.PositiveIntegerField(default=0)
