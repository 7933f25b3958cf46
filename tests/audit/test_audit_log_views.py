"""The audit log page (filters, keyset pages) and one event's page."""

import html
import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import AUDIT_PAGE_SIZE
from audit.services import audit_record
from tests.audit.conftest import FILTER_CASES

pytestmark = pytest.mark.django_db

LOG = reverse("audit:log")


def shown(response) -> list[int]:
    return [int(n) for n in re.findall(r'data-sequence="(\d+)"', response.content.decode())]


def link(response, rel: str) -> str | None:
    found = re.search(rf'href="\?([^"]*)" rel="{rel}"', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


def test_pages_run_newest_first_and_link_older_and_newer(client_as, oversight, many_events):
    client = client_as(oversight)
    total = AuditEvent.objects.count()  # signing in is an event too
    first = client.get(LOG)
    assert shown(first) == list(range(total, total - AUDIT_PAGE_SIZE, -1))
    assert link(first, "prev") is None

    second = client.get(f"{LOG}?{link(first, 'next')}")
    assert shown(second) == list(range(total - AUDIT_PAGE_SIZE, total - 2 * AUDIT_PAGE_SIZE, -1))

    last = client.get(f"{LOG}?{link(second, 'next')}")
    assert shown(last) == list(range(total - 2 * AUDIT_PAGE_SIZE, 0, -1))
    assert link(last, "next") is None

    back = client.get(f"{LOG}?{link(last, 'prev')}")
    assert shown(back) == shown(second)
    # Going newer from the second page reaches the top: the newest page, full.
    assert shown(client.get(f"{LOG}?{link(second, 'prev')}")) == shown(first)


def test_a_page_is_one_indexed_query_whatever_the_log_size(client_as, oversight, many_events,
                                                           django_assert_max_num_queries):
    client = client_as(oversight)
    client.get(LOG)  # warm the session and permission caches
    # session, user, OTP device, roles, permissions (2), session save (3): the log itself is one query
    with django_assert_max_num_queries(10) as captured:
        response = client.get(f"{LOG}?before=60&action=subject.")
    assert len(shown(response)) == AUDIT_PAGE_SIZE
    audit_queries = [q["sql"] for q in captured.captured_queries if "audit_auditevent" in q["sql"]]
    assert len(audit_queries) == 1
    assert "OFFSET" not in audit_queries[0].upper() and "COUNT(" not in audit_queries[0].upper()


def test_keyset_links_keep_the_filters(client_as, oversight, detective, officer, many_events):
    for _ in range(AUDIT_PAGE_SIZE + 5):
        audit_record(actor=officer, action="alert.viewed", deployment=9)
    response = client_as(oversight).get(LOG, {"actor": "pc_brown"})
    older = link(response, "next")
    assert "actor=pc_brown" in older
    rest = client_as(oversight).get(f"{LOG}?{older}")
    assert len(shown(rest)) == 5
    assert set(AuditEvent.objects.filter(sequence__in=shown(rest)).values_list("actor_username", flat=True)) == {
        "pc_brown"}


@pytest.mark.parametrize("query, expected", [
    ({}, ["auth.login", "alertness.check", "alertness.check", "system.purge", "alert.viewed", "alert.adjudicated",
          "deployment.authorised", "watchlist.created"]),
    *FILTER_CASES,
])
def test_filters(client_as, oversight, varied_events, query, expected):
    response = client_as(oversight).get(LOG, query)
    assert response.status_code == 200
    actions = list(AuditEvent.objects.filter(sequence__in=shown(response)).order_by("-sequence")
                   .values_list("action", flat=True))
    assert actions == expected


@pytest.mark.parametrize("query, message", [
    ({"date_from": "2026-03-12", "date_to": "2026-03-11"}, "The end of the period is before its start."),
    ({"deployment": "forty-two"}, "Enter a whole number."),
    ({"target_id": "3"}, "Give the object type with its id."),
    ({"before": "10", "after": "2"}, "Ask for older or newer events, not both."),
    ({"role": "superuser"}, "Select a valid choice."),
    ({"action": "alertness.check"}, "Unknown action “alertness.check”: choose one from the list."),
    ({"action": "alert*"}, "Unknown action “alert*”"),
    ({"before": str(2**63)}, "less than or equal to"),  # past a bigint: refused here, not by PostgreSQL
    ({"deployment": str(2**64)}, "less than or equal to"),
])
def test_bad_filters_get_a_clear_400(client_as, oversight, query, message):
    response = client_as(oversight).get(LOG, query)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("role", ["officer", "detective", "outsider", "commander"])
def test_only_oversight_and_admin_see_the_log(client_as, request, role, detective):
    event = audit_record(actor=detective, action="subject.viewed")
    client = client_as(request.getfixturevalue(role))
    assert client.get(LOG).status_code == 403
    assert client.get(reverse("audit:event", args=[event.sequence])).status_code == 403


def test_admin_can_view_the_log_and_an_event(client_as, administrator, detective):
    event = audit_record(actor=detective, action="subject.viewed")
    client = client_as(administrator)
    assert client.get(LOG).status_code == 200
    assert client.get(reverse("audit:event", args=[event.sequence])).status_code == 200


def test_browsing_the_log_is_not_itself_audited(client_as, oversight, detective):
    audit_record(actor=detective, action="subject.viewed")
    client = client_as(oversight)
    before = AuditEvent.objects.count()
    assert client.get(LOG, {"action": "subject."}).status_code == 200
    assert client.get(LOG).status_code == 200
    assert AuditEvent.objects.count() == before


def test_event_page_shows_details_and_hashes_and_is_audited(client_as, oversight, detective):
    event = audit_record(actor=detective, action="subject.viewed", target=("watchlists.subject", 5),
                         details={"name": "Zoë Ødegård", "nested": {"list": [1, 2]}})
    response = client_as(oversight).get(reverse("audit:event", args=[event.sequence]))
    page = html.unescape(response.content.decode())
    assert "Zoë Ødegård" in page and '"list": [' in page
    assert event.hash in page and event.prev_hash in page
    assert 'class="ok-text">yes' in page
    viewed = AuditEvent.objects.order_by("-sequence").first()
    assert (viewed.action, viewed.actor_username, viewed.target_type, viewed.target_id) == (
        "audit.event_viewed", "commissioner", "audit.auditevent", str(event.sequence))


def test_event_page_says_when_an_event_was_altered(client_as, oversight, altered_event):
    page = client_as(oversight).get(reverse("audit:event", args=[altered_event.sequence])).content.decode()
    assert "this event was altered" in page


def test_unknown_event_is_404(client_as, oversight):
    assert client_as(oversight).get(reverse("audit:event", args=[999])).status_code == 404


def test_the_export_form_carries_the_filters_and_is_offered_to_oversight_only(client_as, oversight, administrator):
    page = client_as(oversight).get(LOG, {"action": "alert.", "deployment": "4"}).content.decode()
    export_form = page[page.index('data-testid="audit-export"'):]
    export_form = export_form[:export_form.index("</form>")]
    assert 'name="action" value="alert."' in export_form and 'name="deployment" value="4"' in export_form
    assert 'data-testid="audit-export"' not in client_as(administrator).get(LOG).content.decode()


def test_the_action_filter_is_a_select_of_the_known_actions(client_as, oversight):
    page = client_as(oversight).get(LOG, {"action": "alert.adjudicated"}).content.decode()
    select = page[page.index('<select name="action"'):]
    select = select[:select.index("</select>")]
    assert '<optgroup label="Alert">' in select and '<optgroup label="MFA">' in select
    assert '<option value="alert.">Alert: every event</option>' in select
    assert '<option value="alert.adjudicated" selected>Alert: adjudicated</option>' in select
    assert '<option value="reference_image.duplicate_confirmed">Reference image: duplicate confirmed</option>' in select
    assert "<input" not in select and "datalist" not in page
