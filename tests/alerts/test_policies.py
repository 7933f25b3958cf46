"""alerts/policies.py: who sees a deployment's alerts and who records its test walks, per role. (The module is
imported whole: pytest would collect a function named test_... imported here.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.roles import Role
from alerts import policies
from alerts.policies import deployment_alert_access

pytestmark = pytest.mark.django_db
ROLES = ["detective", "commander", "officer", "oversight", "administrator", "outsider"]


@pytest.fixture
def deployment(detective, officer):
    from deployments.models import Deployment
    from watchlists.models import Watchlist

    now = timezone.now()
    deployment = Deployment.objects.create(
        name="d", purpose="crime_hotspot", location="x", location_reason="x", starts_at=now,
        ends_at=now + dt.timedelta(hours=1), threshold=0.6, necessity_statement="x", dpia_reference="x",
        watchlist=Watchlist.objects.create(name="w", purpose="p", compiled_by=detective), created_by=detective,
        state=Deployment.State.LIVE)
    deployment.officers.set([officer])
    return deployment


def test_alert_access_per_role(request, deployment):
    access = {role: deployment_alert_access(user=request.getfixturevalue(role), deployment=deployment)
              for role in ROLES}
    assert access == {"detective": None, "commander": "watch", "officer": "adjudicate", "oversight": "watch",
                      "administrator": None, "outsider": None}


def test_an_officer_not_assigned_sees_nothing(make_user, deployment):
    assert deployment_alert_access(user=make_user(Role.OFFICER), deployment=deployment) is None


def test_test_walks_are_recorded_by_assigned_officers_and_authorising_officers(request, make_user, deployment):
    assert {role for role in ROLES if policies.test_walk_policy(user=request.getfixturevalue(role), deployment=deployment)} == {
        "commander", "officer"}
    assert not policies.test_walk_policy(user=make_user(Role.OFFICER), deployment=deployment)  # not assigned
