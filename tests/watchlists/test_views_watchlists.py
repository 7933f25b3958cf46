"""Watchlist pages: list, detail, compile, submit, approve / return / review, approval queue, review-due list."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import make_subject
from watchlists.models import Watchlist
from watchlists.services import watchlist_approve, watchlist_create, watchlist_subjects_add, watchlist_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def watchlist(detective):
    return watchlist_create(actor=detective, name="Op Lantern", purpose="Robbery series, Camden")


def subjects(actor, count, start=0):
    return [make_subject(actor, reference=f"PNC-{i:04d}", name=f"Person {i:04d}") for i in range(start, start + count)]


def submitted(detective, watchlist, count=2):
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=subjects(detective, count))
    return watchlist_submit(actor=detective, watchlist=watchlist)


def messages_of(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("name, args", [
    ("watchlists:list", []), ("watchlists:approval_queue", []), ("watchlists:detail", [1]),
    ("watchlists:subjects", []), ("watchlists:review_due", []),
])
def test_anonymous_users_are_sent_to_the_login_page(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["detective", "commander", "oversight"])
def test_watchlist_list_and_detail_render_for_roles_that_see_watchlists(request, client_as, watchlist, role):
    client = client_as(request.getfixturevalue(role))
    listing = client.get(reverse("watchlists:list"))
    assert listing.status_code == 200 and "Op Lantern" in messages_of(listing)
    detail = client.get(reverse("watchlists:detail", args=[watchlist.pk]))
    assert detail.status_code == 200 and "Robbery series, Camden" in messages_of(detail)


@pytest.mark.parametrize("role", ["officer", "administrator", "outsider"])
def test_watchlist_pages_are_forbidden_to_other_roles(request, client_as, watchlist, role):
    client = client_as(request.getfixturevalue(role))
    for url in (reverse("watchlists:list"), reverse("watchlists:detail", args=[watchlist.pk]),
                reverse("watchlists:subjects"), reverse("watchlists:approval_queue")):
        assert client.get(url).status_code == 403, url


def test_detective_creates_a_watchlist_through_the_form(client_as, detective):
    response = client_as(detective).post(reverse("watchlists:list"), {"name": "Op Nightjar", "purpose": "Missing persons"})
    watchlist = Watchlist.objects.get(name="Op Nightjar")
    assert response.status_code == 302 and response.url == reverse("watchlists:detail", args=[watchlist.pk])
    assert watchlist.compiled_by == detective and watchlist.status == Watchlist.Status.DRAFT
    event = AuditEvent.objects.get(action="watchlist.created")
    assert event.actor == detective and event.client_ip == "127.0.0.1"


def test_a_blank_watchlist_form_is_shown_again_with_its_errors(client_as, detective):
    response = client_as(detective).post(reverse("watchlists:list"), {"name": "Op Nightjar", "purpose": "  "})
    assert response.status_code == 400 and "This field is required" in messages_of(response)
    assert not Watchlist.objects.exists()


def test_only_detectives_see_and_use_the_new_watchlist_form(client_as, commander):
    client = client_as(commander)
    assert "New watchlist" not in messages_of(client.get(reverse("watchlists:list")))
    assert client.post(reverse("watchlists:list"), {"name": "X", "purpose": "Y"}).status_code == 403
    assert not Watchlist.objects.exists()


def test_subjects_are_paginated_fifty_a_page_and_searchable(client_as, detective, watchlist):
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=subjects(detective, 53))
    client = client_as(detective)
    first = client.get(reverse("watchlists:detail", args=[watchlist.pk]))
    assert first.context["page"].paginator.count == 53 and len(first.context["page"].object_list) == 50
    second = client.get(reverse("watchlists:detail", args=[watchlist.pk]), {"page": 2})
    assert [s.reference for s in second.context["page"]] == ["PNC-0050", "PNC-0051", "PNC-0052"]
    found = client.get(reverse("watchlists:detail", args=[watchlist.pk]), {"q": "0042"})
    assert [s.reference for s in found.context["page"]] == ["PNC-0042"]


def test_list_and_detail_query_counts_do_not_grow_with_rows(client_as, detective, commander,
                                                            django_assert_max_num_queries):
    small = watchlist_create(actor=detective, name="Small", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=small, subjects=subjects(detective, 2))
    big = watchlist_create(actor=detective, name="Big", purpose="p")
    watchlist_subjects_add(actor=detective, watchlist=big, subjects=subjects(detective, 30, start=100))
    client = client_as(detective)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    assert count(reverse("watchlists:detail", args=[small.pk])) == count(reverse("watchlists:detail", args=[big.pk]))
    with django_assert_max_num_queries(20):
        client.get(reverse("watchlists:detail", args=[big.pk]))
    before = count(reverse("watchlists:list"))
    for i in range(10):
        watchlist_create(actor=detective, name=f"More {i}", purpose="p")
    assert count(reverse("watchlists:list")) == before
    with django_assert_max_num_queries(20):
        client.get(reverse("watchlists:subjects"))


def test_detective_adds_existing_subjects_by_reference(client_as, detective, watchlist):
    a, b = subjects(detective, 2)
    response = client_as(detective).post(reverse("watchlists:subjects_add", args=[watchlist.pk]),
                                         {"references": f"{a.reference}\n{b.reference}, {a.reference}",
                                          "version": watchlist.version})
    assert response.status_code == 302
    assert set(watchlist.entries.values_list("subject__reference", flat=True)) == {a.reference, b.reference}


def test_unknown_references_are_named_and_nothing_is_added(client_as, detective, watchlist):
    (a,) = subjects(detective, 1)
    response = client_as(detective).post(reverse("watchlists:subjects_add", args=[watchlist.pk]),
                                         {"references": f"{a.reference}\nNOPE-1", "version": watchlist.version})
    assert response.status_code == 400 and "no subject with the reference(s) NOPE-1" in messages_of(response)
    assert not watchlist.entries.exists()


def test_adding_to_a_list_changed_meanwhile_is_a_409(client_as, detective, watchlist):
    a, b = subjects(detective, 2)
    seen_version = watchlist.version
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[a])  # someone else, meanwhile
    response = client_as(detective).post(reverse("watchlists:subjects_add", args=[watchlist.pk]),
                                         {"references": b.reference, "version": seen_version})
    assert response.status_code == 409
    assert "changed by someone else" in messages_of(response)
    assert list(watchlist.entries.values_list("subject__reference", flat=True)) == [a.reference]
    # The page now carries the current version and keeps what was typed.
    assert response.context["add_form"].initial == {"version": seen_version + 1, "references": b.reference}


def test_remove_a_subject_from_the_list(client_as, detective, watchlist):
    a, b = subjects(detective, 2)
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[a, b])
    response = client_as(detective).post(reverse("watchlists:subject_remove", args=[watchlist.pk, a.pk]))
    assert response.status_code == 302
    assert list(watchlist.entries.values_list("subject_id", flat=True)) == [b.pk]


def test_submit_then_approve_by_another_person(client_as, detective, commander, watchlist):
    watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=subjects(detective, 2))
    assert client_as(detective).post(reverse("watchlists:submit", args=[watchlist.pk])).status_code == 302
    watchlist.refresh_from_db()
    assert watchlist.status == Watchlist.Status.SUBMITTED

    page = client_as(commander).get(reverse("watchlists:detail", args=[watchlist.pk]))
    assert f"approve version {watchlist.version}" in messages_of(page)
    approval = client_as(commander).get(reverse("watchlists:approve", args=[watchlist.pk]))
    assert f"Approve version {watchlist.version}" in messages_of(approval)
    response = client_as(commander).post(reverse("watchlists:approve", args=[watchlist.pk]), {
        "version": watchlist.version, "confirmed": "on", "unenrolled_acknowledged": "on"})
    assert response.status_code == 302
    watchlist.refresh_from_db()
    assert watchlist.status == Watchlist.Status.APPROVED and watchlist.approved_by == commander
    assert AuditEvent.objects.get(action="watchlist.approved").client_ip == "127.0.0.1"


def test_an_empty_watchlist_cannot_be_submitted(client_as, detective, watchlist):
    response = client_as(detective).post(reverse("watchlists:submit", args=[watchlist.pk]))
    assert response.status_code == 400 and "the watchlist is empty" in messages_of(response)


def test_nobody_approves_their_own_watchlist(client_as, make_user):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    watchlist = submitted(both, watchlist_create(actor=both, name="Own list", purpose="p"))
    client = client_as(both)
    page = client.get(reverse("watchlists:detail", args=[watchlist.pk]))
    assert "another authorising officer must approve" in messages_of(page) and "Approve version" not in messages_of(page)
    assert "Approve version" not in messages_of(client.get(reverse("watchlists:approve", args=[watchlist.pk])))
    response = client.post(reverse("watchlists:approve", args=[watchlist.pk]), {
        "version": watchlist.version, "confirmed": "on", "unenrolled_acknowledged": "on"})
    assert response.status_code == 400
    assert "you compiled this watchlist, so someone else must approve it" in messages_of(response)
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.SUBMITTED


def test_approving_a_stale_version_is_a_409(client_as, detective, commander, watchlist):
    watchlist = submitted(detective, watchlist)
    response = client_as(commander).post(reverse("watchlists:approve", args=[watchlist.pk]), {
        "version": watchlist.version - 1, "confirmed": "on", "unenrolled_acknowledged": "on"})
    assert response.status_code == 409 and "changed by someone else" in messages_of(response)
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.SUBMITTED


def test_detectives_cannot_approve(client_as, detective, watchlist):
    submitted(detective, watchlist)
    response = client_as(detective).post(reverse("watchlists:approve", args=[watchlist.pk]), {"version": watchlist.version})
    assert response.status_code == 403


def test_return_to_draft_needs_reasons(client_as, detective, commander, watchlist):
    submitted(detective, watchlist)
    client = client_as(commander)
    refused = client.post(reverse("watchlists:return", args=[watchlist.pk]), {"reasons": " "})
    assert refused.status_code == 400 and "say why the watchlist is returned" in messages_of(refused)
    response = client.post(reverse("watchlists:return", args=[watchlist.pk]), {"reasons": "PNC-0001 lacks a warrant"})
    assert response.status_code == 302
    assert Watchlist.objects.get(pk=watchlist.pk).status == Watchlist.Status.DRAFT
    assert AuditEvent.objects.filter(action="watchlist.returned_to_draft").get().details["why"] == "PNC-0001 lacks a warrant"


def test_review_of_an_approved_watchlist(client_as, detective, commander, watchlist):
    submitted(detective, watchlist)
    watchlist_approve(actor=commander, watchlist=watchlist, unenrolled_acknowledged=True)
    Watchlist.objects.filter(pk=watchlist.pk).update(reviewed_at=timezone.now() - dt.timedelta(days=30))
    response = client_as(commander).post(reverse("watchlists:review", args=[watchlist.pk]), {"note": "Still needed"})
    assert response.status_code == 302
    assert timezone.now() - Watchlist.objects.get(pk=watchlist.pk).reviewed_at < dt.timedelta(minutes=1)
    assert AuditEvent.objects.get(action="watchlist.reviewed").details == {"note": "Still needed"}


def test_approval_queue_lists_what_others_submitted(client_as, detective, commander, watchlist):
    submitted(detective, watchlist)
    watchlist_create(actor=detective, name="Still a draft", purpose="p")
    response = client_as(commander).get(reverse("watchlists:approval_queue"))
    assert response.status_code == 200
    assert [w.name for w in response.context["watchlists"]] == ["Op Lantern"]
    assert client_as(detective).get(reverse("watchlists:approval_queue")).status_code == 403


def test_review_due_lists_the_detectives_own_overdue_subjects(client_as, detective, make_user, commander):
    today = timezone.localdate()
    overdue = make_subject(detective, reference="DUE-1", review_date=today - dt.timedelta(days=1))
    make_subject(detective, reference="LATER-1")
    make_subject(make_user(Role.DETECTIVE), reference="OTHER-1", review_date=today - dt.timedelta(days=3))
    response = client_as(detective).get(reverse("watchlists:review_due"))
    assert response.status_code == 200 and [s.pk for s in response.context["subjects"]] == [overdue.pk]
    assert client_as(commander).get(reverse("watchlists:review_due")).status_code == 403


def test_controls_follow_the_role_but_the_service_decides(client_as, detective, commander, watchlist):
    detective_page = messages_of(client_as(detective).get(reverse("watchlists:detail", args=[watchlist.pk])))
    assert "Add existing subjects" in detective_page and "Approve version" not in detective_page
    commander_page = messages_of(client_as(commander).get(reverse("watchlists:detail", args=[watchlist.pk])))
    assert "Add existing subjects" not in commander_page and "Bulk import" not in commander_page
    # Hidden is not forbidden: the service refuses a commander compiling, whatever the page shows.
    (a,) = subjects(detective, 1)
    response = client_as(commander).post(reverse("watchlists:subjects_add", args=[watchlist.pk]),
                                         {"references": a.reference, "version": watchlist.version})
    assert response.status_code == 403 and not watchlist.entries.exists()


def test_the_shared_403_page_says_why(rf, officer):
    from django.core.exceptions import PermissionDenied

    from core.views_errors import permission_denied

    request = rf.get("/watchlists/")
    request.user = officer
    response = permission_denied(request, PermissionDenied("your role does not allow this (see watchlists)"))
    assert response.status_code == 403
    assert "your role does not allow this (see watchlists)" in response.content.decode()
