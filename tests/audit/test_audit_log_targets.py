"""The audit log page names each event's object with a readable label and links to its page, loaded in bulk."""

import html
import re

import pytest
from django.urls import reverse

from audit.actions import AuditAction
from audit.services import audit_record
from tests.factories import approved_watchlist, enrolled_subject, submitted_deployment, video_camera

pytestmark = pytest.mark.django_db

LOG = reverse("audit:log")


@pytest.fixture
def objects(detective, commander):
    subject = enrolled_subject(detective, 0, reference="PNC-123")
    watchlist = approved_watchlist(detective, commander, [subject])
    camera = video_camera(detective, "North gate")
    deployment = submitted_deployment(detective, watchlist, [camera], name="Oxford Circus")
    return {"subject": subject, "watchlist": watchlist, "camera": camera, "deployment": deployment,
            "image": subject.images.first()}


def record_mixed(actor, objects, commander, times: int = 1):
    """Events naming every kind of object (and one no longer there, one of a kind the log does not know)."""
    o = objects
    for _ in range(times):
        audit_record(actor=actor, action=AuditAction.DEPLOYMENT_UPDATED, target=o["deployment"],
                     deployment=o["deployment"])
        audit_record(actor=actor, action=AuditAction.SUBJECT_VIEWED, target=o["subject"])
        audit_record(actor=actor, action=AuditAction.WATCHLIST_REVIEWED, target=o["watchlist"])
        audit_record(actor=actor, action=AuditAction.CAMERA_SOURCE_VIEWED, target=o["camera"])
        audit_record(actor=actor, action=AuditAction.REFERENCE_IMAGE_VIEWED, target=o["image"])
        audit_record(actor=actor, action=AuditAction.USER_ROLES_CHANGED, target=commander)
        # a purged alert: its deployment's live page from the event
        audit_record(actor=actor, action=AuditAction.ALERT_VIEWED, target=("alerts.alert", 55),
                     deployment=o["deployment"])
        audit_record(actor=actor, action=AuditAction.AUDIT_EVENT_VIEWED, target=("audit.auditevent", 3))
        audit_record(actor=actor, action=AuditAction.SUBJECT_VIEWED, target=("watchlists.subject", 999_999))
        audit_record(actor=actor, action=AuditAction.SUBJECT_VIEWED, target=("somewhere.thing", "x-1"))


def cell(page: str, target: str) -> str:
    """The Object cell of the first row naming `target` ("type:id")."""
    return re.search(rf'<td data-target="{re.escape(target)}"[^>]*>(.*?)</td>', page, re.S).group(1)


def test_objects_show_as_labels_linking_to_their_pages(client_as, oversight, detective, commander, objects):
    record_mixed(detective, objects, commander)
    page = html.unescape(client_as(oversight).get(LOG).content.decode())
    d, s, w, c, i = (objects[k] for k in ("deployment", "subject", "watchlist", "camera", "image"))
    assert cell(page, f"deployments.deployment:{d.pk}") == (
        f'<a href="{reverse("deployments:detail", args=[d.pk])}">Deployment {d.pk}: Oxford Circus</a>')
    assert cell(page, f"watchlists.subject:{s.pk}") == (
        f'<a href="{reverse("watchlists:subject_detail", args=[s.pk])}">Subject PNC-123</a>')
    assert cell(page, f"watchlists.watchlist:{w.pk}") == (
        f'<a href="{reverse("watchlists:detail", args=[w.pk])}">Watchlist {w.pk}: Op Lantern</a>')
    assert cell(page, f"deployments.camera:{c.pk}") == (
        f'<a href="{reverse("deployments:cameras")}">Camera {c.pk}: North gate</a>')
    # an image links to its subject's page: opening the image itself is audited
    assert cell(page, f"watchlists.referenceimage:{i.pk}") == (
        f'<a href="{reverse("watchlists:subject_detail", args=[s.pk])}">Image {i.pk} of subject PNC-123</a>')
    assert cell(page, f"auth.user:{commander.pk}") == (
        f'<a href="{reverse("accounts:user_detail", args=[commander.pk])}">User supt_jones</a>')
    assert cell(page, "alerts.alert:55") == f'<a href="{reverse("alerts:live", args=[d.pk])}">Alert 55</a>'
    assert cell(page, "audit.auditevent:3") == f'<a href="{reverse("audit:event", args=[3])}">Audit event #3</a>'
    assert cell(page, "watchlists.subject:999999") == "Subject 999999"  # not there: no link
    assert cell(page, "somewhere.thing:x-1") == "somewhere.thing x-1"


def test_labels_are_loaded_in_bulk(client_as, oversight, detective, commander, objects,
                                   django_assert_max_num_queries):
    client = client_as(oversight)
    record_mixed(detective, objects, commander)
    client.get(LOG)  # warm the session and permission caches
    # the page's own ten at most (see test_audit_log_views), then one per kind of object looked up (seven here)
    with django_assert_max_num_queries(17) as few:
        client.get(LOG)
    record_mixed(detective, objects, commander, times=4)  # a full page of 50, the same kinds
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(LOG).content.decode()
    assert page.count('data-target="watchlists.subject:') >= 8


def test_the_log_only_links_each_page_checks_its_own_permission(client_as, administrator, detective, commander,
                                                                 objects):
    record_mixed(detective, objects, commander)
    client = client_as(administrator)
    assert "Subject PNC-123" in client.get(LOG).content.decode()
    # an administrator may read the log, not the subject's record or the deployment: their pages refuse
    assert client.get(reverse("watchlists:subject_detail", args=[objects["subject"].pk])).status_code == 403
    assert client.get(reverse("deployments:detail", args=[objects["deployment"].pk])).status_code == 403


def test_an_events_page_names_its_object_too(client_as, oversight, detective, commander, objects):
    from audit.models import AuditEvent

    record_mixed(detective, objects, commander)
    event = AuditEvent.objects.get(action=AuditAction.DEPLOYMENT_UPDATED)
    page = html.unescape(client_as(oversight).get(reverse("audit:event", args=[event.sequence])).content.decode())
    d = objects["deployment"]
    assert (f'<a href="{reverse("deployments:detail", args=[d.pk])}">Deployment {d.pk}: Oxford Circus</a>'
            f' <span class="muted"><code>deployments.deployment {d.pk}</code></span>') in page
