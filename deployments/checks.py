"""System checks of the camera settings: a bad CAMERA_ALLOWED_NETWORKS stops startup, not a camera."""

from django.conf import settings
from django.core import checks

from recognition.source_urls import parse_allowed_networks


@checks.register(checks.Tags.security)
def check_camera_allowed_networks(app_configs, **kwargs):
    try:
        parse_allowed_networks(settings.CAMERA_ALLOWED_NETWORKS)
    except ValueError as exc:
        return [checks.Error(f"CAMERA_ALLOWED_NETWORKS: {exc}",
                             hint="comma-separated NETWORK[:PORT|:FIRST-LAST], IPv6 with a port in brackets "
                                  "(docs/configuration.md, \"Camera destinations\")",
                             id="deployments.E001")]
    return []
