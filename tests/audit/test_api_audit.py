"""The audit log API: events with the page's filters and keyset pages, one event (audited), the export."""

import datetime as dt
import io
import json
import zipfile

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.chain import GENESIS_HASH, HASHED_FIELDS, HASHED_IF_SET, event_hash
from audit.context import Channel, audit_context
from audit.models import AuditEvent
from audit.selectors import AUDIT_PAGE_SIZE
from audit.services import audit_record, event_fields
from audit.verify_export import verify_export
from tests.audit.conftest import FILTER_CASES
from tests.conftest import mfa_verify_session

pytestmark = pytest.mark.django_db

EVENTS = reverse("api:audit-event-list")
EXPORT = reverse("api:audit-export")


def event_url(sequence: int) -> str:
    return reverse("api:audit-event-detail", args=[sequence])


def sequences(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [event["sequence"] for event in response.json()["results"]]


def actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [event["action"] for event in response.json()["results"]]


def bundle_bytes(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


# --- listing and keyset pages ---------------------------------------------------------------------


def test_next_links_walk_the_whole_log_newest_first_and_previous_comes_back(api_as, oversight, many_events):
    api = api_as(oversight)
    first = api.get(EVENTS)
    every = list(AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True))
    assert sequences(first) == every[:AUDIT_PAGE_SIZE]
    assert first.json()["previous"] is None

    seen, page = [], first
    while True:
        seen += sequences(page)
        if page.json()["next"] is None:
            break
        page = api.get(page.json()["next"])
    assert seen == every  # every event once, in order, across the pages

    second = api.get(first.json()["next"])
    back = api.get(api.get(second.json()["next"]).json()["previous"])
    assert sequences(back) == sequences(second)
    assert sequences(api.get(second.json()["previous"])) == sequences(first)


def test_a_page_is_one_query_without_offset_or_count(api_as, oversight, many_events,
                                                      django_assert_max_num_queries):
    api = api_as(oversight)
    api.get(EVENTS)  # warm the session and permission caches
    # session, user, OTP device, roles, permissions, session save: the log itself is one query
    with django_assert_max_num_queries(10) as captured:
        response = api.get(EVENTS, {"before": 60, "action": "subject."})
    assert len(sequences(response)) == AUDIT_PAGE_SIZE
    audit_queries = [q["sql"] for q in captured.captured_queries if "audit_auditevent" in q["sql"]]
    assert len(audit_queries) == 1
    assert "OFFSET" not in audit_queries[0].upper() and "COUNT(" not in audit_queries[0].upper()


def test_links_keep_the_filters(api_as, oversight, officer, many_events):
    for _ in range(AUDIT_PAGE_SIZE + 5):
        audit_record(actor=officer, action="alert.viewed", deployment=9)
    api = api_as(oversight)
    first = api.get(EVENTS, {"actor": "pc_brown", "deployment": 9})
    assert "actor=pc_brown" in first.json()["next"] and "deployment=9" in first.json()["next"]
    rest = api.get(first.json()["next"])
    assert len(sequences(rest)) == 5
    assert set(AuditEvent.objects.filter(sequence__in=sequences(rest))
               .values_list("actor_username", flat=True)) == {"pc_brown"}


@pytest.mark.parametrize("query, expected", FILTER_CASES)
def test_filters_select_what_the_page_selects(api_as, oversight, varied_events, query, expected):
    assert actions(api_as(oversight).get(EVENTS, query)) == expected


def test_listing_is_not_audited(api_as, oversight, varied_events):
    api = api_as(oversight)
    before = AuditEvent.objects.count()
    assert api.get(EVENTS).status_code == 200
    assert api.get(EVENTS, {"action": "alert."}).status_code == 200
    assert AuditEvent.objects.count() == before


# --- every event can be re-hashed from its JSON ---------------------------------------------------

@pytest.fixture
def hard_events(detective, officer, monkeypatch):
    # summer time and a whole second: a time in any other format than the chain's no longer hashes
    with monkeypatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: timezone.make_aware(dt.datetime(2026, 7, 1, 12, 0)))
        audit_record(actor=detective, action="watchlist.created", target=("watchlists.watchlist", 7))
    with audit_context(channel=Channel.API, client_ip="2001:db8::7", correlation_id="req-1"):
        audit_record(actor=detective, action="subject.viewed", target=("watchlists.subject", 1),
                     details={"name": "Zoë Ødegård 李", "nested": {"list": [1, 2.5, None, {"deep": "€"}], "b": False},
                              "big": 2**60, "quote": "\"x\",y\nz"})
    with audit_context(channel=Channel.WEB, client_ip="198.51.100.23"):
        audit_record(actor=officer, action="alert.viewed", deployment=4, details={"emoji": "👮", "float": 1.0})
    audit_record(actor=None, action="system.purge", details={})


