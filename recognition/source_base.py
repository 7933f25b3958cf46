"""What every frame source shares: the frame, the errors, the policy, the interfaces of a source and of a kind
of source (the plugin point, registered in ``recognition.sources``). No Django imports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recognition.ffmpeg_options import FFmpegOptions
from recognition.source_urls import DestinationPolicy, URLRefused, redact_url


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


# DCI 4K (4096x2160): every 4K camera fits. A frame is ~3 bytes a pixel once decoded, and a worker holds a few
# per camera, so the cap is what bounds a worker's memory against a camera that sends 8000x8000 frames.
DEFAULT_MAX_FRAME_PIXELS = 4096 * 2160


@dataclass(frozen=True)
class SourcePolicy:
    """What a source may reach: network destinations, and the folder video files must be in (None: any);
    and what it may deliver: frames of at most ``max_frame_pixels`` pixels (None: any size)."""

    destinations: DestinationPolicy = field(default_factory=DestinationPolicy.parse)
    file_root: Path | None = None
    max_frame_pixels: int | None = DEFAULT_MAX_FRAME_PIXELS

    def frame_size_refusal(self, width: int, height: int) -> str | None:
        """Why a width x height frame is refused (too many pixels), or None when it is admitted."""
        if self.max_frame_pixels is None or width * height <= self.max_frame_pixels:
            return None
        return (f"frames of {width}x{height} ({width * height:,} pixels) are larger than CAMERA_MAX_FRAME_PIXELS "
                f"({self.max_frame_pixels:,})")


@contextmanager
def refusing(url: str) -> Iterator[None]:
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


class SourceKind(ABC):
    """One kind of frame source (a plugin point): its URL schemes, how its URLs are checked, how it is described
    to whoever types a camera URL, and how its sources are made. One module per kind: ``recognition/source_kinds/``
    or, out of tree, an entry point in the ``lfr_portal.frame_sources`` group (``recognition.sources``)."""

    schemes: tuple[str, ...] = ()  # the URL schemes it opens; "file" also takes plain paths

    def help_text(self, policy: SourcePolicy) -> str:
        """A phrase for the camera form and the API: which URLs of this kind are accepted."""
        return " or ".join(f"{scheme}://" for scheme in self.schemes)

    @abstractmethod
    def validate(self, url: str, policy: SourcePolicy) -> str:
        """The canonical URL to store and open; raise SourceRefused (via URLRefused) when it may not be."""

    @abstractmethod
    def create(self, url: str, *, policy: SourcePolicy, loop: bool = False, realtime: bool = False,
               **options) -> FrameSource:
        """The source, not yet opened; its ``open()`` checks the URL against ``policy`` again."""


@dataclass(frozen=True)
class NetworkScheme:
    """A network stream scheme: where the connection goes when the URL names no port, what FFmpeg may do."""

    name: str
    default_port: int
    ffmpeg: FFmpegOptions
