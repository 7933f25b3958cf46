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

Each kind of source is a :class:`SourceKind` (``recognition.source_base``) in a registry, under each of its
``schemes``: the built-in kinds are the modules of ``recognition/source_kinds/`` (each names its ``SOURCE_KIND``),
and out-of-tree kinds are found through the ``lfr_portal.frame_sources`` entry point group (a package declares
``[project.entry-points."lfr_portal.frame_sources"] vendorcam = "vendor_lfr.cam:VendorCamKind"``), as Frigate finds
its detector plugins. ``register_source(scheme, kind)`` adds one in code (a test double). A kind checks URLs
(``validate``: the canonical URL, or :class:`SourceRefused`), describes them (``help_text``: the camera form and
the API) and makes sources, which check again each time they open, so a URL stored before a rule existed, or a
host whose DNS answer changed, is refused when opened. What a URL may reach is a :class:`SourcePolicy`:
destination networks and ports (``recognition.source_urls``) and a root for video files. FFmpeg opens each
scheme with the options its kind declares (``recognition.ffmpeg_options``).

Reconnecting is the caller's job (:class:`Backoff` gives the delays); ``recognition.run_loop.run_cameras``
does it for live sources.

Error messages and ``repr`` never show a password embedded in a URL (``redact_url``).

This module is the registry and the public names; the shared interfaces are in ``recognition.source_base``,
the OpenCV sources in ``recognition.capture_sources``, the kinds in ``recognition.source_kinds``.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import threading
from importlib.metadata import entry_points
from urllib.parse import urlsplit

from recognition import source_kinds
from recognition.capture_sources import (  # noqa: F401 - the public names of frame sources live here
    DEFAULT_OPEN_TIMEOUT_S,
    DEFAULT_READ_TIMEOUT_S,
    FramesFromImages,
    NetworkStreamKind,
    StreamSource,
    VideoFileSource,
    video_path_resolved,
)
from recognition.source_base import (  # noqa: F401
    DEFAULT_MAX_FRAME_PIXELS,
    Frame,
    FrameSource,
    NetworkScheme,
    RefusedSource,
    SourceError,
    SourceKind,
    SourcePolicy,
    SourceRefused,
    SourceUnavailable,
    refusing,
)
from recognition.source_urls import redact_url

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "lfr_portal.frame_sources"


class UnknownSourceScheme(SourceError, ValueError):
    def __init__(self, url: str, scheme: str) -> None:
        self.url, self.scheme = redact_url(url), scheme
        known = ", ".join(sorted(_REGISTRY)) or "none"
        super().__init__(f"no frame source for scheme {scheme!r} in {self.url} (known: {known})")


_REGISTRY: dict[str, SourceKind] = {}
_BUILT_IN: set[str] = set()
_plugins_loaded = False
_plugins_lock = threading.RLock()  # other threads wait for the loading; a plugin asking again does not


def register_source(scheme: str, kind: SourceKind) -> None:
    """Registering a scheme again replaces its kind."""
    scheme = scheme.lower().rstrip(":/")
    if not scheme:
        raise ValueError("a source scheme must not be empty")
    if not isinstance(kind, SourceKind):
        raise TypeError("register a SourceKind")
    _REGISTRY[scheme] = kind


def register_kind(kind: SourceKind) -> None:
    """Register a kind under every scheme it names."""
    if not isinstance(kind, SourceKind) or not kind.schemes:
        raise TypeError("register a SourceKind that names its schemes")
    for scheme in kind.schemes:
        register_source(scheme, kind)


def _register_built_ins() -> None:
    for module in pkgutil.iter_modules(source_kinds.__path__):
        kind = importlib.import_module(f"{source_kinds.__name__}.{module.name}").SOURCE_KIND
        register_kind(kind)
        _BUILT_IN.update(kind.schemes)


def load_plugin_sources(*, reload: bool = False) -> None:
    """Register the kinds of installed packages (entry point group ``lfr_portal.frame_sources``), once.

    An entry point names a SourceKind subclass (made without arguments) or instance. One that fails to load, or
    names a built-in scheme, is logged and skipped: a broken plugin takes no camera of another kind down, and
    none loosens the rules of a built-in kind."""
    global _plugins_loaded
    with _plugins_lock:
        if _plugins_loaded and not reload:
            return
        _plugins_loaded = True
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry_point.load()
                kind = loaded() if isinstance(loaded, type) else loaded
                taken = sorted(set(kind.schemes) & _BUILT_IN) if isinstance(kind, SourceKind) else []
                if taken:
                    logger.error("frame source plugin %s names built-in schemes %s: skipped", entry_point.name, taken)
                    continue
                register_kind(kind)
            except Exception:
                logger.exception("frame source plugin %s could not be loaded: skipped", entry_point.name)


def registered_schemes() -> list[str]:
    load_plugin_sources()
    return sorted(_REGISTRY)


def registered_kinds() -> list[SourceKind]:
    """Each kind once, in the order registered (the built-ins by module name, then the plugins)."""
    load_plugin_sources()
    kinds: list[SourceKind] = []
    for kind in _REGISTRY.values():
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def sources_help(policy: SourcePolicy | None = None) -> str:
    """What may be typed as a camera source, from every registered kind: "A, B or C"."""
    phrases = [kind.help_text(policy or SourcePolicy()) for kind in registered_kinds()]
    if len(phrases) < 2:
        return "".join(phrases)
    return f"{', '.join(phrases[:-1])} or {phrases[-1]}"


def source_scheme(url: str | os.PathLike) -> str:
    """The registry key of a URL: its scheme, or ``file`` for a plain path (Windows drive letters too)."""
    text = os.fspath(url)
    scheme = urlsplit(text).scheme.lower() if "://" in text or text.lower().startswith("file:") else ""
    return scheme or "file"


def _kind(text: str) -> SourceKind:
    scheme = source_scheme(text)
    kind = _REGISTRY.get(scheme)
    if kind is None:
        load_plugin_sources()
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


_register_built_ins()


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
