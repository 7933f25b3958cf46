from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIMENSIONS = 512


class InclusionCategory(models.TextChoices):
    """APP's closed list (College of Policing APP on LFR, "Watchlist"): no free-text "of interest".

    Each category's own rules (required fields, longest retention, review interval) are in
    watchlists/categories.py.
    """

    WANTED_BY_COURTS = "wanted_by_courts", "Wanted by the courts"
    SUSPECTED_OF_OFFENCE = "suspected_of_offence", "Suspected of an offence"
    SUBJECT_TO_RESTRICTION = "subject_to_restriction", "Subject to bail conditions, a court order or other restriction"
    MISSING_AT_RISK = "missing_at_risk", "Missing and at increased risk"
    RISK_OF_HARM = "risk_of_harm", "At risk of harm to themselves or others"
    VICTIM_WITNESS_ASSOCIATE = "victim_witness_associate", "Victim, witness or close associate"
    # Consenting staff walked past the cameras to measure a deployment's live TPIR (the Met's and NPL's
    # method). Enrolled, approved, frozen, purged and audited like every subject; the reason is the consent.
    TEST_SUBJECT = "test_subject", "Test subject (consenting staff)"


# What the categories were called before APP's list (migrations 0004 of watchlists, 0009 of deployments, 0005 of
# alerts map stored values with it).
RENAMED_CATEGORIES = {"suspected_of_offence": "suspected_of_offence", "unlawfully_at_large": "wanted_by_courts",
                      "missing_at_risk": "missing_at_risk"}


class WarningMarker(models.TextChoices):
    """What an officer must know before engaging: a small closed list, after the PNC's warning signals."""

    VIOLENT = "violent", "Violent"
    WEAPONS = "weapons", "Weapons"
    FIREARMS = "firearms", "Firearms"
    SELF_HARM = "self_harm", "Self-harm or suicidal"
    MENTAL_HEALTH = "mental_health", "Mental health"
    DRUGS = "drugs", "Drugs"
    ESCAPER = "escaper", "Escape risk"
    CONTAGIOUS = "contagious", "Contagious"


class Priority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Subject(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PURGED = "purged", "Purged (biometric data deleted)"

    reference = models.CharField(max_length=64, unique=True, help_text="PNC number or case id")
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)
    under_18_justification = models.TextField(blank=True)
    # APP asks more of an entry of a victim, witness or close associate (watchlists/categories.py).
    exceptional_justification = models.TextField(blank=True)
    category = models.CharField(max_length=32, choices=InclusionCategory.choices)
    reason = models.TextField()
    legal_basis = models.CharField(max_length=300)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    # Decision aids, frozen with the watchlist and shown on each alert.
    warning_markers = ArrayField(models.CharField(max_length=16, choices=WarningMarker.choices), default=list,
                                 blank=True)
    engagement_instructions = models.TextField(
        blank=True, help_text='what to do on a confirmed match, e.g. "arrest: warrant no. ...", "check conditions"')
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    review_date = models.DateField()
    expires_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="optimistic lock for concurrent edits")

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["expires_on", "status"]), models.Index(fields=["review_date", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.reference})"


class ReferenceImage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for enrolment"
        ENROLLED = "enrolled", "Enrolled"
        REFUSED = "refused", "Refused"
        DUPLICATE = "duplicate", "Looks like another subject: needs confirmation"
        PURGED = "purged", "Purged"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="images")
    file_name = models.CharField(max_length=200, help_text="path under PROTECTED_MEDIA_ROOT; never a public URL")
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=255, blank=True)
    image_source = models.CharField(max_length=200, help_text="e.g. custody image reference")
    capture_date = models.DateField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    refusal_reasons = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    face_count = models.PositiveSmallIntegerField(null=True)
    use_largest_face = models.BooleanField(
        default=False, help_text="the detective chose to enrol the largest face of a multi-face image")
    quality = models.JSONField(default=dict, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    model_id = models.CharField(max_length=100, blank=True)
    duplicate_of = models.ForeignKey(Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    duplicate_score = models.FloatField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            HnswIndex(name="refimage_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
        ]

    def __str__(self) -> str:
        return f"image {self.pk} of {self.subject_id} ({self.status})"


class Watchlist(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Awaiting approval"
        APPROVED = "approved", "Approved"

    name = models.CharField(max_length=200)
    purpose = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    compiled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True, help_text="last approval or review")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    subjects = models.ManyToManyField(Subject, through="WatchlistEntry", related_name="watchlists")

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class WatchlistEntry(models.Model):
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="entries")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="entries")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["watchlist", "subject"], name="one_entry_per_subject")]


class BulkImport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    csv_file = models.CharField(max_length=200, blank=True, help_text="protected file, deleted when finished")
    zip_file = models.CharField(max_length=200, blank=True, help_text="protected file, deleted when finished")
    error = models.TextField(blank=True)

    @property
    def report(self) -> list[dict]:
        """One entry per CSV row decided so far, in CSV order."""
        return [row.as_dict() for row in self.rows.exclude(status=BulkImportRow.Status.CREATED).order_by("number")]


class BulkImportRow(models.Model):
    """The outcome of one CSV row, recorded once: a redelivered import skips the rows already here."""

    class Status(models.TextChoices):
        # The subject and its images exist; the enrolment decision is not yet made (a crash can stop here).
        CREATED = "created", "Created"
        ENROLLED = "enrolled", "Enrolled"
        REFUSED = "refused", "Refused"
        DUPLICATE = "duplicate", "Duplicate"
        ERROR = "error", "Error"

    bulk_import = models.ForeignKey(BulkImport, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(help_text="line in the CSV (the header is line 1)")
    reference = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    detail = models.TextField(blank=True)
    subject = models.ForeignKey(Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bulk_import", "number"], name="one_outcome_per_import_row")]

    def as_dict(self) -> dict:
        return {"row": self.number, "reference": self.reference, "status": self.status, "detail": self.detail,
                "subject_id": self.subject_id}
