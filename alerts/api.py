"""REST API for a control room's own tools: a deployment's alerts (listed, and caught up from the last one seen),
one alert, its adjudication and case link, its two images (read and audited); and live testing, the test
walks of a deployment (recorded by its operators, listed for those who see its alerts).

The same selectors and services as the live page (alerts/views.py): the same access (assigned officers
adjudicate, commanders and oversight watch), the same rules and audit events. See core/api.py for how their
errors become responses.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status

from alerts import serializers as s
from alerts import services
from alerts.policies import TEST_WALK_REFUSED, test_walk_policy
from alerts.selectors import (
    access_alert,
    alerts_for_deployment,
    deployment_test_subject,
    test_walks_for_deployment,
)
from core.api import IMAGE_BYTES, ApiView, ImageApiView, errors
from core.images import image_response
from deployments.selectors import access_camera, access_deployment

ALERTS = ["alerts"]
LIVE_TESTING = ["live testing"]
WHO_SEES = ("For the deployment's assigned officers, and the commanders and oversight who watch its alerts: an "
            "officer not assigned to it gets 404, a role without alerts 403.")


class DeploymentAlertsView(ApiView):
    required_capabilities = {"GET": ("view_alerts",)}

    @extend_schema(tags=ALERTS, summary="A deployment's alerts, oldest first (not audited; the images are)",
                   description=f"{WHO_SEES} `after_id` gives only the alerts raised since the last one seen, "
                               "like the live page's catch-up.",
                   parameters=[s.AlertListQuerySerializer], responses={200: s.AlertSerializer(many=True),
                                                                       **errors(400, 404)})
    def get(self, request, pk: int):
        deployment = access_deployment(user=request.user, id=pk)
        query = s.AlertListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.paginated(alerts_for_deployment(user=request.user, deployment=deployment,
                                                    after_id=query.validated_data["after_id"]), s.AlertSerializer)


class AlertDetailView(ApiView):
    required_capabilities = {"GET": ("view_alerts",)}

    @extend_schema(tags=ALERTS, summary="An alert, with its adjudications", description=WHO_SEES,
                   responses={200: s.AlertSerializer, **errors(404)})
    def get(self, request, pk: int):
        return self.output(s.AlertSerializer, access_alert(user=request.user, id=pk))


class AlertAdjudicationView(ApiView):
    required_capabilities = {"POST": ("adjudicate_alert",)}

    @extend_schema(tags=ALERTS, summary="Decide an alert (the deployment's assigned officers; audited)",
                   description="Stage 1, the decision on the images: a match (\"confirmed\"), not a match, or "
                               "cannot tell. With two-person confirmation on (ALERT_TWO_PERSON_CONFIRMATION), a first "
                               "\"confirmed\" leaves the alert awaiting verification, and a second officer decides "
                               "it. Demographics go with \"not a match\". The engagement is stage 2 (its own "
                               "endpoint). The alert's version as last read is checked (409 when it changed).",
                   request=s.AlertAdjudicateSerializer, responses={200: s.AlertSerializer, **errors(400, 404, 409)})
    def post(self, request, pk: int):
        alert = access_alert(user=request.user, id=pk)
        data = self.input(s.AlertAdjudicateSerializer)
        alert = services.alert_adjudicate(
            actor=request.user, alert=alert, decision=data["decision"], notes=data["notes"],
            outcome=data["outcome"], demographics=data["demographics"], expected_version=data["expected_version"])
        return self.output(s.AlertSerializer, access_alert(user=request.user, id=alert.pk))


class AlertEngagementView(ApiView):
    required_capabilities = {"POST": ("adjudicate_alert",)}

    @extend_schema(tags=ALERTS, summary="Record the engagement, stage 2 (the deployment's assigned officers; audited)",
                   description="After the decision on the images, for true and false alerts alike: whether the "
                               "person was engaged, whether that confirmed their identity (if not, an innocent "
                               "person was stopped: give the minutes), and the result. Once per alert; a correction "
                               "is an amendment. 409 when the alert's version changed.",
                   request=s.AlertEngagementSerializer, responses={200: s.AlertSerializer, **errors(400, 404, 409)})
    def post(self, request, pk: int):
        alert = access_alert(user=request.user, id=pk)
        data = self.input(s.AlertEngagementSerializer)
        services.alert_engagement_record(
            actor=request.user, alert=alert, engaged=data["engaged"], identity_confirmed=data["identity_confirmed"],
            stop_minutes=data["stop_minutes"], result=data["result"], notes=data["notes"],
            expected_version=data["expected_version"])
        return self.output(s.AlertSerializer, access_alert(user=request.user, id=pk))


class AlertAmendmentView(ApiView):
    required_capabilities = {"POST": ("adjudicate_alert",)}

    @extend_schema(tags=ALERTS, summary="Amend one's own decision, stage 1 or 2, with a reason (audited)",
                   description="Within ALERT_DECISION_AMEND_MINUTES of the decision first made, by the officer "
                               "who made it (403 for anyone else; 400 after the window, or for a decision a second "
                               "officer verified). A new row naming the one it replaces: the history stays, the "
                               "latest counts.",
                   request=s.AlertAmendmentSerializer, responses={200: s.AlertSerializer, **errors(400, 403, 404, 409)})
    def post(self, request, pk: int, adjudication_pk: int):
        alert = access_alert(user=request.user, id=pk)
        data = self.input(s.AlertAmendmentSerializer)
        stage_two = {} if data["engaged"] is None else {
            "engaged": data["engaged"], "identity_confirmed": data["identity_confirmed"],
            "stop_minutes": data["stop_minutes"], "result": data["result"]}
        services.alert_decision_amend(
            actor=request.user, alert=alert, adjudication_id=adjudication_pk, reason=data["reason"],
            decision=data["decision"], notes=data["notes"], demographics=data["demographics"],
            expected_version=data["expected_version"], **stage_two)
        return self.output(s.AlertSerializer, access_alert(user=request.user, id=pk))


class AlertCaseLinkView(ApiView):
    required_capabilities = {"POST": ("adjudicate_alert",)}

    @extend_schema(tags=ALERTS, summary="Link an alert to an ongoing case (the deployment's assigned officers; "
                                        "audited)",
                   description="A linked alert is kept beyond the retention period (ALERT_RETENTION_DAYS), with "
                               "its camera image, for the case.",
                   request=s.AlertCaseLinkSerializer, responses={200: s.AlertSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        alert = access_alert(user=request.user, id=pk)
        data = self.input(s.AlertCaseLinkSerializer)
        services.alert_case_link(actor=request.user, alert=alert, case_reference=data["case_reference"])
        return self.output(s.AlertSerializer, access_alert(user=request.user, id=pk))


class _AlertImageView(ImageApiView):
    required_capabilities = {"GET": ("view_alerts",)}
    image = ""  # "probe" or "reference": alerts.services.alert_image_read

    def get(self, request, pk: int):
        alert = access_alert(user=request.user, id=pk)
        query = s.AlertImageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = services.alert_image_read(actor=request.user, alert=alert, image=self.image, **query.validated_data)
        return image_response(data, filename=f"alert-{alert.pk}-{self.image}")


class AlertProbeImageView(_AlertImageView):
    image = "probe"

    @extend_schema(tags=ALERTS, summary="The camera's face crop of an alert (every read is audited; never cached)",
                   description=f"{WHO_SEES} 410 when the file is missing from storage (the attempt is audited).",
                   parameters=[s.AlertImageQuerySerializer], responses={**IMAGE_BYTES, **errors(400, 404, 410)})
    def get(self, request, pk: int):
        return super().get(request, pk)


class AlertReferenceImageView(_AlertImageView):
    image = "reference"

    @extend_schema(tags=ALERTS, summary="The watchlist image beside an alert's face crop (every read is audited; "
                                        "never cached)",
                   description=f"{WHO_SEES} 410 when the image has since been purged, or its file is missing from "
                               "storage. `crop=face`: cut around the face box enrolment stored (the whole image "
                               "when it stored none).",
                   parameters=[s.AlertImageQuerySerializer], responses={**IMAGE_BYTES, **errors(400, 404, 410)})
    def get(self, request, pk: int):
        return super().get(request, pk)


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
