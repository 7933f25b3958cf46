"""An alert card's view is audited once (alert.viewed): its images carry the page's view id, the first
writes the event and the rest of that view (the other face, an enlargement) do not; an image read without a
view is audited on its own. The watchlist image's face crop (?crop=face) around the box enrolment stored."""

import cv2
import numpy as np
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from watchlists.models import ReferenceImage

pytestmark = pytest.mark.django_db

VIEW = "0123456789abcdef0123456789abcdef"


def _views(alert):
    return AuditEvent.objects.filter(action="alert.viewed", target_id=str(alert.pk))


def test_one_page_load_with_a_card_is_one_event(client_as, officer, raise_alert):
    alert = raise_alert()
    client = client_as(officer)
    page = client.get(reverse("alerts:live", args=[alert.deployment_id]))
    assert page.status_code == 200 and not _views(alert).exists()  # the page holds no image
    card = client.get(reverse("alerts:deployment_alerts_json", args=[alert.deployment_id])).json()["alerts"][0]
    for url in (card["probe_url"], card["reference_face_url"], card["reference_url"]):  # shown, then enlarged
        assert client.get(url, {"view": VIEW}).status_code == 200
    (event,) = _views(alert)
    assert event.actor == officer and event.details == {"image": "probe", "view": VIEW}


def test_another_view_or_another_officer_is_another_event(client_as, officer, commander, raise_alert):
    alert = raise_alert()
    url = reverse("alerts:probe_image", args=[alert.pk])
    client_as(officer).get(url, {"view": VIEW})
    client_as(officer).get(url, {"view": "f" * 32})  # the page loaded again
    client_as(commander).get(url, {"view": VIEW})
    assert _views(alert).count() == 3


def test_an_image_read_without_a_view_is_always_audited(client_as, officer, raise_alert):
    alert = raise_alert()
    client = client_as(officer)
    for _ in range(2):
        assert client.get(reverse("alerts:probe_image", args=[alert.pk])).status_code == 200
    assert client.get(reverse("api:alert-image-probe", kwargs={"pk": alert.pk})).status_code == 200
    assert _views(alert).count() == 3


@pytest.mark.parametrize("query, message", [
    ({"view": "short"}, "view must be the page's view id"),
    ({"view": "x" * 8 + "<script>"}, "view must be the page's view id"),
    ({"crop": "eyes"}, "crop must be one of: face"),
])
def test_a_bad_view_or_crop_is_a_400(client_as, officer, raise_alert, query, message):
    alert = raise_alert()
    response = client_as(officer).get(reverse("alerts:reference_image", args=[alert.pk]), query)
    assert response.status_code == 400 and message in response.content.decode()
    assert not _views(alert).exists()


def test_the_camera_crop_is_not_cut_again(client_as, officer, raise_alert):
    alert = raise_alert()
    response = client_as(officer).get(reverse("alerts:probe_image", args=[alert.pk]), {"crop": "face"})
    assert response.status_code == 400 and "only the watchlist image" in response.content.decode()


def _size(data: bytes) -> tuple[int, int]:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return image.shape[1], image.shape[0]


def test_the_face_crop_is_cut_around_the_stored_face_box(client_as, officer, raise_alert):
    alert = raise_alert()
    client = client_as(officer)
    url = reverse("alerts:reference_image", args=[alert.pk])
    whole = client.get(url).content
    width, height = _size(whole)
    # Without a stored box: the whole image (nothing is detected when serving).
    assert client.get(url, {"crop": "face"}).content == whole
    reference = ReferenceImage.objects.get(pk=alert.reference_image_id)
    reference.quality = {**reference.quality, "bbox": [width * 0.4, height * 0.4, width * 0.6, height * 0.6]}
    reference.save(update_fields=["quality"])
    cropped = client.get(url, {"crop": "face"})
    assert cropped.status_code == 200 and cropped["Content-Type"] == "image/jpeg"
    assert cropped["Cache-Control"] == "no-store, private"
    crop_width, crop_height = _size(cropped.content)
    assert crop_width == crop_height and crop_width < width * 0.5  # a square around the face, not the image
    api = client.get(reverse("api:alert-image-reference", kwargs={"pk": alert.pk}), {"crop": "face"})
    assert api.status_code == 200 and _size(api.content) == (crop_width, crop_height)
    assert _views(alert).filter(details__crop="face").count() == 3  # each read without a view: its own event
