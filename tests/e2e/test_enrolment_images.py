"""In Chromium: a flagged duplicate beside the face it resembles, and a group photo's enrolled face outlined."""

import os

import pytest
from playwright.sync_api import expect

from tests.factories import make_subject
from tests.samples import YAO_MING, group_jpeg, person_jpeg, yao_ming_second_photo_jpeg
from watchlists.models import ReferenceImage
from watchlists.services import reference_image_add, reference_images_enrol

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def add_and_enrol(actor, subject, data: bytes, **kwargs) -> ReferenceImage:
    image = reference_image_add(actor=actor, subject=subject, data=data, image_source="CUS/1", enrol=False, **kwargs)
    reference_images_enrol(image_ids=[image.pk])
    image.refresh_from_db()
    return image


def all_images_loaded(page) -> None:
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")


def test_the_duplicate_and_the_outlined_face_load_and_break_no_policy(page, login, asgi_server, detective,
                                                                       violations):
    first = make_subject(detective, reference="YAO-1", name="First Person")
    second = make_subject(detective, reference="YAO-2", name="Second Person")
    add_and_enrol(detective, first, person_jpeg(YAO_MING))
    flagged = add_and_enrol(detective, second, yao_ming_second_photo_jpeg())
    group = add_and_enrol(detective, second, group_jpeg("t1"), use_largest_face=True)
    assert flagged.status == ReferenceImage.Status.DUPLICATE and group.face_count == 6

    login(page, detective)
    page.goto(f"{asgi_server}/watchlists/subjects/{second.pk}/")
    compare = page.get_by_test_id(f"duplicate-compare-{flagged.pk}")
    expect(compare.locator("img")).to_have_count(2)
    expect(page.get_by_test_id(f"not-on-watchlist-{flagged.pk}")).to_be_visible()
    outlined = page.locator(f"img[src$='/images/{group.pk}/outlined/']")
    outlined.scroll_into_view_if_needed()  # loading="lazy": fetched once near the viewport
    expect(outlined).to_be_visible()
    all_images_loaded(page)
    compare.scroll_into_view_if_needed()
    # Side by side: the two faces on one row.
    first_box, second_box = (compare.locator("img").nth(i).bounding_box() for i in range(2))
    assert abs(first_box["y"] - second_box["y"]) < 2 and second_box["x"] > first_box["x"] + first_box["width"] - 1
    if os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["E2E_SCREENSHOTS"], "subject-duplicate.png"), full_page=True)
    assert violations == []
