"""The DPIA, equality impact assessment and appropriate policy document: versioned PDFs under the protected root,
checked where they enter, downloaded only through a permission check that is audited, and the versions authorised
recorded with the authorisation."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfWriter

from audit.models import AuditEvent
from bench.world import placeholder_pdf
from core.errors import RuleViolation
from deployments.models import DeploymentDocument, DocumentKind
from deployments.services import deployment_authorisation_problems, deployment_authorise, deployment_document_upload
from tests.factories import approved_watchlist, enrolled_subject, protected_files, submitted_deployment, video_camera

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(detective, commander):
    """A submitted deployment with its three documents (version 1 each), ready to authorise."""
    subjects = [enrolled_subject(detective, 0)]
    return submitted_deployment(detective, approved_watchlist(detective, commander, subjects), [video_camera(detective)])


def upload(actor, deployment, kind="dpia", data=None, name="dpia.pdf"):
    return deployment_document_upload(actor=actor, deployment=deployment, kind=kind, original_name=name,
                                      file=io.BytesIO(placeholder_pdf("DPIA") if data is None else data))


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- the service ---------------------------------------------------------------------------------------

def test_a_new_upload_adds_a_version_and_keeps_the_old_file(detective, submitted):
    first = submitted.documents.get(kind="dpia")
    second = upload(detective, submitted, data=placeholder_pdf("DPIA, revised"), name="C:\\docs\\dpia-v2.pdf")
    assert (first.version, second.version) == (1, 2)
    assert second.original_name == "dpia-v2.pdf"
    assert second.file_name.startswith(f"deployment_documents/{submitted.pk}/") and second.file_name.endswith(".pdf")
    for document in (first, second):
        assert (Path(settings.PROTECTED_MEDIA_ROOT) / document.file_name).is_file()
    assert first.sha256 != second.sha256 and second.size == len(placeholder_pdf("DPIA, revised"))
    event = AuditEvent.objects.filter(action="deployment.document_uploaded").latest("sequence")
    assert event.details["version"] == 2 and event.details["sha256"] == second.sha256


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.7\n1 0 obj <<>> garbage, not a PDF body\n", "the PDF is damaged"),
    (b"\xff\xd8\xff\xe0 a JPEG renamed .pdf", "the file is not a PDF"),
    (b"<html><script>alert(1)</script></html>", "the file is not a PDF"),
    (encrypted_pdf(), "encrypted or password-protected"),
    (b"", "the file is empty"),
])
def test_what_is_not_a_readable_pdf_is_refused_and_nothing_is_stored(detective, submitted, data, message):
    before = protected_files()
    with pytest.raises(RuleViolation, match=message):
        upload(detective, submitted, data=data)
    assert protected_files() == before
    assert submitted.documents.count() == 3


def test_a_file_over_the_limit_is_refused_with_the_limit(settings, detective, submitted):
    settings.DEPLOYMENT_DOCUMENT_MAX_BYTES = 1_000_000
    with pytest.raises(RuleViolation, match=r"the file is 1\.1 MB; a document may be at most 1 MB"):
        upload(detective, submitted, data=placeholder_pdf("x") + b"\n%" + b"0" * 1_100_000)


@pytest.mark.parametrize("role", ["commander", "officer", "oversight"])
def test_only_planners_upload(request, submitted, role):
    with pytest.raises(PermissionDenied):
        upload(request.getfixturevalue(role), submitted)


def test_no_upload_once_authorised(detective, commander, submitted):
    deployment_authorise(actor=commander, deployment=submitted, reasons="ok")
    with pytest.raises(RuleViolation, match="documents are added before authorisation"):
        upload(detective, submitted)


def test_the_checklist_asks_for_each_missing_document(detective, commander):
    subjects = [enrolled_subject(detective, 0)]
    deployment = submitted_deployment(detective, approved_watchlist(detective, commander, subjects),
                                      [video_camera(detective)])
    DeploymentDocument.objects.filter(deployment=deployment, kind__in=["eia", "apd"]).delete()
    assert deployment_authorisation_problems(deployment=deployment) == [
        "no equality impact assessment (EIA) has been uploaded (a PDF, under Documents)",
        "no appropriate policy document (APD) has been uploaded (a PDF, under Documents)"]
    with pytest.raises(RuleViolation, match="no equality impact assessment"):
        deployment_authorise(actor=commander, deployment=deployment, reasons="ok")


def test_the_authorisation_records_the_versions_it_authorised(detective, commander, submitted):
    upload(detective, submitted)  # DPIA version 2
    deployment_authorise(actor=commander, deployment=submitted, reasons="ok")
    record = submitted.authorisations.get()
    assert [(d["kind"], d["version"]) for d in record.documents] == [("dpia", 2), ("eia", 1), ("apd", 1)]
    current = {d.kind: d for d in DeploymentDocument.objects.filter(deployment=submitted, version=1)}
    assert record.documents[1]["sha256"] == current["eia"].sha256
    assert AuditEvent.objects.get(action="deployment.authorised").details["documents"] == record.documents


def test_an_upload_after_the_page_was_shown_is_refused_at_authorisation(detective, commander, submitted):
    from core.errors import ChangedSinceShown
    from deployments.selectors import current_documents, documents_key

    shown = documents_key(current_documents(deployment=submitted))
    upload(detective, submitted)
    with pytest.raises(ChangedSinceShown, match="a document was uploaded since your page was loaded"):
        deployment_authorise(actor=commander, deployment=submitted, reasons="ok", shown_documents=shown)


# --- the API -----------------------------------------------------------------------------------------

def pdf_file(data: bytes | None = None, name: str = "eia.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, placeholder_pdf("EIA") if data is None else data, content_type="application/pdf")


def test_api_upload_list_and_audited_download(api_as, detective, oversight, submitted, django_assert_max_num_queries):
    url = f"/api/deployments/{submitted.pk}/documents/"
    created = api_as(detective).post(url, {"kind": "eia", "file": pdf_file()}, format="multipart")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "eia" and body["version"] == 2 and body["original_name"] == "eia.pdf"
    reader = api_as(oversight)
    with django_assert_max_num_queries(12):
        listing = reader.get(url)
    assert listing.status_code == 200
    assert [(d["kind"], d["version"]) for d in listing.json()["results"]] == [
        ("apd", 1), ("dpia", 1), ("eia", 2), ("eia", 1)]
    download = reader.get(body["download"])
    assert download.status_code == 200
    assert download.content == placeholder_pdf("EIA")
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="deployment-{submitted.pk}-eia-v2.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff" and "no-store" in download["Cache-Control"]
    event = AuditEvent.objects.get(action="deployment.document_viewed")
    assert event.actor == oversight and event.target_id == str(body["id"]) and event.deployment_id == submitted.pk


def test_api_refuses_bad_files_with_the_reason(api_as, detective, submitted):
    url = f"/api/deployments/{submitted.pk}/documents/"
    planner = api_as(detective)
    renamed = planner.post(url, {"kind": "apd", "file": pdf_file(b"PK\x03\x04 a zip", "apd.pdf")}, format="multipart")
    assert renamed.status_code == 400
    assert "not a PDF" in renamed.json()["errors"][0]
    corrupt = planner.post(url, {"kind": "apd", "file": pdf_file(b"%PDF-1.4\n%%EOF broken")}, format="multipart")
    assert corrupt.status_code == 400 and "damaged" in corrupt.json()["errors"][0]
    unknown = planner.post(url, {"kind": "minutes", "file": pdf_file()}, format="multipart")
    assert unknown.status_code == 400 and "kind" in unknown.json()


def test_api_refuses_a_body_over_the_limit_before_reading_it(settings, api_as, detective, submitted):
    settings.DEPLOYMENT_DOCUMENT_MAX_BYTES = 100_000
    big = pdf_file(placeholder_pdf("x") + b"0" * 300_000)
    response = api_as(detective).post(f"/api/deployments/{submitted.pk}/documents/", {"kind": "dpia", "file": big},
                                      format="multipart")
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert submitted.documents.count() == 3


@pytest.mark.parametrize("role, list_status, upload_status", [
    ("officer", 403, 403), ("commander", 200, 403), ("administrator", 403, 403)])
def test_api_who_lists_and_uploads(request, api_as, submitted, role, list_status, upload_status):
    client = api_as(request.getfixturevalue(role))
    url = f"/api/deployments/{submitted.pk}/documents/"
    assert client.get(url).status_code == list_status
    assert client.post(url, {"kind": "dpia", "file": pdf_file()}, format="multipart").status_code == upload_status


def test_api_officer_cannot_download(api_as, officer, submitted):
    submitted.officers.set([officer])
    document = submitted.documents.first()
    response = api_as(officer).get(f"/api/deployments/{submitted.pk}/documents/{document.pk}/file")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="deployment.document_viewed").exists()


def test_a_missing_file_is_410_and_the_attempt_audited(api_as, commander, submitted):
    document = submitted.documents.first()
    (Path(settings.PROTECTED_MEDIA_ROOT) / document.file_name).unlink()
    response = api_as(commander).get(f"/api/deployments/{submitted.pk}/documents/{document.pk}/file")
    assert response.status_code == 410
    assert AuditEvent.objects.get(action="deployment.document_viewed").details["file_missing"] is True


# --- the portal ----------------------------------------------------------------------------------------

def test_portal_lists_versions_and_uploads(client_as, detective, submitted):
    client = client_as(detective)
    page = client.get(reverse("deployments:detail", args=[submitted.pk])).content.decode()
    assert page.count('data-testid="document-row"') == 3 and 'data-testid="document-upload"' in page
    response = client.post(reverse("deployments:document_upload", args=[submitted.pk]),
                           {"kind": "apd", "file": pdf_file(name="apd v2.pdf")})
    assert response.status_code == 302
    assert submitted.documents.filter(kind="apd").count() == 2
    page = client.get(reverse("deployments:detail", args=[submitted.pk])).content.decode()
    assert "apd v2.pdf" in page and page.count('data-testid="document-row"') == 4


def test_portal_refuses_a_non_pdf_with_the_reason(client_as, detective, submitted):
    response = client_as(detective).post(reverse("deployments:document_upload", args=[submitted.pk]),
                                         {"kind": "dpia", "file": pdf_file(b"GIF89a not a pdf", "dpia.pdf")})
    assert response.status_code == 400
    assert "the file is not a PDF" in response.content.decode()


def test_portal_refuses_too_big_with_413(settings, client_as, detective, submitted):
    settings.DEPLOYMENT_DOCUMENT_MAX_BYTES = 100_000
    response = client_as(detective).post(reverse("deployments:document_upload", args=[submitted.pk]),
                                         {"kind": "dpia", "file": pdf_file(b"%PDF-" + b"0" * 300_000)})
    assert response.status_code == 413
    assert "the file is too large; a document may be at most 0.1 MB" in response.content.decode()


def test_portal_download_is_an_audited_attachment(client_as, commander, submitted):
    document = submitted.documents.get(kind="apd")
    response = client_as(commander).get(reverse("deployments:document_download", args=[submitted.pk, document.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="deployment.document_viewed", actor=commander).count() == 1


def test_portal_officer_sees_no_documents(client_as, officer, submitted):
    submitted.officers.set([officer])
    client = client_as(officer)
    page = client.get(reverse("deployments:detail", args=[submitted.pk])).content.decode()
    assert 'data-testid="documents"' not in page
    document = submitted.documents.first()
    assert client.get(reverse("deployments:document_download", args=[submitted.pk, document.pk])).status_code == 403


def test_every_kind_is_required():
    assert [k.value for k in DocumentKind] == ["dpia", "eia", "apd"]
