"""Roles and the one table that maps each role to its permissions.

Roles are Django groups; a user may hold several. Permissions are the `accounts.<codename>`
capabilities below; code checks capabilities (`user.has_perm("accounts.approve_watchlist")`),
never role names (settings such as MFA_REQUIRED_ROLES name roles). Each capability means one thing; the
rules that combine them with a record's state and who made it are in each app's policies.py.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    DETECTIVE = "detective", "Detective"
    AUTHORISING_OFFICER = "authorising_officer", "Authorising officer"
    OFFICER = "officer", "Officer"
    OVERSIGHT = "oversight", "Oversight"
    ADMIN = "admin", "Administrator"


CAPABILITIES: dict[str, str] = {
    "view_watchlist": "See watchlists and their non-biometric details",
    "manage_watchlist": "Create watchlists, add and edit subjects, enrol images",
    "approve_watchlist": "Approve a watchlist compiled by someone else",
    "view_biometric_data": "See reference face images (every view is audited)",
    "plan_deployment": "Draft and submit deployments",
    "authorise_deployment": "Authorise or reject deployments submitted by someone else",
    "cancel_deployment": "Cancel a submitted or authorised deployment",
    "stop_deployment": "Stop a live deployment (kill switch)",
    "start_urgent_deployment": "Start a deployment before authorisation in a justified urgency (AI Act Art. 5(3))",
    "view_deployment": "See deployments",
    "view_all_deployments": "See every deployment, not only those one is assigned to",
    "view_alerts": "See alerts of deployments one is assigned to",
    "watch_alerts": "Watch the alerts of every deployment, not only those one is assigned to",
    "record_test_walk": "Record test walks on deployments one watches (assigned officers record them anyway)",
    "adjudicate_alert": "Record the outcome of an alert",
    "view_audit_log": "Browse the audit log",
    "export_audit_log": "Export the audit log with its verification manifest",
    "view_statistics": "See deployment statistics and transparency reports",
    "search_subject_access": "Search who was on which watchlist for subject access requests",
    "manage_users": "Create users and assign roles",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.DETECTIVE: frozenset({
        "view_watchlist", "manage_watchlist", "view_biometric_data", "plan_deployment", "view_deployment",
        "view_all_deployments",
    }),
    Role.AUTHORISING_OFFICER: frozenset({
        "view_watchlist", "approve_watchlist", "view_biometric_data", "authorise_deployment", "cancel_deployment",
        "stop_deployment", "start_urgent_deployment", "view_deployment", "view_all_deployments", "view_alerts",
        "watch_alerts", "record_test_walk", "view_statistics",
    }),
    Role.OFFICER: frozenset({"view_deployment", "view_alerts", "adjudicate_alert"}),
    Role.OVERSIGHT: frozenset({
        "view_watchlist", "view_biometric_data", "view_deployment", "view_all_deployments", "view_alerts",
        "watch_alerts", "view_audit_log", "export_audit_log", "view_statistics", "search_subject_access",
    }),
    # Administrators run accounts, not operations: no biometric data.
    Role.ADMIN: frozenset({"manage_users", "view_audit_log"}),
}


def permission_name(codename: str) -> str:
    return f"accounts.{codename}"
