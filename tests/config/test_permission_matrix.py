"""Every URL and API endpoint × every role, and anonymous: who gets in and who is refused.

The list of URLs comes from the URL conf, so a new endpoint without a rule here fails
`test_every_url_has_a_rule`. Each rule names, per HTTP method, the roles that may use the URL (read from the
role table and each app's policies.py, so the matrix checks every view and endpoint agrees with them); every
other role must be refused (403, or 404 where the object is hidden from them), and an anonymous
caller is sent to the login page (portal) or refused with 401/403 (API).

"Allowed" means the view did its work: any answer but 401/403/404, a redirect to the login page or a
server error. An empty POST that the service then refuses as invalid (400) counts as allowed: the
permission check let the caller through to the rule checks. Every request runs inside a savepoint
that is rolled back, so one role's POST does not change what the next role sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

D, C, OF, V, A, X = "detective", "commander", "officer", "oversight", "administrator", "outsider"
ROLES = (D, C, OF, V, A, X)
EVERYONE = frozenset(ROLES)  # every signed-in user, the outsider (no role) included
NOBODY: frozenset[str] = frozenset()


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


# The fixture user of each role (tests/conftest.py).
FIXTURE_ROLE = {"detective": D, "authorising_officer": C, "officer": OF, "oversight": V, "admin": A}


def holding(*capabilities: str) -> frozenset[str]:
    """The roles holding any one of ``capabilities``, as the role table says (accounts/roles.py); who holds
    which capability is spelled out in tests/accounts/test_roles.py."""
    from accounts.roles import CAPABILITIES, ROLE_PERMISSIONS

    assert set(capabilities) <= set(CAPABILITIES), capabilities
    return frozenset(FIXTURE_ROLE[role] for role, held in ROLE_PERMISSIONS.items() if held & set(capabilities))


def let_in(refusal) -> bool:
    """A policy's answer as the matrix sees it: a refusal by rule (the wrong state, missing reasons) is a 400,
    so the caller got past the permission check."""
    return refusal is None or refusal.by_rule


def deployment_action(action: str, attribute: str = "deployment"):
    """The roles deployments/policies.py lets past the permission check for ``action`` on the world's deployment:
    the role gate views and the API check first, then the rule the service enforces."""

    def allowed(world) -> frozenset[str]:
        from deployments.policies import deployment_refusal, deployment_role_refusal

        deployment = getattr(world, attribute)
        return frozenset(role for role, user in world.users.items()
                         if deployment_role_refusal(user=user, action=action) is None
                         and let_in(deployment_refusal(user=user, deployment=deployment, action=action)))

    return allowed


def alert_access(world) -> frozenset[str]:
    """Who sees the world's live deployment's alerts (alerts/policies.py: assigned officers, those who watch)."""
    from alerts.policies import deployment_alert_access

    return frozenset(role for role, user in world.users.items()
                     if deployment_alert_access(user=user, deployment=world.deployment) is not None)


def walk_recorders(world) -> frozenset[str]:
    from alerts import policies

    return frozenset(role for role, user in world.users.items()
                     if policies.test_walk_policy(user=user, deployment=world.deployment))


def push_subscribers(world) -> frozenset[str]:
    from notifications.policies import push_subscription_policy

    return frozenset(role for role, user in world.users.items() if let_in(push_subscription_policy(user=user)))


def watchlist_gate(action: str) -> frozenset[str]:
    from watchlists.policies import ACTION_CAPABILITIES

    return holding(*ACTION_CAPABILITIES[action])


def _deployments_gate(name: str) -> frozenset[str]:
    from deployments import policies

    return holding(*getattr(policies, name))


def camera_gate(action: str) -> frozenset[str]:
    from deployments.policies import CAMERA_ACTION_CAPABILITIES

    return holding(*CAMERA_ACTION_CAPABILITIES[action])


# Who may use what: the role table and each app's policies.py decide, the matrix checks every URL agrees.
VIEW_WATCHLIST = holding("view_watchlist")
MANAGE_WATCHLIST = watchlist_gate("edit")
SUBMIT_WATCHLIST = watchlist_gate("submit")
APPROVE_WATCHLIST = watchlist_gate("approve")
RETURN_WATCHLIST = watchlist_gate("return")
REVIEW_WATCHLIST = watchlist_gate("review")
VIEW_BIOMETRICS = holding("view_biometric_data")
PLAN = _deployments_gate("CREATE_CAPABILITIES")
VIEW_DEPLOYMENT = _deployments_gate("VIEW_CAPABILITIES")
DECIDE = deployment_action("authorise")  # the authorisation queue is theirs
VIEW_ALERTS = alert_access
ADJUDICATE = holding("adjudicate_alert")
RECORD_TEST_WALK = walk_recorders
VIEW_AUDIT = holding("view_audit_log")
EXPORT_AUDIT = holding("export_audit_log")
VIEW_STATISTICS = holding("view_statistics")
SUBJECT_ACCESS = holding("search_subject_access")
MANAGE_USERS = holding("manage_users")
EDIT_DEPLOYMENT = deployment_action("edit")


def public_notice_writers(world) -> frozenset[str]:
    from transparency.policies import public_notice_refusal

    return frozenset(role for role, user in world.users.items()
                     if let_in(public_notice_refusal(user=user, deployment=world.deployment)))
VIEW_CAMERAS, ADD_CAMERA, EDIT_CAMERA = camera_gate("view"), camera_gate("create"), camera_gate("edit")


@dataclass(frozen=True)
class Rule:
    methods: dict[str, frozenset[str] | Callable]  # the roles, or a function of the world giving them
    kwargs: dict[str, str] = field(default_factory=dict)  # URL kwarg -> attribute of the world
    public: bool = False  # reachable without signing in
    ends_on_login_page: bool = False  # success is a redirect to the login page (signing out)
    token_only: bool = False  # a bearer token, not a role or a session, lets a caller in (/metrics)


def get(allowed, **kwargs) -> Rule:
    return Rule({"GET": allowed}, kwargs)


def post(allowed, **kwargs) -> Rule:
    return Rule({"POST": allowed}, kwargs)


def get_post(read, write, **kwargs) -> Rule:
    return Rule({"GET": read, "POST": write}, kwargs)


WATCHLIST = {"pk": "watchlist"}
SUBJECT = {"pk": "subject"}
IMAGE = {"pk": "image"}
DEPLOYMENT = {"pk": "deployment"}
DOCUMENT = {"pk": "deployment", "document_id": "document"}
LIVE = {"deployment_id": "deployment"}
ALERT = {"alert_id": "alert"}
IMPORT = {"pk": "watchlist", "import_pk": "bulk_import"}

RULES: dict[str, Rule] = {
    "home": get(EVERYONE),
    "healthz": Rule({"GET": EVERYONE}, public=True),
    "metrics": Rule({"GET": NOBODY}, token_only=True),  # MONITORING_TOKEN: tests/monitoring/test_metrics.py
    "accounts:login": Rule({"GET": EVERYONE}, public=True),
    "accounts:logout": Rule({"POST": EVERYONE}, public=True, ends_on_login_page=True),
    "accounts:mfa_verify": get_post(EVERYONE, EVERYONE),  # verified, or not asked: back where they were going
    "accounts:mfa_enrol": get_post(EVERYONE, EVERYONE),
    "accounts:users": get(MANAGE_USERS),
    "accounts:user_mfa_reset": post(MANAGE_USERS),
    "accounts:user_create": post(MANAGE_USERS),
    "accounts:user_detail": get(MANAGE_USERS, pk="target_user"),
    "accounts:user_roles": post(MANAGE_USERS, pk="target_user"),
    "accounts:user_deactivate": post(MANAGE_USERS, pk="target_user"),
    "accounts:user_reactivate": post(MANAGE_USERS, pk="target_user"),
    "accounts:user_unlock": post(MANAGE_USERS, pk="target_user"),
    "api:user-list": get_post(MANAGE_USERS, MANAGE_USERS),
    "api:user-detail": get(MANAGE_USERS, pk="target_user"),
    "api:user-roles": Rule({"PUT": MANAGE_USERS}, {"pk": "target_user"}),
    "api:user-deactivate": post(MANAGE_USERS, pk="target_user"),
    "api:user-reactivate": post(MANAGE_USERS, pk="target_user"),
    "api:user-unlock": post(MANAGE_USERS, pk="target_user"),
    "api:user-mfa-reset": post(MANAGE_USERS, pk="target_user"),
    "favicon": Rule({"GET": EVERYONE}, public=True),
    # watchlists and subjects
    "watchlists:list": get_post(VIEW_WATCHLIST, MANAGE_WATCHLIST),
    "watchlists:approval_queue": get(APPROVE_WATCHLIST),
    "watchlists:detail": get(VIEW_WATCHLIST, **WATCHLIST),
    "watchlists:subjects_add": post(MANAGE_WATCHLIST, **WATCHLIST),
    "watchlists:subject_remove": post(MANAGE_WATCHLIST, pk="watchlist", subject_pk="subject"),
    "watchlists:submit": post(SUBMIT_WATCHLIST, **WATCHLIST),
    "watchlists:approve": post(APPROVE_WATCHLIST, **WATCHLIST),
    "watchlists:return": post(RETURN_WATCHLIST, **WATCHLIST),
    "watchlists:review": post(REVIEW_WATCHLIST, **WATCHLIST),
    "watchlists:import": get_post(MANAGE_WATCHLIST, MANAGE_WATCHLIST, **WATCHLIST),
    "watchlists:import_status": get(VIEW_WATCHLIST, **IMPORT),
    "watchlists:import_status_json": get(VIEW_WATCHLIST, **IMPORT),
    "watchlists:import_template": get(MANAGE_WATCHLIST),
    "watchlists:subjects": get(VIEW_WATCHLIST),
    "watchlists:subject_create": get_post(MANAGE_WATCHLIST, MANAGE_WATCHLIST),
    "watchlists:review_due": get(MANAGE_WATCHLIST),
    "watchlists:subject_detail": get(VIEW_WATCHLIST, **SUBJECT),
    "watchlists:subject_edit": get_post(MANAGE_WATCHLIST, MANAGE_WATCHLIST, **SUBJECT),
    "watchlists:image_add": post(MANAGE_WATCHLIST, **SUBJECT),
    "watchlists:image": get(VIEW_BIOMETRICS, **IMAGE),
    "watchlists:image_outlined": get(VIEW_BIOMETRICS, **IMAGE),
    "watchlists:image_confirm_duplicate": post(MANAGE_WATCHLIST, **IMAGE),
    "watchlists:image_delete": post(MANAGE_WATCHLIST, **IMAGE),
    "oversight:subject_access": get(SUBJECT_ACCESS),
    "oversight:subject_access_report": get(SUBJECT_ACCESS, subject_id="subject"),
    "oversight:subject_access_report_csv": get(SUBJECT_ACCESS, subject_id="subject"),
    # deployments and cameras
    "deployments:list": get(VIEW_DEPLOYMENT),
    "deployments:create": get_post(PLAN, PLAN),
    "deployments:authorisation_queue": get(DECIDE),
    "deployments:cameras": get(VIEW_CAMERAS),
    "deployments:camera_create": post(ADD_CAMERA),
    "deployments:detail": get(VIEW_DEPLOYMENT, **DEPLOYMENT),
    "deployments:edit": get_post(EDIT_DEPLOYMENT, EDIT_DEPLOYMENT, **DEPLOYMENT),
    "deployments:submit": post(deployment_action("submit"), **DEPLOYMENT),
    "deployments:authorise": post(deployment_action("authorise"), **DEPLOYMENT),
    "deployments:reject": post(deployment_action("reject"), **DEPLOYMENT),
    "deployments:stop": post(deployment_action("stop"), **DEPLOYMENT),
    "deployments:cancel": post(deployment_action("cancel"), **DEPLOYMENT),
    "deployments:officers": post(deployment_action("assign_officers"), **DEPLOYMENT),
    "deployments:post_record": post(deployment_action("write_post_record", "ended_deployment"),
                                    pk="ended_deployment"),
    "deployments:document_upload": post(deployment_action("upload_document"), **DEPLOYMENT),
    "deployments:document_download": get(deployment_action("view_documents"), **DOCUMENT),
    "deployments:urgent_start": post(deployment_action("start_urgent"), **DEPLOYMENT),
    "deployments:urgent_authorise": post(deployment_action("decide_urgent"), **DEPLOYMENT),
    "deployments:urgent_refuse": post(deployment_action("decide_urgent"), **DEPLOYMENT),
    "deployments:urgent_notification": get(deployment_action("view_urgent_notification"), **DEPLOYMENT),
    # live alerts
    "alerts:live_index": get(VIEW_ALERTS),
    "alerts:live": get(VIEW_ALERTS, **LIVE),
    "alerts:deployment_alerts_json": get(VIEW_ALERTS, **LIVE),
    "alerts:probe_image": get(VIEW_ALERTS, **ALERT),
    "alerts:reference_image": get(VIEW_ALERTS, **ALERT),
    "alerts:adjudicate": post(ADJUDICATE, **ALERT),
    "alerts:engagement": post(ADJUDICATE, **ALERT),
    "alerts:amend": post(ADJUDICATE, alert_id="adjudicated_alert", adjudication_id="adjudication"),
    "alerts:test_walk_record": post(RECORD_TEST_WALK, **LIVE),
    "notifications:push_subscribe": post(push_subscribers),
    "notifications:push_unsubscribe": post(EVERYONE),  # one's own subscription only (tests/notifications)
    "service_worker": Rule({"GET": EVERYONE}, public=True),
    # audit log
    "audit:log": get(VIEW_AUDIT),
    "audit:event": get(VIEW_AUDIT, sequence="audit_event"),
    "audit:export": post(EXPORT_AUDIT),
    "api:audit-event-list": get(VIEW_AUDIT),
    "api:audit-event-detail": get(VIEW_AUDIT, sequence="audit_event"),
    "api:audit-export": post(EXPORT_AUDIT),
    # statistics and transparency reports
    "reports:index": get(VIEW_STATISTICS),
    "reports:deployment": get(VIEW_STATISTICS, deployment_id="deployment"),
    "reports:deployment_csv": get(VIEW_STATISTICS, deployment_id="deployment"),
    "reports:year": get(VIEW_STATISTICS, year="report_year"),
    "reports:year_csv": get(VIEW_STATISTICS, year="report_year"),
    "reports:month": get(VIEW_STATISTICS, year="report_year", month="report_month"),
    "reports:month_csv": get(VIEW_STATISTICS, year="report_year", month="report_month"),
    "api:report-deployment": get(VIEW_STATISTICS, deployment_id="deployment"),
    "api:report-year": get(VIEW_STATISTICS, year="report_year"),
    "api:report-month": get(VIEW_STATISTICS, year="report_year", month="report_month"),
    # REST API
    "api:watchlist-list": get_post(VIEW_WATCHLIST, MANAGE_WATCHLIST),
    "api:watchlist-approval-queue": get(APPROVE_WATCHLIST),
    "api:watchlist-detail": get(VIEW_WATCHLIST, **WATCHLIST),
    "api:watchlist-subjects": get_post(VIEW_WATCHLIST, MANAGE_WATCHLIST, **WATCHLIST),
    "api:watchlist-subject": Rule({"DELETE": MANAGE_WATCHLIST}, {"pk": "watchlist", "subject_id": "subject"}),
    "api:watchlist-submit": post(SUBMIT_WATCHLIST, **WATCHLIST),
    "api:watchlist-approve": post(APPROVE_WATCHLIST, **WATCHLIST),
    "api:watchlist-reject": post(RETURN_WATCHLIST, **WATCHLIST),
    "api:watchlist-review": post(REVIEW_WATCHLIST, **WATCHLIST),
    "api:watchlist-imports": post(MANAGE_WATCHLIST, **WATCHLIST),
    "api:import-detail": get(VIEW_WATCHLIST, pk="bulk_import"),
    "api:subject-list": get_post(VIEW_WATCHLIST, MANAGE_WATCHLIST),
    "api:subject-detail": Rule({"GET": VIEW_WATCHLIST, "PATCH": MANAGE_WATCHLIST}, SUBJECT),
    "api:subject-images": get_post(VIEW_WATCHLIST, MANAGE_WATCHLIST, **SUBJECT),
    "api:subject-access-search": get(SUBJECT_ACCESS),
    "api:subject-access-report": get(SUBJECT_ACCESS, subject_id="subject"),
    "api:reference-image-detail": Rule({"GET": VIEW_WATCHLIST, "DELETE": MANAGE_WATCHLIST}, IMAGE),
    "api:reference-image-file": get(VIEW_BIOMETRICS, **IMAGE),
    "api:reference-image-confirm-duplicate": post(MANAGE_WATCHLIST, **IMAGE),
    "api:camera-list": get_post(VIEW_CAMERAS, ADD_CAMERA),
    "api:camera-detail": get(VIEW_CAMERAS, pk="camera"),
    "api:camera-source": get(EDIT_CAMERA, pk="camera"),
    "api:deployment-list": get_post(VIEW_DEPLOYMENT, PLAN),
    "api:deployment-authorisation-queue": get(DECIDE),
    "api:deployment-detail": Rule({"GET": VIEW_DEPLOYMENT, "PATCH": EDIT_DEPLOYMENT}, DEPLOYMENT),
    "api:deployment-submit": post(deployment_action("submit"), **DEPLOYMENT),
    "api:deployment-authorise": post(deployment_action("authorise"), **DEPLOYMENT),
    "api:deployment-reject": post(deployment_action("reject"), **DEPLOYMENT),
    "api:deployment-stop": post(deployment_action("stop"), **DEPLOYMENT),
    "api:deployment-cancel": post(deployment_action("cancel"), **DEPLOYMENT),
    "api:deployment-officers": Rule({"PUT": deployment_action("assign_officers")}, DEPLOYMENT),
    "api:deployment-authorisation-problems": get(VIEW_DEPLOYMENT, **DEPLOYMENT),
    "api:deployment-test-walks": Rule({"GET": VIEW_ALERTS, "POST": RECORD_TEST_WALK}, DEPLOYMENT),
    "api:deployment-alerts": get(VIEW_ALERTS, **DEPLOYMENT),
    "api:alert-detail": get(VIEW_ALERTS, pk="alert"),
    "api:alert-adjudication": post(ADJUDICATE, pk="alert"),
    "api:alert-engagement": post(ADJUDICATE, pk="alert"),
    "api:alert-amendment": post(ADJUDICATE, pk="adjudicated_alert", adjudication_pk="adjudication"),
    "api:alert-case-link": post(ADJUDICATE, pk="alert"),
    "api:alert-image-probe": get(VIEW_ALERTS, pk="alert"),
    "api:alert-image-reference": get(VIEW_ALERTS, pk="alert"),
    "api:deployment-post-record": Rule({"GET": VIEW_DEPLOYMENT,
                                        "PUT": deployment_action("write_post_record", "ended_deployment")},
                                       {"pk": "ended_deployment"}),
    "api:deployment-documents": get_post(deployment_action("view_documents"), deployment_action("upload_document"),
                                         **DEPLOYMENT),
    "api:deployment-document-file": get(deployment_action("view_documents"), **DOCUMENT),
    "api:deployment-urgent-start": post(deployment_action("start_urgent"), **DEPLOYMENT),
    "api:deployment-urgent-authorise": post(deployment_action("decide_urgent"), **DEPLOYMENT),
    "api:deployment-urgent-refuse": post(deployment_action("decide_urgent"), **DEPLOYMENT),
    "api:deployment-urgent-notification": get(deployment_action("view_urgent_notification"), **DEPLOYMENT),
    # what the public is told: public pages (no sign-in) and the notice form
    "transparency:index": Rule({"GET": EVERYONE}, public=True),
    "transparency:atom_feed": Rule({"GET": EVERYONE}, public=True),
    "transparency:json_feed": Rule({"GET": EVERYONE}, public=True),
    "transparency:deployment": Rule({"GET": EVERYONE}, DEPLOYMENT, public=True),  # live: announced
    "transparency:signage": Rule({"GET": EVERYONE}, DEPLOYMENT, public=True),
    "transparency:notice_edit": get_post(VIEW_DEPLOYMENT, public_notice_writers, **DEPLOYMENT),
    "api:schema": get(EVERYONE),
    "api:docs": get(EVERYONE),
}


def url_names() -> set[str]:
    """Every named URL in the URL conf, with its namespace."""

    def walk(patterns, namespace: str | None) -> set[str]:
        names = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                if pattern.namespace and namespace:
                    inner = f"{namespace}:{pattern.namespace}"
                names |= walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"URL {pattern.pattern} has no name: name it so the matrix can list it"
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
        return names

    return walk(get_resolver().url_patterns, None)


def test_every_url_has_a_rule():
    names = url_names()
    assert sorted(names - RULES.keys()) == [], "new URLs: add who may use them to RULES"
    assert sorted(RULES.keys() - names) == [], "RULES names URLs that no longer exist"


@dataclass
class World:
    watchlist: object
    subject: object
    image: object
    deployment: object
    ended_deployment: object
    camera: object
    alert: object
    bulk_import: object
    users: dict
    document: object = None
    audit_event: object = None  # .pk is the event's sequence, as in its URL
    target_user: object = None  # the account the user administration URLs act on
    adjudication: object = None  # an officer's decision, which the amend URLs name
    adjudicated_alert: object = None  # the alert it decided
    report_year: object = field(default_factory=lambda: SimpleNamespace(pk=2026))  # .pk: a report's year, month
    report_month: object = field(default_factory=lambda: SimpleNamespace(pk=3))


def _ended_deployment(*, detective, commander, officer, watchlist):
    """A second deployment, authorised then cancelled, with its post-deployment record written."""
    from deployments.services import deployment_authorise, deployment_cancel, post_deployment_record_save
    from tests.factories import submitted_deployment, video_camera

    deployment = submitted_deployment(detective, watchlist, [video_camera(detective, "Camera 2")],
                                      starts_in=dt.timedelta(days=1))
    deployment.officers.set([officer])
    deployment_authorise(actor=commander, deployment=deployment, reasons="Necessary and proportionate")
    deployment = deployment_cancel(actor=commander, deployment=deployment, reason="Event called off")
    post_deployment_record_save(actor=commander, deployment=deployment, outcomes="Did not take place")
    return deployment


@pytest.fixture
def world(detective, commander, officer, oversight, administrator, outsider, live_deployment, raise_alert) -> World:
    from alerts.services import alert_adjudicate
    from audit.models import AuditEvent
    from watchlists.models import BulkImport

    subject = live_deployment.watchlist.subjects.order_by("pk").first()
    decided = alert_adjudicate(actor=officer, alert=raise_alert(0), decision="not_a_match")
    return World(
        watchlist=live_deployment.watchlist, subject=subject, image=subject.images.order_by("pk").first(),
        deployment=live_deployment, camera=live_deployment.cameras.first(), alert=raise_alert(0),
        ended_deployment=_ended_deployment(detective=detective, commander=commander, officer=officer,
                                           watchlist=live_deployment.watchlist),
        bulk_import=BulkImport.objects.create(watchlist=live_deployment.watchlist, created_by=detective),
        document=live_deployment.documents.order_by("pk").first(),
        users={D: detective, C: commander, OF: officer, V: oversight, A: administrator, X: outsider},
        target_user=officer, adjudication=decided.adjudications.get(), adjudicated_alert=decided,
        audit_event=SimpleNamespace(pk=AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)[0]))


def _request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    if method == "POST":
        return client.post(url, {})
    return client.generic(method, url, b"{}", content_type="application/json")


def _verdict(response) -> str:
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if status == 302 and "/accounts/login/" in response.get("Location", ""):
        return "sent to login"
    if status in (401, 403, 404):
        return "refused"
    if status == 405:
        return "method not allowed"
    return "allowed"


@pytest.mark.parametrize("name", sorted(RULES))
def test_permission_matrix(name, world, client_as, client):
    rule = RULES[name]
    url = reverse(name, kwargs={kwarg: getattr(world, attribute).pk for kwarg, attribute in rule.kwargs.items()})
    is_api = name.startswith("api:") and name != "api:docs"
    view_class = getattr(resolve(url).func, "cls", None)
    if view_class is not None:  # an API view: its methods are known, so a method without a rule fails too
        handled = {m.upper() for m in view_class.http_method_names if m not in ("head", "options")
                   and hasattr(view_class, m)}
        assert handled == set(rule.methods), f"{name} handles {sorted(handled)}; RULES lists {sorted(rule.methods)}"
    wrong = []
    for method, allowed in rule.methods.items():
        allowed = allowed(world) if callable(allowed) else allowed
        for role in (*ROLES, None):
            if role is None:
                client.logout()
            else:
                client_as(world.users[role])
            savepoint = transaction.savepoint()
            try:
                verdict = _verdict(_request(client, method, url))
                if rule.ends_on_login_page and verdict == "sent to login":
                    verdict = "allowed"
            finally:
                transaction.savepoint_rollback(savepoint)
            if role is None:
                expected = "allowed" if rule.public else ("refused" if is_api or rule.token_only else "sent to login")
            else:
                expected = "allowed" if role in allowed else "refused"
            if verdict != expected:
                wrong.append(f"{method} {url} as {role or 'anonymous'}: expected {expected}, got {verdict}")
    assert not wrong, "\n".join(wrong)


# --- websockets -----------------------------------------------------------------------------------

WEBSOCKET_RULES: dict[str, tuple[frozenset[str] | Callable, dict[str, str]]] = {
    "ws/deployments/<int:deployment_id>/alerts/": (VIEW_ALERTS, LIVE),
}


def test_every_websocket_route_has_a_rule():
    from config.websocket_urls import websocket_urlpatterns

    assert sorted(str(p.pattern) for p in websocket_urlpatterns) == sorted(WEBSOCKET_RULES)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", sorted(WEBSOCKET_RULES))
async def test_websocket_matrix(route, world):
    from asgiref.sync import sync_to_async

    from tests.sockets import alert_socket

    allowed, kwargs = WEBSOCKET_RULES[route]
    allowed = await sync_to_async(allowed)(world) if callable(allowed) else allowed
    deployment_id = getattr(world, kwargs["deployment_id"]).pk  # the only websocket route so far
    wrong = []
    for role in (*ROLES, None):
        socket, connected, code = await alert_socket(deployment_id, user=world.users[role] if role else None)
        if connected:
            await socket.disconnect()
        if connected != (role in allowed):
            wrong.append(f"{route} as {role or 'anonymous'}: expected {'open' if role in allowed else 'refused'}, "
                         f"got {'open' if connected else f'refused ({code})'}")
    assert not wrong, "\n".join(wrong)
