from django.conf import settings
from django.db import models


class CameraMinuteCount(models.Model):
    """The only trace non-matching faces leave: how many faces each camera saw each minute."""

    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.PROTECT, related_name="face_counts")
    camera = models.ForeignKey("deployments.Camera", on_delete=models.PROTECT, related_name="face_counts")
    minute = models.DateTimeField()
    faces = models.PositiveIntegerField(default=0)
    frames = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["camera", "deployment", "minute"], name="one_count_per_minute")]


class ModelCalibration(models.Model):
    """What a recogniser's threshold means: the FPIR/TPIR curve measured on a reference set by
    ``manage.py evaluate_watchlist --store-calibration``. Kept, never edited: the newest for a model id
    is the one shown to authorising officers, and the audit events name the one they were shown."""

    model_id = models.CharField(max_length=100)
    dataset = models.CharField(max_length=200)
    probes = models.CharField(max_length=20, help_text="none (clean photographs) or cctv (degraded)")
    label_fixes = models.CharField(max_length=300, blank=True)
    flip = models.BooleanField(default=False)
    gallery_size = models.PositiveIntegerField()
    mated_searches = models.PositiveIntegerField()
    nonmated_searches = models.PositiveIntegerField()
    measured_on = models.DateField()
    command = models.TextField()
    details = models.JSONField(default=dict, help_text="seed, detector, references per subject")
    curve = models.JSONField(help_text="[{threshold, false_alerts, fpir, fpir_upper, true_alerts, tpir}], lowest first")
    stored_at = models.DateTimeField(auto_now_add=True)
    stored_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        indexes = [models.Index(fields=["model_id", "-stored_at"], name="calibration_newest")]
