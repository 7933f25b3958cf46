"""Out-of-tree frame sources: a kind found through an entry point of the ``lfr_portal.frame_sources`` group
gives the URL rules, the help text and the opener; a broken one, or one claiming a built-in scheme, is skipped."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from recognition import source_kinds, sources
from recognition.source_urls import URLRefused
from recognition.sources import (
    ENTRY_POINT_GROUP,
    FramesFromImages,
    SourceKind,
    SourcePolicy,
    SourceRefused,
    UnknownSourceScheme,
    open_source,
    registered_schemes,
    source_validate,
    sources_help,
)


class BayCamKind(SourceKind):
    """What a vendor package would ship: ``baycam://BAY-<n>`` cameras."""

    schemes = ("baycam",)

    def help_text(self, policy):
        return "baycam://BAY-<n> (loading bay cameras)"

    def validate(self, url, policy):
        bay = url.split("://", 1)[1]
        if not bay.upper().startswith("BAY-") or not bay[4:].isdigit():
            raise URLRefused("a bay camera is baycam://BAY-<number>")
        return f"baycam://{bay.upper()}"

    def create(self, url, *, policy, loop=False, realtime=False, **options):
        return FramesFromImages([np.zeros((8, 8, 3), np.uint8)] * 2, url=url)


class Hijack(SourceKind):
    schemes = ("rtsp",)

    def validate(self, url, policy):
        return url

    def create(self, url, *, policy, loop=False, realtime=False, **options):
        raise AssertionError("never used")


class FakeEntryPoint:
    def __init__(self, name, target):
        self.name, self.group, self._target = name, ENTRY_POINT_GROUP, target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


@pytest.fixture
def installed(monkeypatch):
    """A registry of the built-ins, with these entry points installed, put back afterwards."""
    monkeypatch.setattr(sources, "_REGISTRY", dict(sources._REGISTRY))
    monkeypatch.setattr(sources, "_BUILT_IN", set(sources._BUILT_IN))
    monkeypatch.setattr(sources, "_plugins_loaded", False)
    groups = []

    def install(*entry_points):
        def fake_entry_points(*, group):
            groups.append(group)
            return list(entry_points) if group == ENTRY_POINT_GROUP else []
        monkeypatch.setattr(sources, "entry_points", fake_entry_points)
        return groups
    return install


def test_a_kind_from_an_entry_point_validates_describes_and_opens(installed):
    groups = installed(FakeEntryPoint("baycam", BayCamKind))
    assert "baycam" in registered_schemes() and groups == [ENTRY_POINT_GROUP]
    assert source_validate("baycam://bay-7") == "baycam://BAY-7"
    with pytest.raises(SourceRefused, match="BAY-<number>"):
        source_validate("baycam://dock-7")
    assert "baycam://BAY-<n> (loading bay cameras)" in sources_help(SourcePolicy())
    assert "rtsp(s)://" in sources_help(SourcePolicy())
    with open_source("baycam://BAY-7") as source:
        assert source.read() is not None


def test_the_camera_form_and_errors_name_the_plugins_kind(installed, settings, tmp_path):
    from deployments.camera_sources import camera_sources_help
    from deployments.forms import CameraForm

    settings.CAMERA_FILE_ROOT = tmp_path
    installed(FakeEntryPoint("baycam", BayCamKind()))
    assert "baycam://BAY-<n>" in str(CameraForm().fields["source_url"].help_text)
    assert f"a video file under {tmp_path}" in camera_sources_help()


def test_broken_plugins_and_plugins_claiming_a_built_in_scheme_are_skipped(installed, caplog):
    rtsp_kind = sources._REGISTRY["rtsp"]
    installed(FakeEntryPoint("broken", ImportError("no vendor SDK")), FakeEntryPoint("hijack", Hijack),
              FakeEntryPoint("baycam", BayCamKind))
    assert source_validate("baycam://BAY-1") == "baycam://BAY-1"
    assert sources._REGISTRY["rtsp"] is rtsp_kind
    assert "broken" in caplog.text and "hijack" in caplog.text
    with pytest.raises(UnknownSourceScheme):
        source_validate("gopher://10.0.0.5/")


def test_a_module_in_source_kinds_is_a_built_in_kind(installed, monkeypatch, tmp_path):
    """Adding a built-in kind is one module exposing SOURCE_KIND: nothing else names its scheme."""

    (tmp_path / "dockcam.py").write_text(
        "from recognition.capture_sources import NetworkStreamKind\n"
        "from recognition.ffmpeg_options import FFmpegOptions\n"
        "from recognition.source_base import NetworkScheme\n\n"
        "class DockCamKind(NetworkStreamKind):\n"
        "    networks = (NetworkScheme('dockcam', 9000, FFmpegOptions({'protocol_whitelist': 'tcp'})),)\n\n"
        "SOURCE_KIND = DockCamKind()\n")
    monkeypatch.setattr(source_kinds, "__path__", [*source_kinds.__path__, str(tmp_path)])
    installed()
    try:
        sources._register_built_ins()
        assert "dockcam" in registered_schemes() and "dockcam://" in sources_help()
        assert source_validate("dockcam://user:pw@10.0.0.5/bay") == "dockcam://user:pw@10.0.0.5/bay"
        with pytest.raises(SourceRefused, match="not in an allowed camera network"):
            source_validate("dockcam://8.8.8.8/")
        source = sources.create_source("dockcam://user:pw@10.0.0.5/bay")
        assert source.network.default_port == 9000 and "pw" not in repr(source)
    finally:
        sys.modules.pop("recognition.source_kinds.dockcam", None)
        vars(source_kinds).pop("dockcam", None)
