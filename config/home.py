"""The start page: each role's work waiting for the user, one section per role they hold.

Each section is the existing selector of that work (the approval queue, the authorisation queue, the
deployments a user sees...), so who sees what stays written once, in the apps' policies. A section is shown
when its selector lets the user in; a user with several roles sees several sections. It names every app, so
it sits with the URL root at the top of the layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import user_can
from alerts.models import Alert
from deployments.models import Deployment
from deployments.selectors import deployment_authorisation_queue, deployment_list
from reports.selectors import deployments_with_statistics
from watchlists.models import Watchlist
from watchlists.selectors import subjects_review_due, watchlist_approval_queue, watchlist_list

HOME_LIST_LIMIT = 10  # each list shows the first ten; its page has the rest
UNDECIDED = (Alert.Status.PENDING, Alert.Status.AWAITING_VERIFICATION)  # as the reports count "not yet decided"
ENDED_WITH_REPORT = (Deployment.State.COMPLETED, Deployment.State.STOPPED)


@dataclass
class Section:
    key: str
    title: str
    lists: dict[str, list]


def _detective(user) -> Section | None:
    if not user_can(user=user, capability="manage_watchlist"):
        return None  # watchlist_list lets every viewer in; the drafts are the compilers' work
    drafts = watchlist_list(user=user).filter(status=Watchlist.Status.DRAFT, compiled_by=user)
    return Section("detective", "Your watchlists", {
        "drafts": list(drafts[:HOME_LIST_LIMIT]),
        "reviews_due": list(subjects_review_due(user=user)[:HOME_LIST_LIMIT])})


def _commander(user) -> Section | None:
    lists = {}
    for name, queue in (("approvals", watchlist_approval_queue), ("authorisations", deployment_authorisation_queue)):
        try:
            lists[name] = list(queue(user=user)[:HOME_LIST_LIMIT])
        except PermissionDenied:
            continue
    return Section("commander", "Waiting for your decision", lists) if lists else None


def _officer(user) -> Section | None:
    if not user_can(user=user, capability="adjudicate_alert"):
        return None
    # Subqueries, not joins: the selectors' own annotations (camera_count) stay right.
    undecided = (Alert.objects.filter(deployment=OuterRef("pk"), status__in=UNDECIDED).order_by()
                 .values("deployment").annotate(n=Count("pk")).values("n"))
    live = (deployment_list(user=user).filter(state=Deployment.State.LIVE, officers=user)
            .annotate(undecided=Coalesce(Subquery(undecided, output_field=IntegerField()), 0)))
    return Section("officer", "Your live deployments", {"live": list(live[:HOME_LIST_LIMIT])})


def _oversight(user) -> Section | None:
    try:
        ended = deployments_with_statistics(user=user).filter(state__in=ENDED_WITH_REPORT)
    except PermissionDenied:
        return None
    return Section("oversight", "Recently ended deployments", {
        "ended": list(ended.order_by(F("ended_at").desc(nulls_last=True), "-pk")[:HOME_LIST_LIMIT])})


SECTIONS: list[Callable] = [_detective, _commander, _officer, _oversight]


def home_sections(*, user) -> list[Section]:
    """The sections of the start page ``user`` has work in, in a fixed order."""
    return [section for build in SECTIONS if (section := build(user)) is not None]


@require_GET
def home(request):
    return render(request, "home.html", {"sections": {s.key: s for s in home_sections(user=request.user)}})
