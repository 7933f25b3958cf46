"""The steps every built world takes through the portal's own services, as its users would take them: a subject
enrolled from one photo, a watchlist compiled and submitted by a detective and approved by a commander, a camera
that loops its video file.

Shared by the bench worlds (bench/alert_latency.py, bench/fault_world.py) and tests/factories.py; it imports
the portal's services, so it is imported once Django is set up. It never imports from tests/.
"""

from __future__ import annotations

from deployments.models import Camera
from deployments.services import camera_create
from watchlists.services import (
    reference_image_add,
    reference_images_enrol,
    subject_create,
    watchlist_approve,
    watchlist_create,
    watchlist_subjects_add,
    watchlist_submit,
)


def enrolled_subject(actor, *, data: bytes, image_source: str, use_largest_face: bool = False, **fields):
    """A subject (``fields``: subject_create's) with one reference image of ``data``, enrolled now rather than
    queued. The image may still be refused: its status says."""
    subject = subject_create(actor=actor, **fields)
    image = reference_image_add(actor=actor, subject=subject, data=data, image_source=image_source,
                                use_largest_face=use_largest_face, enrol=False)
    reference_images_enrol(image_ids=[image.pk])
    return subject


def approved_watchlist(detective, commander, subjects, *, name: str, purpose: str):
    """A watchlist of ``subjects`` compiled and submitted by ``detective``, approved by ``commander``."""
    watchlist = watchlist_create(actor=detective, name=name, purpose=purpose)
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=subjects)
    watchlist_submit(actor=detective, watchlist=watchlist)
    # A world approves what it built: a subject whose photo was refused is left out, as the approver accepts.
    return watchlist_approve(actor=commander, watchlist=watchlist, unenrolled_acknowledged=True)


def looping_camera(actor, *, name: str, path: str, location: str = "bench"):
    """A camera playing the video file at ``path`` over and over. ``loop_playback`` has no service (seed_demo
    sets it the same way)."""
    camera = camera_create(actor=actor, name=name, source_url=path, location=location)
    Camera.objects.filter(pk=camera.pk).update(loop_playback=True)
    return camera
