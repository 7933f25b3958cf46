"""Video files (``file:///path`` or a plain path) through OpenCV, under the policy's file root. No Django imports."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from recognition.capture_sources import VideoFileSource, video_path_resolved
from recognition.source_base import FrameSource, SourceKind, SourcePolicy, refusing
from recognition.source_urls import URLRefused, refuse_unsafe_characters


def _file_path(url: str) -> Path:
    if "://" in url or url.lower().startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise URLRefused("file URLs must name a local file (file:///path)")
        return Path(unquote(parts.path))
    return Path(url)


class VideoFileKind(SourceKind):
    """The stored form is the resolved path."""

    schemes = ("file",)

    def help_text(self, policy: SourcePolicy) -> str:
        return f"a video file under {policy.file_root}" if policy.file_root is not None else "a video file"

    def validate(self, url: str, policy: SourcePolicy) -> str:
        refuse_unsafe_characters(url, file_path=True)
        path = video_path_resolved(_file_path(url), root=policy.file_root)
        if not path.is_file():
            raise URLRefused(f"no video file at {path}")
        return str(path)

    def create(self, url: str, *, policy: SourcePolicy, loop: bool = False, realtime: bool = False,
               **options) -> FrameSource:
        if options:
            raise TypeError(f"unexpected options for a video file source: {', '.join(sorted(options))}")
        with refusing(url):
            path = _file_path(url)
        return VideoFileSource(path, loop=loop, realtime=realtime, url=url, root=policy.file_root,
                               max_frame_pixels=policy.max_frame_pixels)


SOURCE_KIND = VideoFileKind()
