"""What every way of serving a reference face image (the portal's view, the API) must do with a permitted read."""

from __future__ import annotations

from audit.models import AuditEvent


def assert_reference_image_served(response, image, data: bytes, *, reader, client_ip: str) -> AuditEvent:
    """The image's bytes as a JPEG, never cached or sniffed, and the read audited once (reader, image, address);
    returns the audit event."""
    assert response.status_code == 200
    assert response.content == data
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action="reference_image.viewed")
    assert event.actor == reader and event.target_id == str(image.pk) and event.client_ip == client_ip
    return event
