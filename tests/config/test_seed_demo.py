from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.demo import DEMO_USERS
from deployments.models import Camera, Deployment
from watchlists.models import ReferenceImage, Subject, Watchlist

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def demo_root(settings, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path / "video"
    return settings.CAMERA_FILE_ROOT


def check_demo(capsys, expected_name):
    out = capsys.readouterr().out
    for username, _, role in DEMO_USERS:
        assert username in out and get_user_model().objects.get(username=username).groups.get().name == role.value
    subject = Subject.objects.get(reference="DEMO-0001")
    assert subject.name == expected_name
    assert subject.images.filter(status=ReferenceImage.Status.ENROLLED).count() == 1
    assert Watchlist.objects.get(name="Demo watchlist").status == Watchlist.Status.APPROVED
    deployment = Deployment.objects.get(name="Demo deployment")
    assert deployment.state == Deployment.State.AUTHORISED and deployment.officers.get().username == "officer"
    camera = Camera.objects.get(name="Demo camera")
    assert camera.loop_playback and Path(camera.source_url).is_file()
    assert f"/alerts/deployments/{deployment.pk}/live/" in out


def test_seed_demo_without_shared_data_builds_footage_from_packaged_photos(demo_root, monkeypatch, capsys):
    from config.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "HAMILTON_VIDEO", Path("/nonexistent/video.mp4"))
    call_command("seed_demo")
    check_demo(capsys, "Yao Ming")
    call_command("seed_demo")  # idempotent: a second start reuses everything
    assert Deployment.objects.filter(name="Demo deployment").count() == 1
    assert Subject.objects.count() == 1


def test_seed_demo_uses_the_hamilton_clip_when_shared_data_is_present(demo_root, capsys):
    from config.management.commands import seed_demo

    if not seed_demo.HAMILTON_VIDEO.is_file():
        pytest.skip(f"shared data absent: {seed_demo.HAMILTON_VIDEO}")
    call_command("seed_demo")
    check_demo(capsys, "Lin-Manuel Miranda")


def test_a_demo_seeded_before_the_category_rules_is_brought_within_them(demo_root, monkeypatch, capsys):
    import datetime as dt

    from django.utils import timezone

    from config.management.commands import seed_demo
    from watchlists.selectors import subject_category_problems

    monkeypatch.setattr(seed_demo, "HAMILTON_VIDEO", Path("/nonexistent/video.mp4"))
    call_command("seed_demo")
    # As an older seed stored it: no decision aids, kept a year (suspected of an offence: six months now).
    Subject.objects.filter(reference="DEMO-0001").update(
        engagement_instructions="", warning_markers=[], expires_on=timezone.localdate() + dt.timedelta(days=365))
    call_command("seed_demo")
    subject = Subject.objects.get(reference="DEMO-0001")
    assert subject_category_problems(subject=subject) == [] and subject.warning_markers == ["violent", "weapons"]
    assert subject.engagement_instructions.startswith("Arrest for robbery")
    assert Watchlist.objects.get(name="Demo watchlist").status == Watchlist.Status.APPROVED
