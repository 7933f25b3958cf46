from django.conf import settings
from django.db import models


class CameraMinuteCount(models.Model):
    """The only trace non-matching faces leave: how many faces each camera saw each minute."""

    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.PROTECT, related_name="face_counts")
    camera = models.ForeignKey("deployments.Camera", on_delete=models.PROTECT, related_name="face_counts")
    minute = models.DateTimeField()
    faces = models.PositiveIntegerField(default=0)  # detections: one per face per frame
    frames = models.PositiveIntegerField(default=0)
    tracks = models.PositiveIntegerField(default=0)  # tracks started: about one per passer-by

    class Meta:
        constraints = [models.UniqueConstraint(fields=["camera", "deployment", "minute"], name="one_count_per_minute")]


class ModelCalibration(models.Model):
    """What a recogniser's threshold means: the FPIR/TPIR curve measured on a reference set by
    ``manage.py evaluate_watchlist --store-calibration`` (kind ``image``: one search per face image), or the
    per-passer-by curve of ``manage.py evaluate_live --store-calibration`` (kind ``walkby``, for one device).
    Kept, never edited: the newest of a kind for a model id (and device) is the one shown to authorising
    officers, and the audit events name the one they were shown."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Per face image (evaluate_watchlist)"
        WALKBY = "walkby", "Per passer-by (evaluate_live)"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.IMAGE)
    device = models.CharField(max_length=10, blank=True,
                              help_text="walkby: the device whose live defaults were measured (cpu, cuda)")
    model_id = models.CharField(max_length=100)
    dataset = models.CharField(max_length=200)
    probes = models.CharField(max_length=20, help_text="none (clean photographs), cctv (degraded) or walkby")
    label_fixes = models.CharField(max_length=300, blank=True)
    flip = models.BooleanField(default=False)
    gallery_size = models.PositiveIntegerField()
    mated_searches = models.PositiveIntegerField(help_text="walkby: mated passers-by")
    nonmated_searches = models.PositiveIntegerField(help_text="walkby: non-mated passers-by")
    measured_on = models.DateField()
    command = models.TextField()
    details = models.JSONField(default=dict, help_text="seed, detector, references per subject; walkby: det_size, fps, "
                                                       "frame size, non-mated sets, exclusions, decision")
    curve = models.JSONField(help_text="[{threshold, false_alerts, fpir, fpir_upper, true_alerts, tpir}], lowest first; "
                                       "walkby: [{threshold, true_alerts, mated, tpir, false_alerts, nonmated, "
                                       "groups, per_1000, upper95_per_1000}]")
    stored_at = models.DateTimeField(auto_now_add=True)
    stored_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        indexes = [models.Index(fields=["model_id", "-stored_at"], name="calibration_newest")]
