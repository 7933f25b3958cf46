"""A real RTSP camera: H.264 over RTSP from a video file (looped, in real time) or a test pattern.

One file, two halves:

- Run by Debian's Python (``/usr/bin/python3``, which has GStreamer's bindings, ``gi``) it is the server,
  built on GStreamer's RTSP server library::

      /usr/bin/python3 bench/rtsp_server.py --port 8554 --path /street --video shared/data/video/x.mp4
      /usr/bin/python3 bench/rtsp_server.py --port 8554 --pattern --width 320 --height 240 --fps 15 \\
          --user officer --password 'pa:ss' --auth digest

  It prints ``READY rtsp://...`` (no password) once it listens, and stops on SIGTERM / SIGINT or when the
  process that started it goes away.

- Imported from the project's venv (which has no ``gi``) it gives :class:`RtspServer`, which runs this file
  as a subprocess of ``/usr/bin/python3``::

      from bench.rtsp_server import RtspServer
      with RtspServer(video="shared/data/video/street.mp4", user="officer", password="secret") as server:
          server.url()                        # rtsp://officer:secret@127.0.0.1:PORT/stream
          server.url(with_credentials=False)  # rtsp://127.0.0.1:PORT/stream
          server.restart(down_for=3)          # the camera drops for 3 s, on the same port
          server.pause(); server.resume()     # the camera stalls: connected, sending nothing

Needs Debian 12's ``gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,ugly} gstreamer1.0-libav
python3-gi`` (``make install-system``); :func:`unavailable_reason` says what is missing.

How a file loops: a player pipeline decodes the file in real time into an ``appsink`` and seeks back to
the start at its end; the RTSP media (shared by every client) takes those frames through an ``appsrc``
that timestamps them as they arrive, so the stream's clock runs on across loops and server-side seeks never
reach the clients. A test pattern is a live ``videotestsrc`` in the media itself.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).resolve()
DEBIAN_PACKAGES = ("gir1.2-gst-rtsp-server-1.0", "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-good",
                   "gstreamer1.0-plugins-ugly", "gstreamer1.0-libav", "python3-gi")
ELEMENTS = ("appsrc", "appsink", "videoconvert", "videoscale", "decodebin", "videotestsrc", "x264enc",
            "rtph264pay", "audiotestsrc", "mulawenc", "rtppcmupay")


# ------------------------------------------------------------------------------------ the venv half


def unavailable_reason(python: str = SYSTEM_PYTHON) -> str | None:
    """None when ``python`` can run the server; else what is missing, naming the Debian packages."""
    if not os.access(python, os.X_OK):
        return f"{python} is missing (the RTSP server needs Debian's Python with GStreamer's bindings)"
    try:
        done = subprocess.run([python, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} {SCRIPT.name} --check failed: {exc}"
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"{detail[0]} (apt-get install {' '.join(DEBIAN_PACKAGES)}, or make install-system)"
    return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class RtspServer:
    """This file's server as a subprocess of Debian's Python; the port stays the same across restarts."""

    def __init__(self, *, video: str | os.PathLike | None = None, port: int | None = None, path: str = "/stream",
                 host: str = "127.0.0.1", user: str | None = None, password: str | None = None,
                 auth: str = "basic", width: int | None = None, height: int | None = None,
                 fps: int | None = None, audio_only: bool = False, python: str = SYSTEM_PYTHON) -> None:
        if (user is None) != (password is None):
            raise ValueError("give both user and password, or neither")
        if auth not in ("basic", "digest"):
            raise ValueError("auth is basic or digest")
        self.auth = auth
        self.audio_only = audio_only  # a camera with the wrong codec: a stream, but no video in it
        if audio_only and video is not None:
            raise ValueError("audio_only serves a tone, not the video")
        self.video = Path(video).resolve() if video is not None else None
        if self.video is not None and not self.video.is_file():
            raise FileNotFoundError(self.video)
        self.host, self.port = host, port or free_port(host)
        self.path = "/" + path.lstrip("/")
        self.user, self.password = user, password
        self.width, self.height, self.fps = width, height, fps
        self.python = python
        self.starts = 0
        self._process: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="rtsp-server-", suffix=".log", delete=False)
        self.log_path = Path(self._log.name)

    def command(self) -> list[str]:
        command = [self.python, str(SCRIPT), "--host", self.host, "--port", str(self.port), "--path", self.path,
                   "--parent-pid", str(os.getpid()), "--auth", self.auth]
        if self.audio_only:
            command.append("--audio-only")
        else:
            command += ["--video", str(self.video)] if self.video is not None else ["--pattern"]
        for option, value in (("--width", self.width), ("--height", self.height), ("--fps", self.fps)):
            if value is not None:
                command += [option, str(value)]
        return command

    def url(self, *, with_credentials: bool = True) -> str:
        userinfo = ""
        if with_credentials and self.user is not None:
            userinfo = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        return f"rtsp://{userinfo}{self.host}:{self.port}{self.path}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 30.0) -> RtspServer:
        """Start the server and wait until its port accepts connections."""
        if self.running:
            return self
        environment = dict(os.environ)
        if self.user is not None:
            # Not on the command line, where any local user could read it (ps).
            environment["RTSP_SERVER_CREDENTIALS"] = f"{self.user}\n{self.password}"
        self._process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, env=environment, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the RTSP server exited ({self._process.returncode}): {self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the RTSP server did not listen on {self.host}:{self.port} within {timeout:g} s: "
                           f"{self.log_tail()}")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (its clients see the connection close); safe when it is not running."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGCONT)  # a paused server cannot act on SIGTERM
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open and nothing is sent, a camera that stalls."""
        if self.running:
            os.killpg(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server go on (SIGCONT)."""
        if self.running:
            os.killpg(self._process.pid, signal.SIGCONT)

    def restart(self, *, down_for: float = 0.0, timeout: float = 30.0) -> RtspServer:
        """Stop, stay down ``down_for`` seconds, start again on the same port."""
        self.stop()
        if down_for > 0:
            time.sleep(down_for)
        return self.start(timeout)

    def log_tail(self, characters: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:].strip()
        except OSError:
            return ""

    def close(self) -> None:
        self.stop()
        self._log.close()
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RtspServer {self.url(with_credentials=False)} {'running' if self.running else 'stopped'}>"


# ---------------------------------------------------------------------------- the /usr/bin/python3 half


def _gstreamer():
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    gi.require_version("GstRtsp", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer

    Gst.init(None)
    missing = [name for name in ELEMENTS if Gst.ElementFactory.find(name) is None]
    if missing:
        raise SystemExit(f"GStreamer elements missing: {', '.join(missing)}")
    return GLib, Gst, GstRtsp, GstRtspServer


def _encoder(fps: int) -> str:
    # A key frame every second: a client that (re)connects decodes within a second.
    return (f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bitrate=2000 "
            f"! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=-1")


def _size_caps(width: int | None, height: int | None) -> str:
    return "".join(f",{name}={value}" for name, value in (("width", width), ("height", height)) if value)


class _LoopingFile:
    """Decodes the file in real time, forever, and hands each frame to the media's appsrc when one exists."""

    def __init__(self, Gst, path: Path, *, width: int | None, height: int | None, on_error) -> None:
        self.Gst = Gst
        self.appsrc = None
        self.caps = None
        location = shlex.quote(str(path))
        self.pipeline = Gst.parse_launch(
            f"filesrc location={location} ! decodebin ! videoconvert ! videoscale "
            f"! video/x-raw,format=I420{_size_caps(width, height)} "
            f"! appsink name=sink emit-signals=true sync=true max-buffers=2 drop=true")
        self.pipeline.get_by_name("sink").connect("new-sample", self._sample)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message::eos", lambda *_: self.pipeline.seek_simple(
            Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0))
        bus.connect("message::error", lambda _, message: on_error(message.parse_error()[0].message))

    def start(self) -> None:
        self.pipeline.set_state(self.Gst.State.PLAYING)

    def stop(self) -> None:
        self.pipeline.set_state(self.Gst.State.NULL)

    def attach(self, appsrc) -> None:
        if self.caps is not None:
            appsrc.set_property("caps", self.caps)
        self.appsrc = appsrc

    def detach(self, appsrc) -> None:
        if self.appsrc is appsrc:
            self.appsrc = None

    def _sample(self, sink):
        Gst = self.Gst
        sample = sink.emit("pull-sample")
        caps = sample.get_caps()
        appsrc = self.appsrc
        if appsrc is not None:
            if self.caps is None or not caps.is_equal(self.caps):
                appsrc.set_property("caps", caps)
            frame = sample.get_buffer().copy()  # shares the memory; the copy's timestamps are ours to clear
            frame.pts = frame.dts = frame.duration = Gst.CLOCK_TIME_NONE  # appsrc stamps it (do-timestamp)
            appsrc.emit("push-buffer", frame)
        self.caps = caps
        return Gst.FlowReturn.OK


