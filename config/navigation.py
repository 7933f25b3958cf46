"""The portal's navigation: what each user sees, each link shown by the rule of the page it opens.

It names every app's pages, so it sits with the URL root at the top of the layers. A link shown by a policy
(the authorisation queue) reads that policy, so changing who may use the page changes the link with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from accounts.permissions import user_can
from accounts.roles import Role
from accounts.selectors import mfa_required, user_roles
from deployments.policies import may_decide_deployments


@dataclass(frozen=True)
class Link:
    label: str
    url_name: str
    shown_to: Callable[..., bool] | None = None  # keyword-only user=; None: every signed-in user


def _holding(capability: str) -> Callable[..., bool]:
    def holds(*, user) -> bool:
        return user_can(user=user, capability=capability)

    return holds


NAVIGATION: list[Link] = [
    Link("Home", "home"),
    Link("Watchlists", "watchlists:list", _holding("view_watchlist")),
    Link("Subjects", "watchlists:subjects", _holding("view_watchlist")),
    Link("Reviews due", "watchlists:review_due", _holding("manage_watchlist")),
    Link("Approvals", "watchlists:approval_queue", _holding("approve_watchlist")),
    Link("Deployments", "deployments:list", _holding("view_deployment")),
    Link("Authorisations", "deployments:authorisation_queue", may_decide_deployments),
    Link("Cameras", "deployments:cameras", _holding("view_deployment")),
    Link("Live alerts", "alerts:live_index", _holding("view_alerts")),
    Link("Audit log", "audit:log", _holding("view_audit_log")),
    Link("Statistics", "reports:index", _holding("view_statistics")),
    Link("Subject access", "oversight:subject_access", _holding("search_subject_access")),
    Link("Users", "accounts:users", _holding("manage_users")),
]


def navigation(request) -> dict:
    """Template context processor: the links and role names in the page header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_roles": []}
    labels = dict(Role.choices)
    roles = [labels.get(r, r) for r in user_roles(user=user)]
    if mfa_required(user=user) and not getattr(user, "is_verified", lambda: True)():
        return {"nav_items": [], "nav_roles": roles}  # nothing to reach before the code
    items = []
    for link in NAVIGATION:
        if link.shown_to is not None and not link.shown_to(user=user):
            continue
        try:
            items.append({"label": link.label, "url": reverse(link.url_name)})
        except NoReverseMatch:
            continue
    return {"nav_items": items, "nav_roles": roles}
