from __future__ import annotations

from django.db.models import Count, QuerySet
from django.http import Http404

from accounts.permissions import require_capability
from accounts.selectors import user_can
from deployments.models import Camera, Deployment


def _sees_all_deployments(user) -> bool:
    return any(user_can(user=user, capability=c) for c in ("plan_deployment", "authorise_deployment", "view_audit_log"))


def deployment_list(*, user) -> QuerySet[Deployment]:
    """Planners, commanders and oversight see every deployment; officers only those they are assigned to."""
    require_capability(user=user, capability="view_deployment")
    deployments = Deployment.objects.select_related("watchlist", "created_by").annotate(camera_count=Count("cameras"))
    if not _sees_all_deployments(user):
        deployments = deployments.filter(officers=user)
    return deployments.order_by("-starts_at", "pk")


def access_deployment(*, user, id: int) -> Deployment:
    try:
        return deployment_list(user=user).get(pk=id)
    except Deployment.DoesNotExist:
        raise Http404("no such deployment") from None


def deployment_authorisation_queue(*, user) -> QuerySet[Deployment]:
    require_capability(user=user, capability="authorise_deployment")
    return (deployment_list(user=user).filter(state=Deployment.State.SUBMITTED)
            .exclude(created_by=user).exclude(submitted_by=user).order_by("starts_at", "pk"))


def camera_policy(*, user, camera: Camera | None = None) -> frozenset[str]:
    """What ``user`` may do with cameras (with ``camera``, when given): "view", "create", "edit".

    Editing includes reading the source URL in clear (passwords and all)."""
    actions = set()
    if user_can(user=user, capability="view_deployment"):
        actions.add("view")
    if user_can(user=user, capability="plan_deployment"):
        actions |= {"create", "edit"}
    return frozenset(actions)


def camera_list(*, user) -> QuerySet[Camera]:
    require_capability(user=user, capability="view_deployment")
    return Camera.objects.order_by("name", "pk")


def access_camera(*, user, id: int) -> Camera:
    try:
        return camera_list(user=user).get(pk=id)
    except Camera.DoesNotExist:
        raise Http404("no such camera") from None