def test_every_event_rehashes_from_its_json_alone(api_as, oversight, hard_events):
    response = api_as(oversight).get(EVENTS)
    results = json.loads(response.content.decode("utf-8"))["results"]
    assert {"watchlist.created", "subject.viewed", "alert.viewed", "system.purge"} <= {
        event["action"] for event in results}
    summer = next(event for event in results if event["action"] == "watchlist.created")
    assert summer["occurred_at"] == "2026-07-01T11:00:00.000000Z"
    for event in results:
        hashed = {name: event[name] for name in HASHED_FIELDS + HASHED_IF_SET}
        assert event_hash(hashed) == event["hash"], event["sequence"]
    for newer, older in zip(results, results[1:], strict=False):
        assert newer["prev_hash"] == older["hash"]
    assert results[-1]["sequence"] == 1 and results[-1]["prev_hash"] == GENESIS_HASH
    # and the JSON is the chain's own view of each event, not a look-alike
    subject = next(event for event in results if event["action"] == "subject.viewed")
    stored = AuditEvent.objects.get(sequence=subject["sequence"])
    assert subject == event_fields(stored) | {"hash": stored.hash}
    assert subject["client_ip"] == "2001:db8::7" and subject["details"]["big"] == 2**60
    assert (subject["channel"], subject["correlation_id"]) == ("api", "req-1")


# --- one event ------------------------------------------------------------------------------------

def test_an_event_comes_with_its_check_and_opening_it_is_audited(api_as, oversight, hard_events):
    event = AuditEvent.objects.get(action="alert.viewed")
    response = api_as(oversight).get(event_url(event.sequence))
    assert response.status_code == 200
    body = response.json()
    assert body["event"] == event_fields(event) | {"hash": event.hash}
    assert body["check"] == {"hash_matches": True, "links_to_previous": True}
    viewed = AuditEvent.objects.order_by("-sequence").first()
    assert (viewed.action, viewed.actor_username, viewed.target_type, viewed.target_id) == (
        "audit.event_viewed", "commissioner", "audit.auditevent", str(event.sequence))


def test_an_altered_event_is_reported_by_its_check(api_as, oversight, altered_event):
    body = api_as(oversight).get(event_url(altered_event.sequence)).json()
    assert body["check"]["hash_matches"] is False
    assert body["event"]["details"] == {"subject": 2}


def test_an_unknown_event_is_404(api_as, oversight):
    assert api_as(oversight).get(event_url(10**6)).status_code == 404
    assert api_as(oversight).get(event_url(2**63)).status_code == 404  # past bigint: not found, not a 500


# --- export ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("export_format", ["csv", "jsonl"])
def test_the_export_is_the_verifiable_bundle_and_is_audited(api_as, oversight, hard_events, tmp_path,
                                                            export_format):
    response = api_as(oversight).post(EXPORT, {"format": export_format, "action": "alert.", "deployment": 4},
                                      format="json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    exported = AuditEvent.objects.get(action="audit.exported")
    assert response["Content-Disposition"] == (f'attachment; filename="audit-export-'
                                               f'{exported.occurred_at:%Y%m%d-%H%M%S}-{exported.sequence}.zip"')
    assert exported.actor_username == "commissioner"
    assert exported.details == {"filter": {"action": "alert.", "deployment_id": 4}, "format": export_format}

    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle_bytes(response))
    report = verify_export(path)
    assert report.ok, report.reason
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["count"] == 1 and manifest["filter"] == {"action": "alert.", "deployment_id": 4}
    assert manifest["export_event"] == {"sequence": exported.sequence, "hash": exported.hash}


