"""Every kind of audit event: one member per event type, its value the string stored in AuditEvent.action (so
the events written before this enum, the filters and the exports read as they did). docs/audit.md describes
them."""

from __future__ import annotations

import enum


class AuditAction(enum.StrEnum):
    # sign-in, accounts and MFA (accounts)
    AUTH_LOGIN = "auth.login"
    AUTH_LOGOUT = "auth.logout"
    AUTH_LOGIN_FAILED = "auth.login_failed"
    ROLE_PERMISSIONS_CHANGED = "role.permissions_changed"
    USER_CREATED = "user.created"
    USER_ROLES_CHANGED = "user.roles_changed"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"
    USER_UNLOCKED = "user.unlocked"
    MFA_ENROLMENT_STARTED = "mfa.enrolment_started"
    MFA_ENROLLED = "mfa.enrolled"
    MFA_VERIFIED = "mfa.verified"
    MFA_FAILED = "mfa.failed"
    MFA_RESET = "mfa.reset"
    MFA_CODE_SHOWN = "mfa.code_shown"
    # the audit log itself
    AUDIT_EVENT_VIEWED = "audit.event_viewed"
    AUDIT_EXPORTED = "audit.exported"
    # watchlists, subjects and their images
    WATCHLIST_CREATED = "watchlist.created"
    WATCHLIST_SUBJECTS_ADDED = "watchlist.subjects_added"
    WATCHLIST_SUBJECT_REMOVED = "watchlist.subject_removed"
    WATCHLIST_SUBMITTED = "watchlist.submitted"
    WATCHLIST_APPROVED = "watchlist.approved"
    WATCHLIST_REJECTED = "watchlist.rejected"
    WATCHLIST_REVIEWED = "watchlist.reviewed"
    WATCHLIST_RETURNED_TO_DRAFT = "watchlist.returned_to_draft"
    SUBJECT_CREATED = "subject.created"
    SUBJECT_UPDATED = "subject.updated"
    SUBJECT_VIEWED = "subject.viewed"
    SUBJECT_PURGED = "subject.purged"
    REFERENCE_IMAGE_ADDED = "reference_image.added"
    REFERENCE_IMAGE_ENROLLED = "reference_image.enrolled"
    REFERENCE_IMAGE_REFUSED = "reference_image.refused"
    REFERENCE_IMAGE_DUPLICATE = "reference_image.duplicate"
    REFERENCE_IMAGE_DUPLICATE_CONFIRMED = "reference_image.duplicate_confirmed"
    REFERENCE_IMAGE_DELETED = "reference_image.deleted"
    REFERENCE_IMAGE_VIEWED = "reference_image.viewed"
    BULK_IMPORT_STARTED = "bulk_import.started"
    BULK_IMPORT_RESUMED = "bulk_import.resumed"
    BULK_IMPORT_FINISHED = "bulk_import.finished"
    BULK_IMPORT_FAILED = "bulk_import.failed"
    SUBJECT_ACCESS_SEARCHED = "subject_access.searched"
    SUBJECT_ACCESS_EXPORTED = "subject_access.exported"
    # cameras and deployments
    CAMERA_CREATED = "camera.created"
    CAMERA_SOURCE_VIEWED = "camera.source_viewed"
    DEPLOYMENT_CREATED = "deployment.created"
    DEPLOYMENT_UPDATED = "deployment.updated"
    DEPLOYMENT_OFFICERS_ASSIGNED = "deployment.officers_assigned"
    DEPLOYMENT_SUBMITTED = "deployment.submitted"
    DEPLOYMENT_AUTHORISED = "deployment.authorised"
    DEPLOYMENT_REJECTED = "deployment.rejected"
    DEPLOYMENT_LIVE = "deployment.live"
    DEPLOYMENT_STOPPED = "deployment.stopped"
    DEPLOYMENT_CANCELLED = "deployment.cancelled"
    DEPLOYMENT_COMPLETED = "deployment.completed"
    DEPLOYMENT_POST_RECORD_SAVED = "deployment.post_record_saved"
    PUBLIC_NOTICE_SAVED = "public_notice.saved"  # what the public is told (transparency)
    SNAPSHOT_BIOMETRICS_DELETED = "snapshot.biometrics_deleted"
    CALIBRATION_STORED = "calibration.stored"
    # alerts
    ALERT_CREATED = "alert.created"
    ALERT_VIEWED = "alert.viewed"
    ALERT_ADJUDICATED = "alert.adjudicated"
    ALERT_ENGAGEMENT_RECORDED = "alert.engagement_recorded"
    ALERT_DECISION_AMENDED = "alert.decision_amended"
    ALERT_CASE_LINKED = "alert.case_linked"
    ALERT_PURGED = "alert.purged"
    ALERT_FILES_SWEPT = "alert.files_swept"
    TEST_WALK_RECORDED = "test_walk.recorded"
    # background alerts (notifications): a browser's Web Push subscription
    PUSH_SUBSCRIPTION_CREATED = "push_subscription.created"
    PUSH_SUBSCRIPTION_DELETED = "push_subscription.deleted"
    PUSH_SUBSCRIPTION_EXPIRED = "push_subscription.expired"
    # reports
    STATISTICS_EXPORTED = "statistics.exported"
