"""Frame sources: where a camera's frames come from, behind one small interface (a plugin point).

No Django imports: the recognition worker and the benchmarks use this module directly.

    with open_source("rtsp://user:secret@10.0.0.5/stream1") as source:
        while (frame := source.read()) is not None:
            ...  # frame.image (BGR uint8), frame.timestamp (s), frame.index

Built in, by URL scheme:

- ``file://...`` or a plain path: a video file through OpenCV (FFmpeg). ``loop=True`` plays it forever (the
  demo camera); ``realtime=True`` paces it at the file's frame rate and, like a live camera, skips the frames
  a late reader missed instead of queueing them.
- ``rtsp``, ``rtsps``, ``http``, ``https``: a network stream through OpenCV's FFmpeg backend with open and
  read timeouts, so an unreachable or silent camera raises :class:`SourceUnavailable` (opening) or ends the
  stream (``read()`` returns None) within the timeout instead of hanging. When one cannot be opened the
  camera is asked directly why (``recognition.stream_diagnosis``: wrong credentials, no such path, a
  playlist, a silent server), and that is the error's reason.

Every source refuses frames larger than the policy's ``max_frame_pixels`` (``CAMERA_MAX_FRAME_PIXELS``): by
the size the stream declares when it opens, and again per frame.

Each scheme is a :class:`SourceKind` in a registry: ``register_source(scheme, kind)`` adds one (a vendor SDK,
a GStreamer pipeline, a test double). A kind both checks URLs (``validate``: the canonical URL, or
:class:`SourceRefused`) and makes sources, which check again each time they open, so a URL stored before a
rule existed, or a host whose DNS answer changed, is refused when opened. What a URL may reach is a
:class:`SourcePolicy`: destination networks and ports (``recognition.source_urls``) and a root for video
files. FFmpeg opens each scheme with its own protocol whitelist (``recognition.ffmpeg_options``).

Reconnecting is the caller's job (:class:`Backoff` gives the delays); ``recognition.run_loop.run_cameras``
does it for live sources.

Error messages and ``repr`` never show a password embedded in a URL (``redact_url``).

This module is the registry and the public names; the shared interface is in ``recognition.source_base``
and the OpenCV sources in ``recognition.capture_sources``.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from urllib.parse import unquote, urlsplit

from recognition.capture_sources import (  # noqa: F401 - the public names of frame sources live here
    DEFAULT_OPEN_TIMEOUT_S,
    DEFAULT_READ_TIMEOUT_S,
    FramesFromImages,
    StreamSource,
    VideoFileSource,
    video_path_resolved,
)
from recognition.source_base import (  # noqa: F401
    DEFAULT_MAX_FRAME_PIXELS,
    Frame,
    FrameSource,
    RefusedSource,
    SourceError,
    SourcePolicy,
    SourceRefused,
    SourceUnavailable,
    refusing,
)
from recognition.source_urls import URLRefused, network_url_canonical, redact_url, refuse_unsafe_characters


class UnknownSourceScheme(SourceError, ValueError):
    def __init__(self, url: str, scheme: str) -> None:
        self.url, self.scheme = redact_url(url), scheme
        known = ", ".join(sorted(_REGISTRY)) or "none"
        super().__init__(f"no frame source for scheme {scheme!r} in {self.url} (known: {known})")


class SourceKind(ABC):
    """One kind of frame source (a plugin point): how its URLs are checked and how its sources are made."""

    @abstractmethod
    def validate(self, url: str, policy: SourcePolicy) -> str:
        """The canonical URL to store and open; raise SourceRefused (via URLRefused) when it may not be."""

    @abstractmethod
    def create(self, url: str, *, policy: SourcePolicy, loop: bool = False, realtime: bool = False,
               **options) -> FrameSource:
        """The source, not yet opened; its ``open()`` checks the URL against ``policy`` again."""


_REGISTRY: dict[str, SourceKind] = {}


def register_source(scheme: str, kind: SourceKind) -> None:
    """Registering a scheme again replaces its kind."""
    scheme = scheme.lower().rstrip(":/")
    if not scheme:
        raise ValueError("a source scheme must not be empty")
    if not isinstance(kind, SourceKind):
        raise TypeError("register a SourceKind")
    _REGISTRY[scheme] = kind


def registered_schemes() -> list[str]:
    return sorted(_REGISTRY)


def source_scheme(url: str | os.PathLike) -> str:
    """The registry key of a URL: its scheme, or ``file`` for a plain path (Windows drive letters too)."""
    text = os.fspath(url)
    scheme = urlsplit(text).scheme.lower() if "://" in text or text.lower().startswith("file:") else ""
    return scheme or "file"


def _kind(text: str) -> SourceKind:
    scheme = source_scheme(text)
    kind = _REGISTRY.get(scheme)
    if kind is None:
        raise UnknownSourceScheme(text, scheme)
    return kind


def source_validate(url: str | os.PathLike, *, policy: SourcePolicy | None = None) -> str:
    """The canonical form of ``url`` as its kind checks it; SourceRefused or UnknownSourceScheme if refused."""
    text = os.fspath(url)
    with refusing(text):
        return _kind(text).validate(text, policy or SourcePolicy())


def create_source(url: str | os.PathLike, *, policy: SourcePolicy | None = None, loop: bool = False,
                  realtime: bool = False, **options) -> FrameSource:
    """The source for this URL, not yet opened; UnknownSourceScheme when no kind is registered.

    Without a policy: the default camera networks (private ranges) and video files anywhere.
    """
    text = os.fspath(url)
    return _kind(text).create(text, policy=policy or SourcePolicy(), loop=loop, realtime=realtime, **options)


def open_source(url: str | os.PathLike, *, policy: SourcePolicy | None = None, loop: bool = False,
                realtime: bool = False, **options) -> FrameSource:
    """Create and open the source for ``url``; raises SourceUnavailable (naming the URL) when it cannot."""
    source = create_source(url, policy=policy, loop=loop, realtime=realtime, **options)
    source.open()
    return source


def _file_path(url: str) -> Path:
    if "://" in url or url.lower().startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise URLRefused("file URLs must name a local file (file:///path)")
        return Path(unquote(parts.path))
    return Path(url)


class VideoFileKind(SourceKind):
    """``file:///path`` or a plain path; the stored form is the resolved path."""

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


class StreamKind(SourceKind):
    """A network stream; the URL is rebuilt from its parts and its destination checked (source_urls)."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme

    def validate(self, url: str, policy: SourcePolicy) -> str:
        return network_url_canonical(url, scheme=self.scheme, policy=policy.destinations)

    def create(self, url: str, *, policy: SourcePolicy, loop: bool = False, realtime: bool = False,
               **options) -> FrameSource:
        # loop / realtime mean nothing for a live stream: it is always paced by the camera.
        return StreamSource(url, policy=policy, **options)


register_source("file", VideoFileKind())
for _scheme in ("rtsp", "rtsps", "http", "https"):
    register_source(_scheme, StreamKind(_scheme))


class Backoff:
    """Reconnect delays: 1, 2, 4, ... seconds, capped at ``maximum``; ``reset()`` after a success."""

    def __init__(self, initial: float = 1.0, maximum: float = 30.0, factor: float = 2.0) -> None:
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self.attempts = 0

    def next(self) -> float:
        delay = min(self.maximum, self.initial * self.factor ** min(self.attempts, 64))
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
