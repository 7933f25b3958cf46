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
  stream (``read()`` returns None) within the timeout instead of hanging.

Each scheme is a :class:`SourceKind` in a registry: ``register_source(scheme, kind)`` adds one (a vendor SDK,
a GStreamer pipeline, a test double). A kind both checks URLs (``validate``: the canonical URL, or
:class:`SourceRefused`) and makes sources, which check again each time they open, so a URL stored before a
rule existed, or a host whose DNS answer changed, is refused when opened. What a URL may reach is a
:class:`SourcePolicy`: destination networks and ports (``recognition.source_urls``) and a root for video
files. FFmpeg opens each scheme with its own protocol whitelist (``recognition.ffmpeg_options``).

Reconnecting is the caller's job (:class:`Backoff` gives the delays); ``recognition.pipeline.run_cameras``
does it for live sources.

Error messages and ``repr`` never show a password embedded in a URL (``redact_url``).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np

from recognition.ffmpeg_options import capture_options
from recognition.source_urls import (
    DestinationPolicy,
    URLRefused,
    network_url_canonical,
    network_url_checked,
    redact_url,
    refuse_unsafe_characters,
)

logger = logging.getLogger(__name__)

DEFAULT_OPEN_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 5.0
_FALLBACK_FPS = 25.0


@dataclass(frozen=True, eq=False)
class Frame:
    image: np.ndarray  # HxWx3 BGR uint8
    timestamp: float  # seconds: video time for a file read as fast as possible, else monotonic since the start
    index: int  # frame number in the stream, counting on across loops; skipped frames leave gaps


class SourceError(Exception):
    """Base class for frame source errors."""


class SourceUnavailable(SourceError):
    """The source cannot be opened (missing file, unreachable or silent camera, unsupported stream)."""

    state = "unavailable"

    def __init__(self, url: str, reason: str) -> None:
        self.url = redact_url(url)
        self.reason = reason
        super().__init__(f"frame source {self.url} {self.state}: {reason}")


class SourceRefused(SourceUnavailable, ValueError):
    """The URL may not be opened: it breaks a rule of its kind or leads somewhere the policy refuses."""

    state = "refused"


class UnknownSourceScheme(SourceError, ValueError):
    def __init__(self, url: str, scheme: str) -> None:
        self.url, self.scheme = redact_url(url), scheme
        known = ", ".join(sorted(_REGISTRY)) or "none"
        super().__init__(f"no frame source for scheme {scheme!r} in {self.url} (known: {known})")


@dataclass(frozen=True)
class SourcePolicy:
    """What a source may reach: network destinations, and the folder video files must be in (None: any)."""

    destinations: DestinationPolicy = field(default_factory=DestinationPolicy.parse)
    file_root: Path | None = None


@contextmanager
def _refusing(url: str) -> Iterator[None]:
    """URLRefused from the URL checks, as the SourceRefused that names the (masked) URL."""
    try:
        yield
    except URLRefused as exc:
        raise SourceRefused(url, exc.reason) from None


class FrameSource(ABC):
    """A camera or recording. ``read()`` returns the next :class:`Frame`, or None at the end or on failure.

    ``open()`` may be called again after ``close()`` (reconnect). ``live`` sources produce frames whether or
    not anyone reads them (a camera, or a file paced in real time): a slow reader must take the latest
    frame and drop the rest. Non-live sources wait for their reader (a file read as fast as possible).
    """

    url: str = ""
    live: bool = False
    fps: float | None = None  # nominal frame rate when known
    dropped: int = 0  # frames the source itself skipped because its reader was late

    @abstractmethod
    def open(self) -> None:
        """Connect / open; raise SourceUnavailable with the reason if that fails."""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame; None at the end of the stream or when the stream failed (see ``ended``)."""

    @abstractmethod
    def close(self) -> None:
        """Release the source; safe to call twice."""

    @property
    def ended(self) -> bool:
        """True when the last ``read()`` returned None because a finite source ran out (not a failure)."""
        return False

    def __enter__(self) -> FrameSource:
        if not self.is_open:
            self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redact_url(self.url)}>"


class _CaptureSource(FrameSource):
    """Common part of the OpenCV VideoCapture sources."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._capture = None
        self._lock = threading.RLock()  # open/read/close may come from a reader thread and its owner

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def close(self) -> None:
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


