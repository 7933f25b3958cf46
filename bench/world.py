"""The steps every built world takes through the portal's own services, as its users would take them: a subject
enrolled from one photo, a watchlist compiled and submitted by a detective and approved by a commander, a camera
that loops its video file.

Shared by the bench worlds (bench/alert_latency.py, bench/fault_world.py) and tests/factories.py; it imports
the portal's services, so it is imported once Django is set up. It never imports from tests/.
"""

from __future__ import annotations

import io

from pypdf import PdfWriter

from deployments.models import Camera, DocumentKind
from deployments.services import camera_create, deployment_document_upload
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


def placeholder_pdf(title: str) -> bytes:
    """A one-page PDF with ``title`` as its title: what a world uploads as its DPIA, EIA and APD."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def documents_attach(actor, deployment) -> None:
    """The DPIA, equality impact assessment and appropriate policy document the authorisation checklist asks for."""
    for kind in DocumentKind:
        deployment_document_upload(actor=actor, deployment=deployment, kind=kind, original_name=f"{kind}.pdf",
                                   file=io.BytesIO(placeholder_pdf(f"{kind.label}: {deployment.name}")))
