from django.conf import settings
from django.db import models

AREA_MAX_LENGTH = 300
TEXT_MAX_LENGTH = 1000
URL_MAX_LENGTH = 500


class PublicNotice(models.Model):
    """What the public is told about one deployment, in plain words: shown on the public pages, the feeds and the
    signage once the deployment is authorised. Plain text only (the pages escape it)."""

    deployment = models.OneToOneField("deployments.Deployment", on_delete=models.CASCADE, related_name="public_notice")
    area = models.CharField(max_length=AREA_MAX_LENGTH, help_text="where, in words the public knows; not the camera positions")
    purpose = models.TextField(max_length=TEXT_MAX_LENGTH)
    more_info = models.TextField(max_length=TEXT_MAX_LENGTH, blank=True, help_text="how to find out more: a contact")
    more_info_url = models.CharField(max_length=URL_MAX_LENGTH, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.area