def _serve(args: argparse.Namespace) -> int:
    GLib, Gst, GstRtsp, GstRtspServer = _gstreamer()
    loop = GLib.MainLoop()
    failure: list[str] = []

    def fail(message: str) -> None:
        print(f"ERROR {message}", flush=True)
        failure.append(message)
        loop.quit()

    fps = args.fps or 25
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_shared(True)  # one encoder for every client, as a camera has
    player = None
    if args.video:
        player = _LoopingFile(Gst, Path(args.video), width=args.width, height=args.height, on_error=fail)
        factory.set_launch(f"( appsrc name=source is-live=true format=time do-timestamp=true "
                           f"! queue max-size-buffers=2 leaky=downstream ! videoconvert ! {_encoder(fps)} )")

        def configure(_factory, media):
            appsrc = media.get_element().get_by_name("source")
            player.attach(appsrc)
            media.connect("unprepared", lambda *_: player.detach(appsrc))

        factory.connect("media-configure", configure)
    elif args.audio_only:
        factory.set_launch("( audiotestsrc is-live=true ! audioconvert ! audioresample ! mulawenc "
                           "! rtppcmupay name=pay0 pt=0 )")
    else:
        factory.set_launch(f"( videotestsrc is-live=true pattern=ball "
                           f"! video/x-raw,width={args.width or 320},height={args.height or 240},framerate={fps}/1 "
                           f"! videoconvert ! {_encoder(fps)} )")

    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    credentials = os.environ.pop("RTSP_SERVER_CREDENTIALS", "")
    if credentials:
        user, _, password = credentials.partition("\n")
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "camera-user")
        if args.auth == "digest":
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(user, password, token)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
        factory.add_role_from_structure(Gst.Structure.new_from_string(
            "camera-user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"ERROR cannot listen on {args.host}:{args.port}", flush=True)
        return 1
    if player is not None:
        player.start()

    def parent_gone() -> bool:
        if args.parent_pid and os.getppid() != args.parent_pid:
            loop.quit()
            return False
        return True

    GLib.timeout_add(500, parent_gone)
    for number in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, number, loop.quit)
    print(f"READY rtsp://{args.host}:{args.port}{args.path}{' (credentials required)' if credentials else ''}",
          flush=True)
    loop.run()
    if player is not None:
        player.stop()
    return 1 if failure else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--path", default="/stream")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--video", help="a video file FFmpeg/GStreamer can decode, looped")
    what.add_argument("--pattern", action="store_true", help="a moving test pattern (the default)")
    what.add_argument("--audio-only", action="store_true", help="a tone and no video (a camera with the wrong codec)")
    what.add_argument("--check", action="store_true", help="exit 0 if this Python can run the server")
    parser.add_argument("--width", type=int, help="scale to this width (pattern: 320)")
    parser.add_argument("--height", type=int, help="scale to this height (pattern: 240)")
    parser.add_argument("--fps", type=int, help="the encoder's key frame interval base and the pattern's rate (25)")
    parser.add_argument("--parent-pid", type=int, help="stop when this process is no longer the parent")
    parser.add_argument("--user", help="require these credentials (better: RTSP_SERVER_CREDENTIALS=user\\npassword)")
    parser.add_argument("--password")
    parser.add_argument("--auth", choices=("basic", "digest"), default="basic", help="how credentials are asked for")
    args = parser.parse_args(argv)
    if args.check:
        _gstreamer()
        return 0
    if args.user is not None:
        os.environ["RTSP_SERVER_CREDENTIALS"] = f"{args.user}\n{args.password or ''}"
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
