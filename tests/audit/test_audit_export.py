"""Exporting the audit log: a streamed zip with the events, a manifest and the verifier; itself audited."""

import csv
import hashlib
import io
import json
import os
import zipfile

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import reverse

from audit import export as audit_export
from audit.chain import GENESIS_HASH, event_hash
from audit.export import export_bundle
from audit.filters import AuditFilter
from audit.log_access import audit_export_record
from audit.models import AuditEvent
from audit.services import audit_record, event_fields
from tests.conftest import mfa_verify_session

pytestmark = pytest.mark.django_db

EXPORT = reverse("audit:export")


@pytest.fixture
def events(detective, officer):
    audit_record(actor=detective, action="subject.viewed", target=("watchlists.subject", 1),
                 details={"name": "Zoë, \"quoted\"\nnew line", "nested": {"a": [1, 2.5, None, True]}})
    audit_record(actor=officer, action="alert.viewed", deployment=4)
    audit_record(actor=None, action="system.purge", details={"removed": 3})
    audit_record(actor=officer, action="alert.adjudicated", deployment=4, details={"outcome": "no_match"})


def bundle(response) -> zipfile.ZipFile:
    assert response.streaming
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_oversight_exports_the_whole_log_as_csv(client_as, oversight, events):
    response = client_as(oversight).post(EXPORT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-export-')
    archive = bundle(response)
    assert sorted(archive.namelist()) == ["events.csv", "manifest.json", "verify_export.py"]
    assert archive.read("verify_export.py") == audit_export.VERIFIER_SOURCE.read_bytes()

    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor_username == "commissioner"
    assert exported.details == {"filter": {}, "format": "csv"}

    rows = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode("utf-8"))))
    database = list(AuditEvent.objects.order_by("sequence"))
    assert [int(r["sequence"]) for r in rows] == [e.sequence for e in database]
    assert rows[-1]["action"] == "audit.exported"  # the export covers events up to its own record
    subject_row = next(r for r in rows if r["action"] == "subject.viewed")
    assert json.loads(subject_row["details"])["name"] == "Zoë, \"quoted\"\nnew line"

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["count"] == len(database) and manifest["contiguous"] is True
    assert (manifest["first_sequence"], manifest["prev_hash"]) == (1, GENESIS_HASH)
    assert (manifest["last_sequence"], manifest["last_hash"]) == (exported.sequence, exported.hash)
    assert manifest["events_sha256"] == hashlib.sha256(archive.read("events.csv")).hexdigest()
    assert manifest["exported_by"] == "commissioner" and manifest["filter"] == {}
    assert manifest["export_event"] == {"sequence": exported.sequence, "hash": exported.hash}


def test_a_filtered_jsonl_export_carries_what_rehashes_each_event(client_as, oversight, events):
    response = client_as(oversight).post(EXPORT, {"format": "jsonl", "action": "alert.", "deployment": "4"})
    archive = bundle(response)
    lines = archive.read("events.jsonl").decode("utf-8").splitlines()
    exported = [json.loads(line) for line in lines]
    assert [e["action"] for e in exported] == ["alert.viewed", "alert.adjudicated"]
    for event in exported:
        assert event_hash(event) == event["hash"]
        assert event == event_fields(AuditEvent.objects.get(sequence=event["sequence"])) | {"hash": event["hash"]}

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["filter"] == {"action": "alert.", "deployment_id": 4}
    assert manifest["contiguous"] is False and manifest["count"] == 2
    assert manifest["prev_hash"] == exported[0]["prev_hash"]
    audit_event = AuditEvent.objects.get(action="audit.exported")
    assert audit_event.details == {"filter": {"action": "alert.", "deployment_id": 4}, "format": "jsonl"}


def test_events_written_while_streaming_are_not_in_the_export(oversight, detective, events):
    export_event = audit_export_record(actor=oversight, filters=AuditFilter(), export_format="jsonl")
    chunks = export_bundle(filters=AuditFilter(), export_format="jsonl", export_event=export_event)
    first = next(chunks)
    audit_record(actor=detective, action="later")
    archive = zipfile.ZipFile(io.BytesIO(first + b"".join(chunks)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["last_sequence"] == export_event.sequence == manifest["up_to_sequence"]


def test_the_bundle_is_streamed_in_chunks(oversight, detective, monkeypatch):
    for _ in range(100):
        audit_record(actor=detective, action="subject.viewed", details={"noise": os.urandom(2048).hex()})
    monkeypatch.setattr(audit_export, "FLUSH_BYTES", 1)  # hand over whatever the compressor has produced
    export_event = audit_export_record(actor=oversight, filters=AuditFilter(), export_format="csv")
    chunks = list(export_bundle(filters=AuditFilter(), export_format="csv", export_event=export_event))
    total = sum(map(len, chunks))
    assert len(chunks) >= 5 and max(map(len, chunks)) < total / 2  # not one blob at the end
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).testzip() is None


def test_under_asgi_the_bundle_is_an_async_stream(oversight, events):
    """Django would read a sync iterator to the end before sending it under ASGI."""
    client = AsyncClient()
    async_to_sync(client.aforce_login)(oversight)
    mfa_verify_session(async_to_sync(client.asession)(), oversight)

    async def download():
        response = await client.post(EXPORT, {"format": "csv"})
        assert response.status_code == 200, response.get("Location")
        assert response.is_async
        return response, b"".join([chunk async for chunk in response.streaming_content])

    response, data = async_to_sync(download)()
    assert response.status_code == 200
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert manifest["count"] == AuditEvent.objects.filter(sequence__lte=manifest["up_to_sequence"]).count()


@pytest.mark.parametrize("role", ["administrator", "officer", "detective", "outsider"])
def test_only_oversight_may_export(client_as, request, role, events):
    before = AuditEvent.objects.filter(action="audit.exported").count()
    response = client_as(request.getfixturevalue(role)).post(EXPORT, {"format": "csv"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="audit.exported").count() == before


def test_a_bad_export_request_is_a_400_and_not_recorded(client_as, oversight, events):
    response = client_as(oversight).post(EXPORT, {"format": "xlsx"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_export_needs_a_post(client_as, oversight):
    assert client_as(oversight).get(EXPORT).status_code == 405
