"""A subject with no image enrolled with the current model is left out of any snapshot: flagged on the watchlist
page, at submit (audited), and at approval (which needs an explicit acknowledgement)."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.errors import RuleViolation
from recognition import runtime
from tests.factories import enrolled_subject, make_subject
from watchlists.models import ReferenceImage, Watchlist
from watchlists.selectors import subjects_without_enrolled_image
from watchlists.services import watchlist_approve, watchlist_create, watchlist_subjects_add, watchlist_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(detective):
    """One enrolled subject, one with no image, one whose only image was enrolled with an older model."""
    enrolled = enrolled_subject(detective, 0)
    no_image = make_subject(detective, reference="NOIMG-1", name="Without Image")
    old_model = enrolled_subject(detective, 1, reference="OLDMODEL-1")
    ReferenceImage.objects.filter(subject=old_model).update(model_id="an-older-recogniser")
    watchlist = watchlist_create(actor=detective, name="Op Mixed", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[enrolled, no_image, old_model])
    return watchlist, enrolled, no_image, old_model


def test_the_selector_lists_subjects_without_an_image_enrolled_with_the_model(mixed):
    watchlist, enrolled, no_image, old_model = mixed
    assert ReferenceImage.objects.get(subject=enrolled).model_id == runtime.current_model_id()
    listed = subjects_without_enrolled_image(watchlist=watchlist, model_id=runtime.current_model_id())
    assert {s.reference for s in listed} == {"NOIMG-1", "OLDMODEL-1"}
    # Model unknown here: an image enrolled with any model counts.
    assert [s.reference for s in subjects_without_enrolled_image(watchlist=watchlist, model_id=None)] == ["NOIMG-1"]


def test_the_watchlist_page_flags_them(client_as, commander, mixed):
    watchlist = mixed[0]
    page = client_as(commander).get(reverse("watchlists:detail", args=[watchlist.pk])).content.decode()
    assert 'data-testid="unenrolled-warning"' in page and "2 subjects on this watchlist have no enrolled image" in page
    assert "Without Image (NOIMG-1)" in page


def test_the_submit_button_asks_first(client_as, detective, mixed):
    page = client_as(detective).get(reverse("watchlists:detail", args=[mixed[0].pk])).content.decode()
    assert "2 subjects on this list have no enrolled image and will not be matched" in page


def test_submit_is_allowed_names_them_and_audits_count_and_references(client_as, detective, mixed):
    watchlist = mixed[0]
    response = client_as(detective).post(reverse("watchlists:submit", args=[watchlist.pk]), follow=True)
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.SUBMITTED
    assert "2 subject(s) have no enrolled image" in response.content.decode()
    details = AuditEvent.objects.get(action="watchlist.submitted").details
    assert details["without_enrolled_image"] == 2
    assert sorted(details["without_enrolled_image_references"]) == ["NOIMG-1", "OLDMODEL-1"]


def test_approval_needs_the_acknowledgement(detective, commander, mixed):
    watchlist = watchlist_submit(actor=detective, watchlist=mixed[0])
    with pytest.raises(RuleViolation, match="2 subject\\(s\\) have no image enrolled with the current model"):
        watchlist_approve(actor=commander, watchlist=watchlist)
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.SUBMITTED
    watchlist_approve(actor=commander, watchlist=watchlist, unenrolled_acknowledged=True)
    details = AuditEvent.objects.get(action="watchlist.approved").details
    assert details["without_enrolled_image"] == 2


def test_a_fully_enrolled_list_needs_no_acknowledgement(detective, commander):
    subject = enrolled_subject(detective, 2)
    watchlist = watchlist_create(actor=detective, name="Op Clean", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject])
    approved = watchlist_approve(actor=commander, watchlist=watchlist_submit(actor=detective, watchlist=watchlist))
    assert approved.status == Watchlist.Status.APPROVED
    assert AuditEvent.objects.get(action="watchlist.approved").details["without_enrolled_image"] == 0


def test_the_api_approves_with_the_acknowledgement(api_as, detective, commander, mixed):
    watchlist = watchlist_submit(actor=detective, watchlist=mixed[0])
    url = f"/api/watchlists/{watchlist.pk}/approve"
    refused = api_as(commander).post(url, {"expected_version": watchlist.version}, format="json")
    assert refused.status_code == 400 and "acknowledge" in refused.json()["errors"][0]
    done = api_as(commander).post(url, {"expected_version": watchlist.version, "unenrolled_acknowledged": True},
                                  format="json")
    assert done.status_code == 200 and done.json()["status"] == "approved"
