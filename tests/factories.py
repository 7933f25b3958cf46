"""Building blocks for tests that need a whole authorised deployment: real enrolment, real rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from bench import world
from deployments.models import Deployment, Purpose
from deployments.services import camera_create, deployment_create, deployment_submit
from tests.samples import person_jpeg
from watchlists.models import InclusionCategory
from watchlists.services import subject_create


def protected_files() -> set[Path]:
    """Every file under the protected media root: to prove an operation stored nothing (or only X)."""
    folder = Path(settings.PROTECTED_MEDIA_ROOT)
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def make_subject(actor, **overrides):
    """A justified subject (no image yet); `overrides` replace any field."""
    values = {"reference": "PNC-01/123456A", "name": "Alex Example", "category": InclusionCategory.WANTED_BY_COURTS,
                  "reason": "Failed to appear at Crown Court; warrant issued", "legal_basis": "Warrant W-2026-1182",
                  "engagement_instructions": "Arrest on warrant W-2026-1182 (Crown Court, failed to appear)"}
    return subject_create(actor=actor, **(values | overrides))


def enrolled_subject(actor, index: int, reference: str | None = None, data: bytes | None = None):
    return world.enrolled_subject(actor, data=data or person_jpeg(index), image_source=f"CUS/{index}",
                                  reference=reference or f"PNC-{index:04d}", name=f"Subject {index}",
                                  category=InclusionCategory.SUSPECTED_OF_OFFENCE, reason="Wanted for robbery",
                                  legal_basis="PACE s.24")


def enrolled_test_subject(actor, index: int, reference: str = "TEST-0001", name: str = "PC Tess Walker"):
    """A consenting member of staff enrolled as a test subject (live testing); the reason is the consent."""
    return world.enrolled_subject(actor, data=person_jpeg(index), image_source="Staff photo", reference=reference,
                                  name=name, category=InclusionCategory.TEST_SUBJECT,
                                  reason="Consent CONSENT-2026-014, signed 1 Dec 2026",
                                  legal_basis="Consent (staff volunteer)")


def approved_watchlist(detective, commander, subjects):
    return world.approved_watchlist(detective, commander, subjects, name="Op Lantern",
                                    purpose="Wanted for violent crime")


def video_camera(actor, name: str = "Camera 1"):
    root = Path(settings.CAMERA_FILE_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    video = root / "test-camera.mp4"
    if not video.exists():
        video.write_bytes(b"placeholder: the source is validated as a file under the root")
    return camera_create(actor=actor, name=name, source_url=str(video), location="High Street, north entrance")


def submitted_deployment(detective, watchlist, cameras, *, starts_in=dt.timedelta(minutes=10),
                         hours: float = 4, threshold: float | None = None, **overrides) -> Deployment:
    starts_at = timezone.now() + starts_in
    values = {"name": "High Street Saturday", "purpose": Purpose.CRIME_HOTSPOT, "location": "High Street",
                  "location_reason": "Robbery hotspot; the watchlist holds the robbery series suspects",
                  "starts_at": starts_at, "ends_at": starts_at + dt.timedelta(hours=hours), "watchlist": watchlist,
                  "cameras": cameras, "necessity_statement": "Serious robbery series, less intrusive means exhausted",
                  "dpia_reference": "DPIA-2026-07", "threshold": threshold, "signage_confirmed": True,
                  "public_notice_confirmed": True}
    deployment = deployment_create(actor=detective, **(values | overrides))
    world.documents_attach(detective, deployment)
    return deployment_submit(actor=detective, deployment=deployment)


IMPORT_HEADER = ["reference", "name", "category", "reason", "legal_basis", "image", "date_of_birth"]


def import_csv(rows, header=IMPORT_HEADER) -> bytes:
    """A bulk-import CSV as a detective would upload it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def import_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def import_row(ref, image, category="suspected_of_offence", dob=""):
    return [ref, f"Name {ref}", category, "Suspected of robbery (CRIME/55/26)", "PACE s.24", image, dob]


def worker_run_until(deployment, commander, *, until, timeout: float = 20.0) -> None:
    """Run the camera worker in a thread until `until()` is true (or `timeout` s), then stop the deployment.
    The worker must still be running then: it keeps its good cameras and retries those that are down."""
    import threading
    import time

    from django.db import connection

    from deployments.services import deployment_stop
    from recognition.camera_worker import camera_worker_run

    thread = threading.Thread(target=lambda: (camera_worker_run(deployment_id=deployment.pk), connection.close()))
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until():
            time.sleep(0.2)
        assert thread.is_alive(), "the worker keeps its good cameras and retries those that are down or refused"
    finally:
        deployment_stop(actor=commander, deployment=Deployment.objects.get(pk=deployment.pk), reason="test over")
        thread.join(20)
    assert not thread.is_alive()


def worker_run_until_lost(deployment, camera, commander):
    """Run the camera worker in a thread until `camera` shows as lost (or 20 s), then stop the deployment."""
    from deployments.models import Camera

    def lost() -> bool:
        camera.refresh_from_db()
        return camera.status == Camera.Status.LOST

    worker_run_until(deployment, commander, until=lost)
    return camera


def walkby_calibration(model_id: str, device: str = "cpu", *, points=None, nonmated: int = 450, mated: int = 150):
    """A walk-by calibration dict as ``evaluate_live --write-calibration`` writes it. ``points``:
    [(threshold, false_alerts, true_alerts, groups)], groups as grouping -> group -> [false alerts, passers-by]."""
    from recognition.evaluation.walkby_calibration import walkby_calibration_from_report

    points = points if points is not None else [
        (0.40, 9, 135, {"sex": {"female": [6, 225], "male": [3, 225]}}),
        (0.45, 6, 120, {"sex": {"female": [4, 225], "male": [2, 225]},
                        "race": {"Asian": [4, 90], "White": [2, 270], "Black": [0, 90]}}),
        (0.50, 2, 90, {"sex": {"female": [1, 225], "male": [1, 225]}}),
    ]
    curve = [{"threshold": t, "true_alerts": hits, "mated": mated, "tpir": hits / mated, "false_alerts": k,
              "nonmated": nonmated, "wrong_subject": 0, "groups": groups} for t, k, hits, groups in points]
    return walkby_calibration_from_report({
        "model": model_id, "device": device, "det_size": [640, 384] if device == "cpu" else [960, 544],
        "walk": {"frame_size": [1920, 1080], "fps": 25.0, "walk_seconds": 4.0},
        "dataset": "force-walkby-2026", "nonmated_sets": ["/data/utkface-dev"], "label_fixes": None,
        "screening": {"exclusions": "walkby-nonmated", "excluded": []},
        "passersby": {"mated": mated, "nonmated": nonmated}, "gallery": 2500, "seed": 0, "curve": curve,
    }, command="manage.py evaluate_live --dataset /data/force-walkby-2026", measured_on="2026-11-02")


def stored_walkby_calibration(model_id: str, device: str = "cpu", **kwargs):
    from recognition.calibration import model_calibration_store

    return model_calibration_store(actor=None, calibration=walkby_calibration(model_id, device, **kwargs))
