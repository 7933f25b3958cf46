"""The OpenCV (FFmpeg) sources: video files and network streams, and in-memory frames; and the kind every
network stream scheme builds on (:class:`NetworkStreamKind`). No Django imports."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from recognition.ffmpeg_options import LOCAL_FILE, capture_options
from recognition.source_base import (
    Frame,
    FrameSource,
    NetworkScheme,
    SourceKind,
    SourcePolicy,
    SourceRefused,
    SourceUnavailable,
    refusing,
)
from recognition.source_urls import CheckedURL, URLRefused, network_url_canonical, network_url_checked
from recognition.stream_diagnosis import open_failure_reason

DEFAULT_OPEN_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 5.0
_FALLBACK_FPS = 25.0


class _CaptureSource(FrameSource):
    """Common part of the OpenCV VideoCapture sources."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._capture = None
        self._lock = threading.RLock()  # open/read/close may come from a reader thread and its owner

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def _refuse_oversized_stream(self, capture, policy: SourcePolicy) -> None:
        """Refuse the stream by the size it declares, before a single frame is converted for us."""
        import cv2

        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        refusal = policy.frame_size_refusal(width, height)
        if refusal is not None:
            capture.release()
            raise SourceRefused(self.url, refusal)

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
                 root: Path | None = None, max_frame_pixels: int | None = None) -> None:
        super().__init__(url or str(path))
        self.path = Path(path)
        self.root = root
        self.size_policy = SourcePolicy(max_frame_pixels=max_frame_pixels)
        self.failed_reason: str | None = None
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
        with refusing(self.url):
            path = video_path_resolved(self.path, root=self.root)
        if not path.is_file():
            raise SourceUnavailable(self.url, f"no such video file: {path}")
        with capture_options(LOCAL_FILE):
            capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            capture.release()
            raise SourceUnavailable(self.url, "OpenCV/FFmpeg cannot open this file as a video")
        self._refuse_oversized_stream(capture, self.size_policy)
        self.failed_reason = None
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
            refusal = self.size_policy.frame_size_refusal(image.shape[1], image.shape[0])
            if refusal is not None:
                self.failed_reason = refusal
                return None
            return self._frame(image)


class StreamSource(_CaptureSource):
    """A network camera stream (RTSP, HTTP MJPEG/HLS...) through OpenCV's FFmpeg backend, with timeouts.

    The FFmpeg backend honours ``CAP_PROP_OPEN_TIMEOUT_MSEC`` and ``CAP_PROP_READ_TIMEOUT_MSEC`` through its
    interrupt callback, so neither an unreachable host nor a camera that stops sending hangs the caller.
    RTSP transport and other FFmpeg options come from the ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` environment
    variable (e.g. ``rtsp_transport;tcp``), as OpenCV documents.

    A stream that does not open is diagnosed (``recognition.stream_diagnosis``); one that declares frames
    above the policy's ``max_frame_pixels`` is refused before a frame is converted, and a frame above it
    ends the read (``failed_reason`` says why), as does a read that times out or a stream that ends.
    """

    live = True

    def __init__(self, url: str, *, network: NetworkScheme, policy: SourcePolicy | None = None,
                 open_timeout: float = DEFAULT_OPEN_TIMEOUT_S, read_timeout: float = DEFAULT_READ_TIMEOUT_S) -> None:
        super().__init__(url)
        self.network = network
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
        with refusing(self.url):
            checked = network_url_checked(self.url, scheme=self.network.name, policy=self.policy.destinations,
                                          default_port=self.network.default_port)
        host = checked.host_header
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout * 1000)]
        started = time.monotonic()
        with capture_options(self.network.ffmpeg, {"headers": f"Host: {host}\r\n"} if host else None):
            capture = cv2.VideoCapture(checked.pinned_url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise self._open_failure(checked, waited=time.monotonic() - started)
        self._refuse_oversized_stream(capture, self.policy)
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and math.isfinite(fps) and 0 < fps < 1000 else None
        with self._lock:
            self._capture = capture
        if self._start is None:
            self._start = time.monotonic()
        self.failed_reason = None

    def _open_failure(self, checked: CheckedURL, *, waited: float) -> SourceUnavailable:
        """The error for a capture that did not open, with what the camera itself answers."""
        if waited >= self.open_timeout * 0.9:
            # Not asked again for as long: a quick look tells a silent camera from an unreachable one.
            diagnosis = open_failure_reason(checked, timeout=min(self.open_timeout, 2.0))
            return SourceUnavailable(self.url, f"timed out after {waited:.1f} s{f': {diagnosis}' if diagnosis else ''}")
        diagnosis = open_failure_reason(checked, timeout=self.open_timeout)
        return SourceUnavailable(self.url, f"{diagnosis or 'connection failed or stream not understood'} "
                                           f"(after {waited:.1f} s)")

    def read(self) -> Frame | None:
        with self._lock:
            if self._capture is None:
                return None
            started = time.monotonic()
            ok, image = self._capture.read()
            if not ok or image is None:
                if time.monotonic() - started >= self.read_timeout * 0.9:
                    self.failed_reason = f"no frame within {self.read_timeout:g} s: the camera stopped sending"
                elif self.failed_reason is None:  # after a timeout FFmpeg fails at once: that is no new cause
                    self.failed_reason = ("the stream ended: the camera closed the connection, or sent what "
                                          "cannot be decoded")
                return None
            # A stream may change its size after it opened (a new H.264 sequence, a bigger JPEG).
            refusal = self.policy.frame_size_refusal(image.shape[1], image.shape[0])
            if refusal is not None:
                self.failed_reason = refusal
                return None
            frame = Frame(image, time.monotonic() - self._start, self._index)
            self._index += 1
            return frame


class NetworkStreamKind(SourceKind):
    """A kind whose schemes are network streams opened by FFmpeg (:class:`StreamSource`): the URL is rebuilt
    from its parts and its destination checked (``recognition.source_urls``), when stored and at every open."""

    networks: tuple[NetworkScheme, ...] = ()

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(network.name for network in self.networks)

    def network(self, url: str) -> NetworkScheme:
        scheme = urlsplit(url).scheme.lower()
        for network in self.networks:
            if network.name == scheme:
                return network
        raise URLRefused(f"expected a {' or '.join(f'{s}://' for s in self.schemes)} URL")

    def validate(self, url: str, policy: SourcePolicy) -> str:
        network = self.network(url)
        return network_url_canonical(url, scheme=network.name, policy=policy.destinations,
                                     default_port=network.default_port)

    def create(self, url: str, *, policy: SourcePolicy, loop: bool = False, realtime: bool = False,
               **options) -> FrameSource:
        # loop / realtime mean nothing for a live stream: it is always paced by the camera.
        with refusing(url):
            network = self.network(url)
        return StreamSource(url, network=network, policy=policy, **options)


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


def video_path_resolved(path: Path, *, root: Path | None) -> Path:
    """The resolved path (symbolic links followed); under ``root``, which relative paths start from, if given."""
    if root is None:
        return path.resolve()
    root = Path(root).resolve()
    path = (path if path.is_absolute() else root / path).resolve()
    if root != path and root not in path.parents:
        raise URLRefused(f"video files must be under {root}")
    return path