class _RealTimePacing:
    """Plays recorded frames at their frame rate, as a live camera sends them (``realtime``); otherwise as
    fast as they are read. Uses the source's ``fps``, ``_start``, ``_next_index`` and ``dropped``."""

    fps: float
    realtime: bool
    dropped: int
    _start: float | None
    _next_index: int

    def _wait_for_next_frame(self, skip_one: Callable[[], bool]) -> bool:
        """Sleep until the next frame is due; a late reader skips what a live camera would have sent
        (``skip_one`` advances one frame). False when the frames ran out while skipping."""
        now = time.monotonic()
        if self._start is None:
            self._start = now - self._next_index / self.fps
        due_index = int((now - self._start) * self.fps)
        while self._next_index < due_index:
            if not skip_one():
                return False
            self._next_index += 1
            self.dropped += 1
        wait = self._start + self._next_index / self.fps - now
        if wait > 0:
            time.sleep(wait)
        return True

    def _frame(self, image: np.ndarray) -> Frame:
        index = self._next_index
        self._next_index += 1
        timestamp = time.monotonic() - self._start if self.realtime else index / self.fps
        return Frame(image, timestamp, index)


class VideoFileSource(_RealTimePacing, _CaptureSource):
    """A video file (anything FFmpeg reads) through OpenCV."""

    def __init__(self, path: str | Path, *, loop: bool = False, realtime: bool = False, url: str | None = None,
                 root: Path | None = None) -> None:
        super().__init__(url or str(path))
        self.path = Path(path)
        self.root = root
        self.loop = loop
        self.realtime = realtime
        self.live = realtime
        self.fps = None
        self.frame_count: int | None = None
        self._next_index = 0  # index of the next frame the file will give
        self._pass_frames = 0  # frames read since the file was (re)opened: loop only a file that gave some
        self._start: float | None = None
        self._ended = False
        self.dropped = 0
        self.loops = 0

    def open(self) -> None:
        import cv2

        self.close()
        with _refusing(self.url):
            path = video_path_resolved(self.path, root=self.root)
        if not path.is_file():
            raise SourceUnavailable(self.url, f"no such video file: {path}")
        with capture_options("file"):
            capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            capture.release()
            raise SourceUnavailable(self.url, "OpenCV/FFmpeg cannot open this file as a video")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and math.isfinite(fps) and 0 < fps < 1000 else _FALLBACK_FPS
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if count and count > 0 else None
        with self._lock:
            self._capture = capture
        self._pass_frames = 0
        self._ended = False
        self._start = None  # the real-time clock restarts, the frame index counts on

    @property
    def ended(self) -> bool:
        return self._ended

    def _grab(self) -> bool:
        """Advance one frame (decoding it), looping back to the start when asked to."""
        if self._capture is None:
            return False
        if self._capture.grab():
            self._pass_frames += 1
            return True
        if self.loop and self._pass_frames > 0:
            next_index, start = self._next_index, self._start
            self.open()
            self._next_index, self._start = next_index, start
            self.loops += 1
            if self._capture.grab():
                self._pass_frames += 1
                return True
        self._ended = True
        return False

    def read(self) -> Frame | None:
        with self._lock:
            if self._capture is None:
                return None
            if self.realtime and not self._wait_for_next_frame(self._grab):
                return None
            if not self._grab():
                return None
            ok, image = self._capture.retrieve()
            if not ok or image is None:
                self._ended = True
                return None
            return self._frame(image)


