"""AuditAction: one member per event type, valued as the strings stored before it existed, and the only way the
portal's code names an action."""

import ast
from pathlib import Path

import pytest

from audit.actions import AuditAction

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "alerts", "audit", "core", "config", "deployments", "monitoring", "notifications", "recognition",
        "reports", "transparency", "watchlists")

# Every action string written before the enum (stored events and saved filters name them).
STORED_BEFORE = {
    "alert.adjudicated", "alert.case_linked", "alert.created", "alert.files_swept", "alert.purged", "alert.viewed",
    "audit.event_viewed", "audit.exported", "auth.login", "auth.login_failed", "auth.logout", "bulk_import.failed",
    "bulk_import.finished", "bulk_import.resumed", "bulk_import.started", "calibration.stored", "camera.created",
    "camera.source_viewed", "deployment.authorised", "deployment.cancelled", "deployment.completed",
    "deployment.created", "deployment.live", "deployment.officers_assigned", "deployment.post_record_saved",
    "deployment.rejected", "deployment.stopped", "deployment.submitted", "deployment.updated", "mfa.code_shown",
    "mfa.enrolled", "mfa.enrolment_started", "mfa.failed", "mfa.reset", "mfa.verified", "reference_image.added",
    "reference_image.deleted", "reference_image.duplicate_confirmed", "reference_image.viewed",
    "snapshot.biometrics_deleted", "statistics.exported", "subject.created", "subject.purged", "subject.updated",
    "subject.viewed", "subject_access.exported", "subject_access.searched", "test_walk.recorded", "user.created",
    "user.roles_changed", "watchlist.approved", "watchlist.created", "watchlist.returned_to_draft",
    "watchlist.reviewed", "watchlist.subject_removed", "watchlist.subjects_added", "watchlist.submitted",
    # f"reference_image.{status}" of an enrolment decision
    "reference_image.enrolled", "reference_image.refused", "reference_image.duplicate",
}


def test_every_action_stored_before_is_a_member_with_the_same_value():
    values = {action.value for action in AuditAction}
    assert STORED_BEFORE <= values
    assert values - STORED_BEFORE == {"watchlist.rejected", "role.permissions_changed",  # added since
                                      "user.deactivated", "user.reactivated", "user.unlocked",
                                      "push_subscription.created", "push_subscription.deleted",
                                      "push_subscription.expired", "deployment.document_uploaded",
                                      "deployment.document_viewed", "deployment.urgent_started",
                                      "deployment.urgent_authorised", "deployment.urgent_refused",
                                      "deployment.urgent_expired", "deployment.urgent_notification_viewed",
                                      "alert.deleted_for_deployment", "public_notice.saved",
                                      "alert.engagement_recorded", "alert.decision_amended"}
    assert all(action == action.value for action in AuditAction)  # a StrEnum: compares and stores as the string


def test_member_names_follow_their_values():
    for action in AuditAction:
        assert action.name == action.value.upper().replace(".", "_"), action


def _audit_record_calls():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
                        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "audit_record"):
                    yield path.relative_to(ROOT), node


def _names_a_member(node: ast.expr) -> bool:
    if isinstance(node, ast.IfExp):
        return _names_a_member(node.body) and _names_a_member(node.orelse)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "AuditAction":
        return node.attr in AuditAction.__members__
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return node.value.id == "ENROLMENT_ACTIONS"  # a table of members (below)
    return False


def test_every_audit_record_call_names_a_member():
    calls = list(_audit_record_calls())
    assert len(calls) > 50
    offenders = []
    for path, call in calls:
        action = next((k.value for k in call.keywords if k.arg == "action"), None)
        if action is None or not _names_a_member(action):
            offenders.append(f"{path}:{call.lineno}")
    assert offenders == []


def test_each_enrolment_decision_has_its_action():
    from watchlists.models import ReferenceImage
    from watchlists.services import ENROLMENT_ACTIONS

    assert {status: action.value for status, action in ENROLMENT_ACTIONS.items()} == {
        ReferenceImage.Status.ENROLLED: "reference_image.enrolled",
        ReferenceImage.Status.REFUSED: "reference_image.refused",
        ReferenceImage.Status.DUPLICATE: "reference_image.duplicate",
    }


@pytest.mark.django_db
def test_a_member_is_stored_as_its_string_and_found_by_it(detective):
    from audit.models import AuditEvent
    from audit.services import audit_record

    event = audit_record(actor=detective, action=AuditAction.SUBJECT_VIEWED)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert type(stored.action) is str and stored.action == "subject.viewed"
    assert AuditEvent.objects.filter(action=AuditAction.SUBJECT_VIEWED).count() == 1


def test_the_log_filter_offers_every_action():
    from audit.forms import AuditFilterForm

    offered = set(AuditFilterForm.ACTIONS)
    assert {action.value for action in AuditAction} <= offered and "alert." in offered
