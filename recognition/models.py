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