class StreamSource(_CaptureSource):
    """A network camera stream (RTSP, HTTP MJPEG/HLS...) through OpenCV's FFmpeg backend, with timeouts.

    The FFmpeg backend honours ``CAP_PROP_OPEN_TIMEOUT_MSEC`` and ``CAP_PROP_READ_TIMEOUT_MSEC`` through its
    interrupt callback, so neither an unreachable host nor a camera that stops sending hangs the caller.
    RTSP transport and other FFmpeg options come from the ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` environment
    variable (e.g. ``rtsp_transport;tcp``), as OpenCV documents.
    """

    live = True

    def __init__(self, url: str, *, policy: SourcePolicy | None = None, open_timeout: float = DEFAULT_OPEN_TIMEOUT_S,
                 read_timeout: float = DEFAULT_READ_TIMEOUT_S) -> None:
        super().__init__(url)
        self.policy = policy or SourcePolicy()
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.fps = None
        self._start: float | None = None
        self._index = 0
        self.failed_reason: str | None = None

    def open(self) -> None:
        import cv2

        self.close()
        scheme = source_scheme(self.url)
        with _refusing(self.url):
            checked = network_url_checked(self.url, scheme=scheme, policy=self.policy.destinations)
        host = checked.host_header
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout * 1000)]
        started = time.monotonic()
        with capture_options(scheme, {"headers": f"Host: {host}\r\n"} if host else None):
            capture = cv2.VideoCapture(checked.pinned_url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            waited = time.monotonic() - started
            why = "timed out" if waited >= self.open_timeout * 0.9 else "connection failed or stream not understood"
            raise SourceUnavailable(self.url, f"{why} after {waited:.1f} s")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and math.isfinite(fps) and 0 < fps < 1000 else None
        with self._lock:
            self._capture = capture
        if self._start is None:
            self._start = time.monotonic()
        self.failed_reason = None

    def read(self) -> Frame | None:
        with self._lock:
            if self._capture is None:
                return None
            ok, image = self._capture.read()
            if not ok or image is None:
                self.failed_reason = f"no frame within {self.read_timeout:.0f} s or stream ended"
                return None
            frame = Frame(image, time.monotonic() - self._start, self._index)
            self._index += 1
            return frame


class RefusedSource(FrameSource):
    """Stands in for a source that could not be made (unknown scheme, malformed URL): opening it says why.

    Live, so a caller that reconnects keeps the camera and retries, as it would for a camera that is down."""

    live = True

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason

    def open(self) -> None:
        raise SourceRefused(self.url, self.reason)

    def read(self) -> Frame | None:
        return None

    def close(self) -> None:
        pass


class FramesFromImages(_RealTimePacing, FrameSource):
    """In-memory frames (tests, replays): timestamps are index / fps unless paced in real time."""

    def __init__(self, images: Sequence[np.ndarray], *, fps: float = 25.0, loop: bool = False,
                 realtime: bool = False, url: str = "images:") -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.images = list(images)
        self.fps, self.loop, self.realtime, self.live = float(fps), loop, realtime, realtime
        self.url = url
        self._position = 0
        self._next_index = 0
        self._start: float | None = None
        self._open = False
        self._ended = False
        self.dropped = 0

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def ended(self) -> bool:
        return self._ended

    def open(self) -> None:
        self._open, self._position, self._ended = True, 0, False

    def close(self) -> None:
        self._open = False

    def _advance(self) -> np.ndarray | None:
        if self._position >= len(self.images):
            if not (self.loop and self.images):
                self._ended = True
                return None
            self._position = 0
        image = self.images[self._position]
        self._position += 1
        return image

    def read(self) -> Frame | None:
        if not self._open:
            return None
        if self.realtime and not self._wait_for_next_frame(lambda: self._advance() is not None):
            return None
        image = self._advance()
        if image is None:
            return None
        return self._frame(image)


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
    with _refusing(text):
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


def video_path_resolved(path: Path, *, root: Path | None) -> Path:
    """The resolved path (symbolic links followed); under ``root``, which relative paths start from, if given."""
    if root is None:
        return path.resolve()
    root = Path(root).resolve()
    path = (path if path.is_absolute() else root / path).resolve()
    if root != path and root not in path.parents:
        raise URLRefused(f"video files must be under {root}")
    return path


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
        with _refusing(url):
            path = _file_path(url)
        return VideoFileSource(path, loop=loop, realtime=realtime, url=url, root=policy.file_root)


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
