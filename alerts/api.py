"""REST API for live testing: the test walks of a deployment (recorded by its operators, listed for those who
see its alerts). The services and selectors decide; see core/api.py for how their errors become responses."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status

from alerts import serializers as s
from alerts import services
from alerts.policies import TEST_WALK_REFUSED, test_walk_policy
from alerts.selectors import (
    deployment_test_subject,
    test_walks_for_deployment,
)
from core.api import ApiView, errors
from deployments.selectors import access_camera, access_deployment

LIVE_TESTING = ["live testing"]


class DeploymentTestWalksView(ApiView):
    required_capabilities = {"GET": ("view_alerts",), "POST": ("view_alerts",)}

    @extend_schema(tags=LIVE_TESTING, summary="A deployment's recorded test walks",
                   responses={200: s.TestWalkSerializer(many=True), **errors(404)})
    def get(self, request, pk: int):
        deployment = access_deployment(user=request.user, id=pk)
        return self.paginated(test_walks_for_deployment(user=request.user, deployment=deployment),
                              s.TestWalkSerializer)

    @extend_schema(tags=LIVE_TESTING, summary="Record a test walk: a consenting test subject walked past a camera",
                   description="By the deployment's assigned officers and authorising officers, while it is live "
                               "or shortly after it ended. Audited (test_walk.recorded).",
                   request=s.TestWalkCreateSerializer, responses={201: s.TestWalkSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        deployment = access_deployment(user=request.user, id=pk)
        if not test_walk_policy(user=request.user, deployment=deployment):
            raise PermissionDenied(TEST_WALK_REFUSED)
        data = self.input(s.TestWalkCreateSerializer)
        walk = services.test_walk_record(
            actor=request.user, deployment=deployment, camera=access_camera(user=request.user, id=data["camera"]),
            subject=deployment_test_subject(user=request.user, deployment=deployment, id=data["subject"]),
            walked_at=data.get("walked_at"))
        return self.output(s.TestWalkSerializer, walk, status_code=status.HTTP_201_CREATED,
                           headers={"Location": reverse("api:deployment-test-walks", kwargs={"pk": pk})})
