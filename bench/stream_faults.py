"""What a faulty camera costs a worker process, with and without the defences of recognition/sources.py.

    .venv/bin/python bench/stream_faults.py [--out bench/results/stream_faults.json]

1. Memory: a worker-like child process opens an 8000x8000 MJPEG camera three times and reads a frame each
   time; its peak resident memory growth, with CAMERA_MAX_FRAME_PIXELS at its default and with no cap.
2. Hold-up: a camera that accepts connections and says nothing is being opened (open timeout 5 s) when a
   good camera opens in the same process; seconds until the good camera's first frame, with
   OPENCV_FFMPEG_IS_THREAD_SAFE=1 (as recognition/ffmpeg_options.py sets it) and =0 (OpenCV's one lock).

The cameras are the small real servers of the tests (tests/recognition/stream_servers.py), in this process;
each measurement runs in a fresh child process. Timings depend on the host: the result records it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _child_memory(url: str, capped: bool) -> dict:
    import resource

    from recognition.source_urls import DestinationPolicy
    from recognition.sources import SourcePolicy, SourceUnavailable, open_source

    policy = SourcePolicy(destinations=DestinationPolicy.parse("127.0.0.1/32"))
    if not capped:
        policy = SourcePolicy(destinations=policy.destinations, max_frame_pixels=None)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = []
    for _ in range(3):
        try:
            with open_source(url, policy=policy, open_timeout=5, read_timeout=5) as source:
                frame = source.read()
                outcomes.append(f"read {None if frame is None else frame.image.shape}")
        except SourceUnavailable as exc:
            outcomes.append(exc.reason)
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {"peak_growth_mb": round(growth, 1), "outcomes": outcomes}


def _child_holdup(good_url: str, silent_url: str) -> dict:
    from recognition.source_urls import DestinationPolicy
    from recognition.sources import SourcePolicy, SourceUnavailable, open_source

    policy = SourcePolicy(destinations=DestinationPolicy.parse("127.0.0.1/32"))

    def hang() -> None:
        try:
            open_source(silent_url, policy=policy, open_timeout=5)
        except SourceUnavailable:
            pass

    threading.Thread(target=hang, daemon=True).start()
    time.sleep(0.3)
    started = time.monotonic()
    with open_source(good_url, policy=policy, open_timeout=10, read_timeout=10) as source:
        source.read()
    return {"good_camera_first_frame_s": round(time.monotonic() - started, 2)}


def _run_child(kind: str, *args: str, environment: dict[str, str] | None = None) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, **(environment or {})})
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "stream_faults.json")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = _child_memory(rest[0], rest[1] == "capped") if kind == "memory" else _child_holdup(*rest)
        print(json.dumps(result))
        return

    import cv2

    from tests.recognition.stream_servers import FakeCameraServer, SilentServer, jpeg, mjpeg

    huge, small = jpeg(8000, 8000), jpeg(320, 240)
    routes = {"/huge.mjpg": mjpeg(lambda i: huge if i < 100 else None),
              "/good.mjpg": mjpeg(lambda i: small)}
    with FakeCameraServer(routes) as server, SilentServer() as silent:
        memory = {mode: _run_child("memory", server.url("/huge.mjpg"), mode) for mode in ("capped", "uncapped")}
        holdup = {flag: _run_child("holdup", server.url("/good.mjpg"), f"http://127.0.0.1:{silent.port}/live",
                                   environment={"OPENCV_FFMPEG_IS_THREAD_SAFE": flag}) for flag in ("1", "0")}
    result = {
        "host": platform.node(), "python": platform.python_version(), "opencv": cv2.__version__,
        "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "memory_8000x8000_camera": {"cap_default_4096x2160": memory["capped"], "no_cap": memory["uncapped"]},
        "silent_camera_holds_up_a_good_camera_open": {"OPENCV_FFMPEG_IS_THREAD_SAFE=1": holdup["1"],
                                                      "OPENCV_FFMPEG_IS_THREAD_SAFE=0": holdup["0"]},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
