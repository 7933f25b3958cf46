"""The JSON an officer's page receives for an alert (websocket and catch-up alike). Give it alerts read
through alerts.selectors.alert_payloads (or a selector built on it): it reads the camera and the
adjudications with their officers, which that query fetches once for every alert."""

from __future__ import annotations

from django.urls import reverse

from alerts.models import Alert
from watchlists.models import InclusionCategory


def alert_payload(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "deployment_id": alert.deployment_id,
        "camera": {"id": alert.camera_id, "name": alert.camera.name, "location": alert.camera.location},
        "frame_time": alert.frame_time.isoformat(),
        "created_at": alert.created_at.isoformat(),
        "subject": {"name": alert.subject_name, "reference": alert.subject_reference,
                    "category": alert.get_category_display(), "reason": alert.reason, "priority": alert.priority},
        # An alert of a consenting test subject (live testing): shown marked TEST, decided like any other.
        "test": alert.category == InclusionCategory.TEST_SUBJECT,
        "score": alert.score,
        "threshold": alert.threshold,
        "status": alert.status,
        "status_label": alert.get_status_display(),
        "outcome": alert.outcome,
        "version": alert.version,
        "probe_url": reverse("alerts:probe_image", args=[alert.pk]),
        "reference_url": reverse("alerts:reference_image", args=[alert.pk]) if alert.reference_image_id else None,
        "adjudicate_url": reverse("alerts:adjudicate", args=[alert.pk]),
        "adjudications": [
            {"officer": a.officer.get_full_name() or a.officer.username, "decision": a.get_decision_display(),
             "kind": a.kind, "notes": a.notes, "at": a.decided_at.isoformat()}
            for a in alert.adjudications.all()
        ],
    }
