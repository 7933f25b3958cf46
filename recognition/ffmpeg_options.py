"""The FFmpeg options each kind of source opens with: what FFmpeg may reach once it has the URL. No Django.

OpenCV takes FFmpeg options only from the ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` environment variable, read
while a capture opens. :func:`capture_options` sets it for the duration of one open; opens that need the
same options run together, others wait (the variable is one per process). When the last open is done the
variable is put back as it was, so other captures in the process see the operator's options only.

Each kind of source declares its own (:class:`FFmpegOptions`, beside its URL rules in
``recognition/source_kinds/``), for instance:

- ``protocol_whitelist``: the protocols of the scheme only (no ``file:``, ``concat:``, ``data:``...).
- ``max_redirects;0`` for HTTP: a camera (or anything that answers as one) cannot send FFmpeg elsewhere.
- ``format_whitelist`` for HTTP: streaming formats only; playlists (HLS, DASH) are refused because they
  name further URLs, on any host, that FFmpeg would fetch.
- ``rtsp_transport;tcp`` unless the operator chose otherwise: with UDP the server names the address that
  media and RTCP packets are exchanged with.

Operator options already in the environment (e.g. ``stimeout``) are kept; the ones above override them.

OpenCV holds one process-wide lock through every FFmpeg open unless ``OPENCV_FFMPEG_IS_THREAD_SAFE`` is set,
so a camera that accepts a connection and says nothing would hold up every other camera's (re)connect in the
worker for its whole open timeout. FFmpeg opens separate inputs safely from several threads (since 4.0, no
lock manager), so it is set here, before any capture opens, unless the operator set it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
os.environ.setdefault("OPENCV_FFMPEG_IS_THREAD_SAFE", "1")


@dataclass(frozen=True)
class FFmpegOptions:
    """What a scheme opens with: ``enforced`` options override the operator's, ``defaults`` give way to them."""

    enforced: Mapping[str, str]
    defaults: Mapping[str, str] = field(default_factory=dict)


LOCAL_FILE = FFmpegOptions({"protocol_whitelist": "file"})


def _parse(text: str) -> dict[str, str]:
    options = {}
    for item in text.split("|"):
        key, _, value = item.partition(";")
        if key:
            options[key] = value
    return options


_OPERATOR_VALUE = os.environ.get(VARIABLE)
_OPERATOR_OPTIONS = _parse(_OPERATOR_VALUE or "")


def options_for(scheme_options: FFmpegOptions, extra: dict[str, str] | None = None) -> str:
    options = dict(scheme_options.defaults) | _OPERATOR_OPTIONS | dict(scheme_options.enforced) | (extra or {})
    return "|".join(f"{key};{value}" for key, value in options.items())


class _Gate:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._value: str | None = None
        self._holders = 0

    @contextmanager
    def holding(self, value: str) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: self._holders == 0 or self._value == value)
            if self._value != value:
                os.environ[VARIABLE] = value
                self._value = value
            self._holders += 1
        try:
            yield
        finally:
            with self._condition:
                self._holders -= 1
                if self._holders == 0:
                    _restore()
                    self._value = None
                self._condition.notify_all()


def _restore() -> None:
    if _OPERATOR_VALUE is None:
        os.environ.pop(VARIABLE, None)
    else:
        os.environ[VARIABLE] = _OPERATOR_VALUE


_GATE = _Gate()


@contextmanager
def capture_options(scheme_options: FFmpegOptions, extra: dict[str, str] | None = None) -> Iterator[str]:
    """Hold the options of a scheme (and ``extra``) in the environment while a capture opens."""
    value = options_for(scheme_options, extra)
    with _GATE.holding(value):
        yield value
