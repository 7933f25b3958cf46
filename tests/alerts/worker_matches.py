"""Matches handed to the camera worker's alert handler as the pipeline would hand them, without running the
video pipeline: the handler (`recognition.camera_worker._Run.on_alert`) is what alert delivery is about.

Run as a module it is a worker process that raises one match and returns (tests start it, and kill it)."""

from __future__ import annotations

import sys
import time

import numpy as np


def worker_run(deployment, holder: str = "test-host:1:0123456789ab"):
    """The camera worker's per-run state for `deployment`, as `camera_worker_run` builds it (spool from settings)."""
    from recognition.camera_worker import _Run, snapshot_matcher

    _, by_subject = snapshot_matcher(deployment=deployment)
    return _Run(deployment=deployment, holder=holder, cameras={c.pk: c for c in deployment.cameras.all()},
                by_subject=by_subject, model_id=deployment.snapshot.model_id)


def match(run, *, subject_index: int = 0, track_id: int = 1, score: float = 0.71):
    """An AlertCandidate of the run's `subject_index`-th subject (by id) on its first camera."""
    from recognition.batch import AlertCandidate
    from tests.samples import person_image

    subject_id = sorted(run.by_subject)[subject_index]
    crop = person_image(subject_index)
    return AlertCandidate(camera_key=next(iter(run.cameras)), track_id=track_id, subject_id=subject_id, score=score,
                          timestamp=time.time(), frame_index=10, face_crop=crop,
                          aligned_crop=np.zeros((112, 112, 3), np.uint8), box=np.array([0, 0, 10, 10]),
                          model_id=run.model_id, threshold=run.deployment.threshold, quality_score=1.0,
                          read_at=time.time())


def _main(deployment_id: int, holder: str) -> None:
    import django

    django.setup()
    from deployments.models import Deployment

    run = worker_run(Deployment.objects.select_related("snapshot").get(pk=deployment_id), holder=holder)
    run.on_alert(match(run))


if __name__ == "__main__":
    _main(int(sys.argv[1]), sys.argv[2])
