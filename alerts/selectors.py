from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.permissions import require_capability
from alerts.models import Adjudication, Alert, TestWalk
from alerts.policies import deployment_alert_access, test_walk_policy
from deployments.models import Deployment, ManifestEntry
from watchlists.models import InclusionCategory


def alert_payloads() -> QuerySet[Alert]:
    """Alerts with everything their payload reads (alerts.payloads.alert_payload for the live page, its JSON
    catch-up and the websocket; alerts.serializers.AlertSerializer for the API): the camera in the same
    query, the adjudications with their officers in one more, however many alerts.

    Not permission-checked: for the selectors below, and for the websocket and its broadcast, which check
    the watcher's access to the deployment themselves."""
    return Alert.objects.select_related("camera").prefetch_related(
        Prefetch("adjudications", queryset=Adjudication.objects.select_related("officer")))


def alerts_for_deployment(*, user, deployment: Deployment, after_id: int = 0) -> QuerySet[Alert]:
    require_capability(user=user, capability="view_alerts")
    if deployment_alert_access(user=user, deployment=deployment) is None:
        raise Http404("no such deployment")
    return alert_payloads().filter(deployment=deployment, pk__gt=after_id).order_by("pk")


def access_alert(*, user, id: int) -> Alert:
    """The alert, ready for its payload, for whoever may see the deployment's alerts; 404 for anyone else."""
    require_capability(user=user, capability="view_alerts")
    alert = alert_payloads().select_related("deployment").filter(pk=id).first()
    if alert is None or deployment_alert_access(user=user, deployment=alert.deployment) is None:
        raise Http404("no such alert")
    return alert


# --- live testing with consenting test subjects ------------------------------------------------------

def test_walks_for_deployment(*, user, deployment: Deployment) -> QuerySet[TestWalk]:
    require_capability(user=user, capability="view_alerts")
    if deployment_alert_access(user=user, deployment=deployment) is None:
        raise Http404("no such deployment")
    return (TestWalk.objects.filter(deployment=deployment).select_related("camera", "subject", "recorded_by")
            .order_by("walked_at", "pk"))


def access_test_walk(*, user, id: int) -> TestWalk:
    require_capability(user=user, capability="view_alerts")
    walk = TestWalk.objects.select_related("deployment", "camera", "subject", "recorded_by").filter(pk=id).first()
    if walk is None or deployment_alert_access(user=user, deployment=walk.deployment) is None:
        raise Http404("no such test walk")
    return walk


def deployment_test_subjects(*, deployment: Deployment) -> QuerySet[ManifestEntry]:
    """The test subjects frozen into the deployment's watchlist (its manifest), for the test walk form."""
    return ManifestEntry.objects.filter(deployment=deployment, category=InclusionCategory.TEST_SUBJECT).order_by(
        "name", "subject_id")


def deployment_test_subject(*, user, deployment: Deployment, id: int):
    """A test subject of the deployment's frozen watchlist, for those who may record its test walks."""
    from watchlists.models import Subject

    if not test_walk_policy(user=user, deployment=deployment):
        raise Http404("no such test subject")
    if not deployment_test_subjects(deployment=deployment).filter(subject_id=id).exists():
        raise Http404("no such test subject")
    return Subject.objects.get(pk=id)


def alert_spool_size() -> int:
    """Matches spooled on this host's disk and not yet written to PostgreSQL (for health and metrics)."""
    from alerts.spool import alert_spool

    return alert_spool().size()
