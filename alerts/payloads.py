"""The JSON an officer's page receives for an alert (websocket and catch-up alike). Give it alerts read
through alerts.selectors.alert_payloads (or a selector built on it): it reads the camera and the
adjudications with their officers, which that query fetches once for every alert."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from alerts import history
from alerts.models import Adjudication, Alert
from watchlists.models import InclusionCategory, WarningMarker


def image_age(taken_on: dt.date | None, *, today: dt.date | None = None) -> tuple[str, bool]:
    """"Taken 12 Mar 2021, 4 years ago", and whether it is older than REFERENCE_IMAGE_WARN_AGE_YEARS (the
    face may have changed since)."""
    if taken_on is None:
        return "", False
    today = today or timezone.localdate()
    years = today.year - taken_on.year - ((today.month, today.day) < (taken_on.month, taken_on.day))
    ago = "less than a year ago" if years < 1 else f"{years} year{'s' if years != 1 else ''} ago"
    old = years >= settings.REFERENCE_IMAGE_WARN_AGE_YEARS
    return (f"taken {taken_on:%-d %b %Y}, {ago}" + (" – may no longer look like this" if old else "")), old


def adjudication_payload(a: Adjudication, rows: list[Adjudication], replaced: set[int]) -> dict:
    return {"id": a.pk, "officer": a.officer.get_full_name() or a.officer.username,
            "officer_id": a.officer_id, "kind": a.kind, "decision": a.get_decision_display(),
            "decision_code": a.decision, "notes": a.notes, "engaged": a.engaged,
            "identity_confirmed": a.identity_confirmed, "stop_minutes": a.stop_minutes, "result": a.result,
            "result_label": a.get_result_display(), "amends": a.amends_id, "amend_reason": a.amend_reason,
            "superseded": a.pk in replaced, "at": a.decided_at.isoformat(),
            "amend_url": reverse("alerts:amend", args=[a.alert_id, a.pk]),
            "amendable_until": history.amendable_until(
                a, rows, minutes=settings.ALERT_DECISION_AMEND_MINUTES).isoformat()}


def alert_payload(alert: Alert) -> dict:
    rows = list(alert.adjudications.all())
    replaced = history.superseded_ids(rows)
    decided, engaged = history.stage_one(rows), history.engagement(rows)
    age, old = image_age(alert.image_taken_on)
    reference_url = reverse("alerts:reference_image", args=[alert.pk]) if alert.reference_image_id else None
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
        "image_taken_on": alert.image_taken_on.isoformat() if alert.image_taken_on else None,
        "image_age": age,
        "image_age_warning": old,
        "warnings": [WarningMarker(code).label for code in alert.warning_markers if code in WarningMarker.values],
        "engagement_instructions": alert.engagement_instructions,
        "score": alert.score,
        "threshold": alert.threshold,
        "status": alert.status,
        "status_label": alert.get_status_display(),
        "outcome": alert.outcome,
        "version": alert.version,
        "probe_url": reverse("alerts:probe_image", args=[alert.pk]),
        "reference_url": reference_url,
        "reference_face_url": f"{reference_url}?crop=face" if reference_url else None,
        "adjudicate_url": reverse("alerts:adjudicate", args=[alert.pk]),
        "engagement_url": reverse("alerts:engagement", args=[alert.pk]),
        # Stage 1 and stage 2 as they count now (the latest of each amendment chain), for the card to show.
        "decision": adjudication_payload(decided, rows, replaced) if decided else None,
        "engagement": adjudication_payload(engaged, rows, replaced) if engaged else None,
        "adjudications": [adjudication_payload(a, rows, replaced) for a in rows],
    }