def test_an_unfiltered_export_ends_with_its_own_record(api_as, oversight, hard_events, tmp_path):
    content = bundle_bytes(api_as(oversight).post(EXPORT, {"format": "jsonl"}, format="json"))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        lines = archive.read("events.jsonl").decode("utf-8").splitlines()
    assert [json.loads(line)["sequence"] for line in lines] == list(
        AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert json.loads(lines[-1])["action"] == "audit.exported"


def test_under_asgi_the_export_is_an_async_stream(oversight, hard_events):
    """Django would read a sync iterator to the end before sending it under ASGI."""
    client = AsyncClient()
    async_to_sync(client.aforce_login)(oversight)
    mfa_verify_session(async_to_sync(client.asession)(), oversight)

    async def download():
        response = await client.post(EXPORT, {"format": "csv"}, content_type="application/json")
        assert response.status_code == 200
        assert response.is_async
        return b"".join([chunk async for chunk in response.streaming_content])

    manifest = json.loads(zipfile.ZipFile(io.BytesIO(async_to_sync(download)())).read("manifest.json"))
    assert manifest["count"] == AuditEvent.objects.filter(sequence__lte=manifest["up_to_sequence"]).count()


def test_an_administrator_may_read_but_not_export(api_as, administrator, hard_events):
    api = api_as(administrator)
    assert api.get(EVENTS).status_code == 200
    assert api.get(event_url(1)).status_code == 200
    response = api.post(EXPORT, {"format": "csv"}, format="json")
    assert response.status_code == 403 and "detail" in response.json()
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


# --- who may call it ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["officer", "detective", "commander", "outsider"])
def test_other_roles_are_refused_everything(api_as, request, role, hard_events):
    api = api_as(request.getfixturevalue(role))
    assert api.get(EVENTS).status_code == 403
    assert api.get(EVENTS, {"date_from": "not a date"}).status_code == 403  # refused before the input is read
    assert api.get(event_url(1)).status_code == 403
    assert api.post(EXPORT, {"format": "csv"}, format="json").status_code == 403
    assert not AuditEvent.objects.filter(action__in=["audit.exported", "audit.event_viewed"]).exists()


def test_anonymous_callers_get_403_json_not_the_login_page(hard_events):
    api = APIClient()
    for response in (api.get(EVENTS), api.get(event_url(1)), api.post(EXPORT, {"format": "csv"}, format="json")):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json" and "detail" in response.json()


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, field, message", [
    ({"date_from": "2026-13-40"}, "date_from", "Date has wrong format"),
    ({"date_from": "2026-03-12", "date_to": "2026-03-11"}, "date_to", "The end of the period is before its start."),
    ({"before": "ten"}, "before", "A valid integer is required."),
    ({"after": "1e3"}, "after", "A valid integer is required."),
    ({"before": str(2**63)}, "before", "less than or equal to 9223372036854775807"),
    ({"after": str(10**30)}, "after", "less than or equal to 9223372036854775807"),
    ({"before": "0"}, "before", "greater than or equal to 1"),
    ({"before": "10", "after": "2"}, "non_field_errors", "Ask for older or newer events, not both."),
    ({"deployment": "forty-two"}, "deployment", "A valid integer is required."),
    ({"target_id": "3"}, "target_type", "Give the object type with its id."),
    ({"role": "superuser"}, "role", "is not a valid choice"),
    ({"action": "alert*"}, "action", "Unknown action “alert*”: choose one from the list."),  # the page's choices
    ({"dat_from": "2026-03-01"}, "dat_from", "Unknown parameter."),  # a typo must not widen the selection
])
def test_bad_filters_are_400_with_the_reason(api_as, oversight, query, field, message):
    response = api_as(oversight).get(EVENTS, query)
    assert response.status_code == 400
    assert any(message in reason for reason in response.json()[field]), response.json()


@pytest.mark.parametrize("body, field, message", [
    ({"format": "xml"}, "format", "is not a valid choice"),
    ({}, "format", "This field is required."),
    ({"format": "csv", "date_to": "yesterday"}, "date_to", "Date has wrong format"),
    ({"format": "csv", "date_from": "2026-03-12", "date_to": "2026-03-11"}, "date_to", "before its start"),
    ({"format": "csv", "deployment": 2**64}, "deployment", "less than or equal to"),
    ({"format": "csv", "sequence_from": 3}, "sequence_from", "Unknown parameter."),
])
def test_bad_export_requests_are_400_and_export_nothing(api_as, oversight, body, field, message):
    response = api_as(oversight).post(EXPORT, body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert any(message in reason for reason in response.json()[field]), response.json()
    assert not AuditEvent.objects.filter(action="audit.exported").exists()
