"""Small real servers that play faulty cameras for the source tests: each is a context manager on 127.0.0.1.

- :class:`SilentServer` (:func:`silent_tcp_server`): accepts connections and never says a word (a camera
  that stalls at connect).
- :class:`FakeCameraServer`: an HTTP server whose routes are functions writing a response, with a count of
  requests per path; :func:`mjpeg` and friends make the routes (a steady camera, one that drops or stalls
  after a few frames, garbage bytes, a WAV file, a playlist of a thousand segments, enormous frames).
- :func:`require_rtsp_server`: skip (fail in CI) when the real RTSP camera, bench/rtsp_server.py, cannot run.
"""

from __future__ import annotations

import base64
import io
import os
import socket
import threading
import time
import wave
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from bench.rtsp_server import unavailable_reason

Route = Callable[[BaseHTTPRequestHandler, threading.Event], None]


def require_rtsp_server() -> None:
    """Skip when this host cannot run the RTSP server; in CI, where ``make test`` installs it, fail instead."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the RTSP server cannot run in CI, where make test installs it: {reason}")
    pytest.skip(f"no RTSP server on this host: {reason}")


class SilentServer:
    """Accepts TCP connections and never says anything; ``accepted`` counts the connections so far."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def accepted(self) -> int:
        return len(self.connections)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self.connections.append(self.socket.accept()[0])
            except OSError:
                continue

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        for connection in self.connections:
            connection.close()
        self.socket.close()


@contextmanager
def silent_tcp_server() -> Iterator[int]:
    """The port of a :class:`SilentServer`."""
    with SilentServer() as server:
        yield server.port


class FakeCameraServer:
    """An HTTP server on 127.0.0.1 serving ``routes`` (path -> route); ``requests`` counts each path asked for."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: Counter[str] = Counter()
        self.stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                owner.requests[path] += 1
                route = owner.routes.get(path)
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self, owner.stop)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client (FFmpeg) hung up: it had seen enough

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> FakeCameraServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def jpeg(width: int, height: int, level: int = 128, *, grey: bool = False) -> bytes:
    shape = (height, width) if grey else (height, width, 3)
    return cv2.imencode(".jpg", np.full(shape, level, np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 50])[1].tobytes()


def mjpeg(frames: Callable[[int], bytes | None], *, fps: float = 10.0, then: str = "stall") -> Route:
    """A multipart JPEG camera sending ``frames(i)`` until it returns None, then staying silent with the
    connection open (``then="stall"``) or closing it (``then="drop"``)."""

    def route(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        handler.end_headers()
        index = 0
        while not stop.is_set() and (image := frames(index)) is not None:
            handler.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(image)
                                + image + b"\r\n")
            handler.wfile.flush()
            index += 1
            time.sleep(1 / fps)
        if then == "stall":
            stop.wait(60)

    return route


def basic_auth(user: str, password: str, route: Route) -> Route:
    """``route`` behind HTTP Basic credentials: a 401 challenge without them or with wrong ones."""
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def guarded(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        if handler.headers.get("Authorization") != expected:
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", 'Basic realm="camera"')
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        route(handler, stop)

    return guarded


def body(content: bytes, content_type: str) -> Route:
    def route(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    return route


def garbage_bytes(size: int = 256 * 1024) -> bytes:
    return np.random.default_rng(12).integers(0, 256, size, dtype=np.uint8).tobytes()


def wav_audio(seconds: float = 2.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        tone = (np.sin(np.arange(int(seconds * rate)) * 2 * np.pi * 440 / rate) * 8000).astype("<i2")
        out.writeframes(tone.tobytes())
    return buffer.getvalue()


def hls_playlist(segments: int = 1000) -> bytes:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0"]
    for index in range(segments):
        lines += ["#EXTINF:2.0,", f"segment-{index}.ts"]
    return ("\n".join(lines + ["#EXT-X-ENDLIST", ""])).encode()
