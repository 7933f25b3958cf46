"""System checks of the camera settings."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from deployments.checks import check_camera_allowed_networks


def test_the_default_camera_networks_pass():
    assert check_camera_allowed_networks(None) == []


@pytest.mark.parametrize("value", ["10.0.0.0/33", "10.0.0.0/8:http", "fd00::/8:554", "camera.lan"])
def test_a_bad_camera_allow_list_stops_startup(settings, value):
    settings.CAMERA_ALLOWED_NETWORKS = value
    [error] = check_camera_allowed_networks(None)
    assert error.id == "deployments.E001" and value in error.msg
    with pytest.raises(SystemCheckError, match="deployments.E001"):
        call_command("check")
