"""A camera's frames read in a thread of their own, for the run loop (``recognition.run_loop``). No Django.

A live source keeps only its latest frame (a slow worker skips frames, it never builds a backlog) and is
reopened with back-off when it fails; a non-live one hands over every frame and waits for it to be taken.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

import numpy as np

from recognition.sources import Backoff, Frame, FrameSource, SourceUnavailable, redact_url

logger = logging.getLogger(__name__)

CameraKey = Hashable


def _usable(image) -> bool:
    return (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.size > 0
            and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))))



class FrameReader:
    """Reads one source in a thread. Live sources: keep the latest frame only. Others: hand over each frame."""

    def __init__(self, key: CameraKey, source: FrameSource, *, reconnect: bool, condition: threading.Condition,
                 stop: threading.Event, events: deque, backoff: Callable[[], Backoff]) -> None:
        self.key, self.source = key, source
        self.live = bool(getattr(source, "live", False))
        self.reconnect = reconnect
        self.condition, self.stop, self.events = condition, stop, events
        self.backoff = backoff()
        self.slot: tuple[Frame, float] | None = None
        self.dropped = 0
        self.bad_frames = 0
        self._source_dropped_seen = 0
        self.finished = False
        self.thread = threading.Thread(target=self._run, name=f"frames-{key}", daemon=True)

    def _status(self, status: str, detail: str) -> None:
        with self.condition:
            self.events.append((self.key, status, detail))
            self.condition.notify_all()

    def _may_retry(self) -> bool:
        return self.reconnect and self.live

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a broken source must not take the other cameras down
            logger.exception("frame source %s failed", redact_url(getattr(self.source, "url", "")))
            self._status("error", f"{type(exc).__name__}: {exc}")
        finally:
            try:
                self.source.close()
            except Exception:
                logger.exception("closing frame source %s", redact_url(getattr(self.source, "url", "")))
            with self.condition:
                self.finished = True
                self.condition.notify_all()

    def _loop(self) -> None:
        url = redact_url(getattr(self.source, "url", ""))
        if self.source.is_open:
            self._status("connected", url)  # opened by the caller
        while not self.stop.is_set():
            if not self.source.is_open:
                try:
                    self.source.open()
                except SourceUnavailable as exc:
                    if not self._may_retry():
                        self._status("unavailable", str(exc))
                        return
                    delay = self.backoff.next()
                    self._status("unavailable", f"{exc}; retrying in {delay:g} s")
                    self.stop.wait(delay)
                    continue
                self._status("connected", url)
            frame = self.source.read()
            if frame is None:
                if self.stop.is_set():
                    return
                if self.source.ended or not self._may_retry():
                    self._wait_until_taken()  # "ended" only once the last frame has gone into a batch
                    self._status("ended", f"{url}: end of stream")
                    return
                reason = getattr(self.source, "failed_reason", None) or "no frame"
                self.source.close()
                delay = self.backoff.next()
                self._status("lost", f"{url}: {reason}; reconnecting in {delay:g} s")
                self.stop.wait(delay)
                continue
            self.backoff.reset()
            if not _usable(frame.image):
                self.bad_frames += 1
                with self.condition:
                    self.dropped += 1
                if self.bad_frames == 1:  # a log line, not a status: the camera is still streaming
                    logger.warning("camera %s: unusable frame %s skipped", self.key, getattr(frame.image, "shape", None))
                continue
            self._deliver(frame)

    def _wait_until_taken(self) -> None:
        with self.condition:
            while self.slot is not None and not self.stop.is_set():
                self.condition.wait(0.1)

    def _deliver(self, frame: Frame) -> None:
        with self.condition:
            if self.live:
                if self.slot is not None:
                    self.dropped += 1
            else:
                while self.slot is not None and not self.stop.is_set():
                    self.condition.wait(0.1)
            self.slot = (frame, time.monotonic())
            self.condition.notify_all()

    def take(self) -> tuple[Frame, float] | None:
        """Caller holds the condition."""
        item, self.slot = self.slot, None
        return item

    def take_dropped(self) -> int:
        """Frames dropped since the last call: overwritten in the slot, or skipped by the source itself."""
        source_total = int(getattr(self.source, "dropped", 0) or 0)
        dropped = self.dropped + max(0, source_total - self._source_dropped_seen)
        self.dropped, self._source_dropped_seen = 0, source_total
        return dropped
