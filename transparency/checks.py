"""System check of the public pages' settings: the force-wide "find out more" address is shown as a link."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator


@checks.register(checks.Tags.security)
def check_public_notice_url(app_configs, **kwargs):
    if not settings.PUBLIC_NOTICE_URL:
        return []
    try:
        URLValidator(schemes=["http", "https"])(settings.PUBLIC_NOTICE_URL)
    except ValidationError:
        return [checks.Error(f"PUBLIC_NOTICE_URL: {settings.PUBLIC_NOTICE_URL!r} is not an http:// or https:// address",
                             hint="the public pages link to it (docs/configuration.md)", id="transparency.E001")]
    return []
